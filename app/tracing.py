"""Optional OpenTelemetry tracing (FIDUS_OTEL_ENABLED): a span per HTTP request and
WebSocket connection (ASGI instrumentation) and per GraphQL operation and resolver
(Strawberry's OpenTelemetry extension), exported over OTLP/HTTP to
FIDUS_OTEL_ENDPOINT (or the standard OTEL_EXPORTER_OTLP_* variables). The packages are
the ``otel`` extra; without them, enabling tracing stops the start with a clear message."""

from typing import Any

from starlette.middleware import Middleware

from app.settings import Settings


class TracingUnavailable(RuntimeError):
    pass


def configure(settings: Settings, exporter: Any | None = None) -> Any:
    """Install a tracer provider exporting through ``exporter`` (default: OTLP/HTTP);
    returns it (tests read its spans through an in-memory exporter)."""
    try:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise TracingUnavailable(
            "FIDUS_OTEL_ENABLED needs the otel extra: pip install 'fidus[otel]'"
        ) from exc
    provider = TracerProvider(
        resource=Resource.create({"service.name": settings.otel_service_name})
    )
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otel_endpoint
        exporter = OTLPSpanExporter(endpoint=endpoint) if endpoint else OTLPSpanExporter()
        provider.add_span_processor(BatchSpanProcessor(exporter))
    else:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def schema_extensions(settings: Settings) -> list[Any]:
    if not settings.otel_enabled:
        return []
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return [OpenTelemetryExtension]


def middleware(settings: Settings) -> list[Middleware]:
    if not settings.otel_enabled:
        return []
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

    return [Middleware(OpenTelemetryMiddleware, excluded_urls="/health,/health/ready,/metrics")]
