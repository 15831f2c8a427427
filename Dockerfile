# Fidus API image: production mode (MONGODB_URL and REDIS_URL required, no embedded DB).
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /srv/fidus
RUN useradd --system --create-home --uid 10001 fidus
COPY pyproject.toml README.md ./
COPY app ./app
COPY schema ./schema
COPY resolvers ./resolvers
COPY models ./models
COPY subscriptions ./subscriptions
RUN pip install .
USER fidus
EXPOSE 8000
# GraphiQL off (introspection follows it) unless the operator turns it on
ENV FIDUS_HOST=0.0.0.0 FIDUS_PORT=8000 FIDUS_GRAPHIQL=false
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/ready').status != 200)"
CMD ["fidus", "serve"]
