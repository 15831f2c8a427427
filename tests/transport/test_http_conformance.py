"""GraphQL over HTTP as the spec (https://graphql.github.io/graphql-over-http/draft/) and
graphql-http's server audits want it, over the live server: request errors are 4xx with a
coded GraphQL error and no Python text, application/graphql-response+json gets the spec's
status codes, nothing before execution returns ``data``, and no JSON nesting reaches a
RecursionError."""

import asyncio
import json
import logging
from pathlib import Path

import pytest
import websockets

from tests.support.api import refused
from tests.support.metrics import scrape, value
from tests.support.mt5 import post
from tests.support.ws import PROTOCOL

GRAPHQL_RESPONSE = "application/graphql-response+json"
DEEP = 100_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def post_graphql(api, body, accept: str | None = None, **headers: str):
    all_headers = {"content-type": "application/json", **headers}
    if accept is not None:
        all_headers["accept"] = accept
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.post(f"{api.base_url}/graphql", content=content, headers=all_headers)


async def test_graphql_http_server_audits_all_pass(base_url, node_project: Path) -> None:
    """Every audit of graphql-http's serverAudits (MUST, SHOULD and MAY) is ok."""
    process = await asyncio.create_subprocess_exec(
        "node",
        str(node_project / "audit.mjs"),
        f"{base_url}/graphql",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()
    results = json.loads(stdout)
    assert len(results) > 50  # the whole list ran
    failing = [
        f"{r['id']} {r['status']}: {r['name']} ({r['reason']}; got {r['response']})"
        for r in results
        if r["status"] != "ok"
    ]
    assert failing == []


@pytest.mark.parametrize("body", [b"[]", b"[{}]", b"1", b'"query"', b"null", b"true"])
async def test_a_body_that_is_not_a_json_object_is_400(api, body) -> None:
    refused(await post_graphql(api, body))


@pytest.mark.parametrize(
    ("parameter", "wrong"),
    [
        ("operationName", 1),
        ("operationName", ["Q"]),
        ("operationName", {"name": "Q"}),
        ("operationName", False),
        ("query", 0),
        ("query", {"q": 1}),
        ("variables", "x"),
        ("variables", [1]),
        ("extensions", 1),
        ("extensions", "x"),
    ],
)
async def test_a_parameter_of_the_wrong_type_is_400_naming_it(api, parameter, wrong) -> None:
    body = {"query": "query Q { __typename }", parameter: wrong}
    message = refused(await post_graphql(api, body))
    assert f"`{parameter}`" in message


async def test_a_mutation_over_get_is_405_allowing_post(api) -> None:
    response = await api.client.get(
        f"{api.base_url}/graphql",
        params={"query": 'mutation { requestPasswordReset(tenant: "a", email: "b@c.de") }'},
    )
    assert "POST" in refused(response, 405)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_a_subscription_over_http_is_a_client_error(api, world, method, caplog) -> None:
    query = 'subscription { ticks(symbols: ["XAUUSD"]) { bid } }'
    headers = {"authorization": f"Bearer {world('acme', 'investor').token}"}
    if method == "GET":
        response = await api.client.get(
            f"{api.base_url}/graphql", params={"query": query}, headers=headers
        )
    else:
        response = await post_graphql(api, {"query": query}, **headers)
    assert "WebSocket" in refused(response)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        ("{", None),  # syntax
        ("{ noSuchField }", None),  # validation
        ("query($id: ID!) { user(id: $id) { id } }", {"id": None}),  # variable coercion
    ],
)
async def test_errors_before_execution_have_no_data(api, query, variables) -> None:
    """application/graphql-response+json: 400; application/json: 200 (the legacy rule);
    neither has a ``data`` entry."""
    body = {"query": query, "variables": variables}
    modern = await post_graphql(api, body, accept=GRAPHQL_RESPONSE)
    assert modern.status_code == 400
    assert modern.headers["content-type"] == GRAPHQL_RESPONSE
    legacy = await post_graphql(api, body, accept="application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"] == "application/json"
    for response in (modern, legacy):
        assert "data" not in response.json()
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_executed_operation_is_200_even_with_errors(api) -> None:
    """A field error during execution (anonymous ``me``) leaves ``data`` (null): 200."""
    response = await post_graphql(api, {"query": "{ me { id } }"}, accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE
    body = response.json()
    assert "data" in body and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_rate_limited_operation_is_429_with_retry_after(api, world, tight) -> None:
    tight(per_user=1, per_address=1000, auth_per_address=1000)
    investor = world("acme", "investor")
    mutation = {"query": 'mutation { updateProfile(input: {fullName: "Ann"}) { id } }'}
    auth = {"authorization": f"Bearer {investor.token}"}
    first = await post_graphql(api, mutation, accept=GRAPHQL_RESPONSE, **auth)
    assert first.status_code == 200 and "errors" not in first.json()
    limited = await post_graphql(api, mutation, accept=GRAPHQL_RESPONSE, **auth)
    assert limited.status_code == 429
    assert "data" not in limited.json()
    assert int(limited.headers["retry-after"]) >= 1


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("text/plain", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, application/json;q=0.9", GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE};q=0.5", "application/json"),
        (f"{GRAPHQL_RESPONSE};q=0, */*", "application/json"),
    ],
)
async def test_the_response_media_type_follows_accept(api, accept, media_type) -> None:
    response = await post_graphql(api, {"query": "{ __typename }"}, accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type


async def test_request_errors_use_the_accepted_media_type(api) -> None:
    response = await post_graphql(api, b"{nope", accept=GRAPHQL_RESPONSE)
    refused(response)
    assert response.headers["content-type"] == GRAPHQL_RESPONSE


async def test_syntax_errors_count_as_errors_in_metrics_and_logs(api, caplog) -> None:
    caplog.set_level(logging.INFO, logger="fidus.graphql")
    before = await scrape(api)
    await post_graphql(api, {"query": "query Broken {", "operationName": "Broken"})
    after = await scrape(api)
    labels = {"operation": "Broken", "type": "unknown", "outcome": "BAD_USER_INPUT"}
    counted = value(after, "fidus_graphql_operations_total", **labels)
    assert counted - value(before, "fidus_graphql_operations_total", **labels) == 1
    [entry] = [r for r in caplog.records if getattr(r, "operation", None) == "Broken"]
    assert entry.error_codes == ["BAD_USER_INPUT"]


# Deeply nested JSON: every decoder the server runs on client JSON answers 400, never a
# RecursionError (500, or a dropped connection).


@pytest.mark.parametrize("depth", [65, DEEP])
async def test_a_deeply_nested_body_is_400(api, depth) -> None:
    message = refused(await post_graphql(api, nested(depth).encode()))
    assert "nested deeper than 64 levels" in message


def with_variable(value: str) -> bytes:
    return b'{"query": "{ __typename }", "variables": {"v": ' + value.encode() + b"}}"


@pytest.mark.parametrize("depth", [63, DEEP])  # 63 lists in an object in the body: 65 levels
async def test_deeply_nested_variables_are_400(api, depth) -> None:
    response = await post_graphql(api, with_variable(nested(depth)))
    assert "nested deeper than 64 levels" in refused(response)


async def test_nesting_within_the_limit_is_decoded(api) -> None:
    """64 levels (an unused variable: harmless) pass the decoder and run."""
    response = await post_graphql(api, with_variable(nested(62)))
    assert response.status_code == 200 and "errors" not in response.json()


@pytest.mark.parametrize("parameter", ["variables", "extensions"])
@pytest.mark.parametrize("depth", [64, 1500])  # 1500: past orjson's own bound (URL length)
async def test_deeply_nested_get_parameters_are_400(api, parameter, depth) -> None:
    response = await api.client.get(
        f"{api.base_url}/graphql",
        params={"query": "{ __typename }", parameter: '{"v": ' + nested(depth) + "}"},
    )
    assert f"`{parameter}` is nested deeper than 64 levels" in refused(response)


@pytest.mark.parametrize("route", ["/mt5/ticks", "/mt5/accounts"])
@pytest.mark.parametrize("body", [nested(DEEP), '{"ticks": [1, NaN, ' + nested(DEEP) + "]}"])
async def test_deeply_nested_mt5_bodies_are_400(api, ingest_token, route, body) -> None:
    """Also when a NaN literal sends the body to the lenient decoder first."""
    response = await api.client.post(
        f"{api.base_url}{route}",
        content=body.encode(),
        headers={"authorization": f"Bearer {ingest_token}", "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": "body is nested deeper than 64 levels",
        "code": "BAD_USER_INPUT",
    }


async def test_nan_ticks_are_still_decoded_and_rejected_one_by_one(api, ingest_token) -> None:
    response = await post(api, ingest_token, None, raw=b'{"ticks": [{"bid": NaN}]}')
    assert response.status_code == 200 and response.json()["accepted"] == 0


async def test_a_deeply_nested_websocket_frame_closes_4400(base_url, world) -> None:
    url = base_url.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL], max_size=None) as connection:
        await connection.send(nested(DEEP))
        with pytest.raises(websockets.ConnectionClosed):
            await asyncio.wait_for(connection.recv(), 10)
        assert connection.close_code == 4400
