"""Optional OpenTelemetry tracing: GraphQL operations and resolvers become spans through
Strawberry's extension, HTTP requests through the ASGI middleware; off by default."""

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app import tracing
from schema import SchemaLimits, build_schema
from tests.conftest import make_settings
from tests.support.servers import live_server


async def test_spans_for_operations_and_requests(mongo_url):
    settings = make_settings(mongo_url, None, otel_enabled=True, otel_service_name="fidus-test")
    exporter = InMemorySpanExporter()
    provider = tracing.configure(settings, exporter)
    schema = build_schema(SchemaLimits(), tracing.schema_extensions(settings))
    result = await schema.execute("query Probe { __typename }")
    assert result.data == {"__typename": "Query"}

    async def hello(request):
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/hello", hello)], middleware=tracing.middleware(settings))
    async with live_server(app) as url, httpx.AsyncClient() as client:
        assert (await client.get(f"{url}/hello")).status_code == 200
    provider.force_flush()
    names = [span.name for span in exporter.get_finished_spans()]
    assert any("GraphQL Query" in name for name in names), names
    assert any(name.startswith("GET") for name in names), names
    resource = exporter.get_finished_spans()[0].resource.attributes
    assert resource["service.name"] == "fidus-test"


def test_tracing_is_off_by_default(mongo_url):
    settings = make_settings(mongo_url, None)
    assert tracing.schema_extensions(settings) == [] and tracing.middleware(settings) == []
