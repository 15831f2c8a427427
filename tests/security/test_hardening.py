"""HTTP hardening and query limits through the real server: security headers, body size
limit (declared and streamed), CORS allow-list, query cost analysis, introspection off."""

import httpx
import pytest
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.security import middleware
from schema import SchemaLimits, build_schema
from tests.conftest import make_settings
from tests.support.servers import live_server

EXPENSIVE = """query($n: Int) { opportunities(first: $n) { edges { node {
  interests { investor { id email fullName } opportunity { interests { id } } } } } } }"""


async def test_security_headers_on_api_responses(api):
    response = await api.client.post(f"{api.base_url}/graphql", json={"query": "{ __typename }"})
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "strict-transport-security" not in headers  # only with FIDUS_HSTS behind TLS
    page = await api.client.get(f"{api.base_url}/graphql", headers={"accept": "text/html"})
    assert "text/html" in page.headers["content-type"]
    # the deny-all policy would blank the page: an HTML page sets its own (or none)
    assert page.headers.get("content-security-policy") != headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


async def test_bodies_above_the_limit_are_refused(api):
    big = {"query": "{ __typename }", "variables": {"pad": "x" * 1_100_000}}
    declared = await api.client.post(f"{api.base_url}/graphql", json=big)
    assert declared.status_code == 413
    assert declared.json() == {
        "error": "request body above 1048576 bytes",
        "code": "BAD_USER_INPUT",
    }

    async def chunks():
        for _ in range(40):
            yield b"x" * 65_536

    streamed = await api.client.post(
        f"{api.base_url}/graphql", content=chunks(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    fine = await api.client.post(f"{api.base_url}/graphql", json={"query": "{ __typename }"})
    assert fine.status_code == 200


async def test_cors_answers_only_allowed_origins(mongo_url, redis_url):
    settings = make_settings(
        mongo_url, redis_url, cors_origins=["https://app.fidus.test"], cors_allow_credentials=True
    )

    async def hello(request):
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[Route("/graphql", hello, methods=["POST"])], middleware=middleware(settings)
    )
    preflight = {
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
    }
    async with live_server(app) as url, httpx.AsyncClient() as client:
        allowed = await client.options(
            f"{url}/graphql", headers={"origin": "https://app.fidus.test", **preflight}
        )
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.fidus.test"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        refused = await client.options(
            f"{url}/graphql", headers={"origin": "https://evil.test", **preflight}
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = await client.post(f"{url}/graphql", headers={"origin": "https://evil.test"})
        assert "access-control-allow-origin" not in simple.headers


def test_a_wildcard_origin_cannot_carry_credentials(mongo_url):
    with pytest.raises(ValidationError, match="cannot be \\*"):
        make_settings(mongo_url, None, cors_origins=["*"], cors_allow_credentials=True)
    with pytest.raises(ValidationError, match="must start with"):
        make_settings(mongo_url, None, cors_origins=["app.fidus.test"])


async def test_query_cost_is_limited_with_page_sizes_from_variables(api, world):
    investor = world("acme", "investor")
    refused = await api.gql(EXPENSIVE, {"n": 100}, token=investor.token)
    assert refused.code == "BAD_USER_INPUT"
    assert refused.errors[0]["extensions"]["cost"] > 10_000
    assert "exceeds the limit of 10000" in refused.errors[0]["message"]
    assert (await api.gql(EXPENSIVE, {"n": 5}, token=investor.token)).ok()


async def test_introspection_can_be_turned_off():
    query = "{ __schema { queryType { name } } }"
    off = await build_schema(SchemaLimits(introspection=False)).execute(query)
    assert off.errors and "introspection" in off.errors[0].message.lower()
    on = await build_schema(SchemaLimits()).execute(query)
    assert on.data == {"__schema": {"queryType": {"name": "Query"}}}
