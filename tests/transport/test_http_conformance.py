"""Client JSON and GraphQL over HTTP on the live server: syntax errors are counted as
errors, and no nesting reaches a RecursionError."""

import json
import logging

import pytest

from tests.app.test_metrics import scrape, value
from tests.mt5.test_ingest import post

DEEP = 100_000


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


async def post_graphql(api, body, accept: str | None = None, **headers: str):
    all_headers = {"content-type": "application/json", **headers}
    if accept is not None:
        all_headers["accept"] = accept
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await api.client.post(f"{api.base_url}/graphql", content=content, headers=all_headers)


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
