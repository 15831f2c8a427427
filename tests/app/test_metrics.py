"""GET /metrics: Prometheus text with GraphQL operations by name and outcome, HTTP
requests by route, active subscriptions, ticks ingested/rejected; optionally token-gated."""

import asyncio
import secrets
import threading
from collections.abc import Iterator

from gql import Client, gql
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import SecretStr
from starlette.routing import Mount, Route

from app.metrics import METHODS
from tests.support.metrics import scrape, value
from tests.support.mt5 import post, tick
from tests.support.ws import transport


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


# methods the HTTP parser accepts but Fidus routes none of, and tokens it may refuse itself
ODD_METHODS = ("PROPFIND", "MKCOL", "PURGE", "SEARCH", "LOCK", "TRACE", "REPORT", "X-SCAN")


async def test_random_paths_and_methods_add_no_series(api, app):
    """A scanner's paths and methods all land on ``other``; a matched route is labelled by
    its template, never by the ids in the path."""
    tokens = [secrets.token_hex(6) for _ in range(200)]
    probes = [f"/wp_{token}/admin" for token in tokens[:150]]
    probes += [f"/documents/{token}/download" for token in tokens[150:175]]
    probes += [f"/events/evt_{token}.ics" for token in tokens[175:]]
    for index, path in enumerate(probes):
        method = ODD_METHODS[index % len(ODD_METHODS)] if index % 2 else "GET"
        response = await api.client.request(method, f"{api.base_url}{path}")
        assert response.status_code < 500
    for method in ODD_METHODS:
        await api.client.request(method, f"{api.base_url}/graphql")

    samples = await scrape(api)
    http = [dict(labels) for name, labels in samples if name.startswith("fidus_http_")]
    templates = {r.path_format for r in app.routes if isinstance(r, Route | Mount)}
    assert {labels["route"] for labels in http} <= templates | {"other"}
    assert {"/documents/{id}/download", "/events/{event_id}.ics"} <= {
        labels["route"] for labels in http
    }
    assert {labels["method"] for labels in http if "method" in labels} <= METHODS | {"other"}
    text = (await api.client.get(f"{api.base_url}/metrics")).text
    assert not any(token in text for token in tokens)


class ThreadRecorder(Collector):
    """Records which thread collects it (the one that renders /metrics)."""

    def __init__(self) -> None:
        self.threads: list[int] = []

    def collect(self) -> Iterator[GaugeMetricFamily]:
        self.threads.append(threading.get_ident())
        yield GaugeMetricFamily("fidus_test_probe", "which thread renders the scrape", 1)


async def test_a_scrape_is_rendered_off_the_event_loop(api):
    recorder = ThreadRecorder()
    REGISTRY.register(recorder)
    recorder.threads.clear()  # registering collects once, here
    try:
        await scrape(api)
    finally:
        REGISTRY.unregister(recorder)
    # the server runs in this test's event loop: its thread must not be the one rendering
    assert recorder.threads and threading.get_ident() not in recorder.threads


async def test_beyond_loopback_metrics_need_a_token(api, runtime, monkeypatch):
    monkeypatch.setattr(runtime.settings, "host", "0.0.0.0")  # noqa: S104 - what is tested
    refused = await api.client.get(f"{api.base_url}/metrics")
    assert refused.status_code == 403 and "FIDUS_METRICS_TOKEN" in refused.text
    assert "fidus_" not in refused.text
    monkeypatch.setattr(runtime.settings, "metrics_token", SecretStr("scrape-secret-123"))
    assert (await api.client.get(f"{api.base_url}/metrics")).status_code == 401
    assert await scrape(api, "scrape-secret-123")
