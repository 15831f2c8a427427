"""GET /metrics: Prometheus text with GraphQL operations by name and outcome, HTTP
requests by route, active subscriptions, ticks ingested/rejected; optionally token-gated."""

import asyncio

from gql import Client, gql
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from tests.mt5.test_ingest import post, tick
from tests.transport.test_websocket import transport


async def scrape(api, token: str | None = None) -> dict[tuple[str, tuple], float]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await api.client.get(f"{api.base_url}/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_operations_ticks_and_subscriptions_are_counted(api, world, base_url, ingest_token):
    investor = world("acme", "investor")
    before = await scrape(api)
    await api.gql("query Me { me { id } }", token=investor.token)
    await api.gql("query Me { me { id } }")  # anonymous caller: UNAUTHENTICATED
    await post(api, ingest_token, {"ticks": [tick("MET"), tick("MET", bid=-1.0)]})
    async with Client(transport=transport(base_url, investor.token)) as session:
        stream = session.subscribe(gql('subscription Live { ticks(symbols: ["MET"]) { bid } }'))
        task = asyncio.ensure_future(stream.__anext__())
        for _ in range(50):
            during = await scrape(api)
            if value(during, "fidus_active_subscriptions") >= 1:
                break
            await asyncio.sleep(0.1)
        task.cancel()
    after = await scrape(api)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    ok = {"operation": "Me", "type": "query", "outcome": "ok"}
    assert delta("fidus_graphql_operations_total", **ok) == 1
    denied = {**ok, "outcome": "UNAUTHENTICATED"}
    assert delta("fidus_graphql_operations_total", **denied) == 1
    assert delta("fidus_graphql_operation_seconds_count", operation="Me", type="query") == 2
    assert delta("fidus_ticks_ingested_total") == 1
    assert delta("fidus_ticks_rejected_total", reason="bid") == 1
    assert value(during, "fidus_active_subscriptions") >= 1
    assert delta("fidus_http_requests_total", method="POST", route="/mt5/ticks", status="200") == 1
    assert "fidus_broker_reconnects_total" in {name for name, _ in after}


async def test_operation_names_cannot_blow_up_the_label_set(api, world):
    investor = world("acme", "investor")
    for name in ("weird-name", "x" * 100):
        await api.gql(f"query {name} {{ me {{ id }} }}", token=investor.token)
    samples = await scrape(api)
    operations = {
        dict(labels).get("operation") for (n, labels) in samples if n.startswith("fidus_graphql")
    }
    assert "weird-name" not in operations and "x" * 100 not in operations


async def test_a_metrics_token_gates_the_route(api, runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "metrics_token", SecretStr("scrape-secret-123"))
    refused = await api.client.get(f"{api.base_url}/metrics")
    wrong = await api.client.get(
        f"{api.base_url}/metrics", headers={"authorization": "Bearer nope"}
    )
    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert await scrape(api, "scrape-secret-123")
