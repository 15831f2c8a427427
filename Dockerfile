# Fidus API image: production mode (MONGODB_URL and REDIS_URL required, no embedded DB).

# GraphiQL's offline bundle, built from web/graphiql's lockfile and sources by the same
# build.mjs as scripts/node-setup (reproducible: the same bytes as app/static/graphiql).
FROM node:20-slim AS graphiql
WORKDIR /build/web/graphiql
COPY web/graphiql/package.json web/graphiql/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY web/graphiql/build.mjs ./
COPY web/graphiql/src ./src
RUN node build.mjs /build/graphiql

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
# the bundle comes from the Node stage only (.dockerignore leaves the committed copy out)
COPY --from=graphiql /build/graphiql/ ./app/static/graphiql/
RUN pip install . \
  && cd / && python -c "import sys; from app import graphiql; sys.exit(not graphiql.assets_built())"
USER fidus
EXPOSE 8000
# GraphiQL off (introspection follows it) unless the operator turns it on
ENV FIDUS_HOST=0.0.0.0 FIDUS_PORT=8000 FIDUS_GRAPHIQL=false
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/health/ready').status != 200)"
CMD ["fidus", "serve"]
