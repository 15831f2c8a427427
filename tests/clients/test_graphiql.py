"""GraphiQL served offline by Fidus: the page, its assets and CSP over HTTP, then the real
thing in Debian's headless Chromium (playwright-core): no external request, a query with a
Bearer token from the headers editor, a mutation, a live tick on a subscription, and a screenshot.
Both run against this checkout's app and against ``fidus serve`` of the installed wheel."""

from pathlib import Path
from urllib.parse import urlsplit

import pytest

from app import graphiql
from tests.clients.conftest import ARTIFACTS, NodeScript
from tests.support.mt5 import post, tick

HTML = {"accept": "text/html"}


async def test_the_page_loads_only_local_assets_under_a_strict_policy(served):
    api = served
    page = await api.client.get(f"{api.base_url}/graphql", headers=HTML)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy
    assert "connect-src 'self'" in policy and "http" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "//" not in page.text.replace("<!doctype html>", "")  # no absolute URL at all
    for asset, kind in (("graphiql.js", "javascript"), ("graphiql.css", "text/css")):
        assert f'"/graphiql/{asset}"' in page.text
        response = await api.client.get(f"{api.base_url}/graphiql/{asset}")
        assert response.status_code == 200 and kind in response.headers["content-type"]
    assert (await api.client.get(f"{api.base_url}/graphiql/nothing.js")).status_code == 404


async def test_the_page_says_how_to_build_missing_assets(monkeypatch, tmp_path):
    monkeypatch.setattr(graphiql, "ASSETS_DIR", tmp_path)
    response = graphiql.page()
    assert response.status_code == 503
    assert b"scripts/node-setup graphiql" in response.body


def test_graphiql_off_serves_neither_page_nor_assets():
    assert graphiql.routes(False) == []
    assert [route.path for route in graphiql.routes(True)] == ["/graphiql"]  # type: ignore[attr-defined]


@pytest.mark.timeout(180)
async def test_graphiql_in_headless_chromium(
    served, world, ingest_token, node_projects, chromium, capsys, request
):
    api, base_url = served, served.base_url
    ARTIFACTS.mkdir(exist_ok=True)
    which = request.node.callspec.params["served"]
    screenshot = ARTIFACTS / ("graphiql.png" if which == "checkout" else f"graphiql-{which}.png")
    screenshot.unlink(missing_ok=True)
    investor = world("acme", "investor")
    browser = await NodeScript.start(
        node_projects / "graphiql.mjs",
        base_url,
        investor.token,
        str(screenshot),
        env={"CHROMIUM_PATH": str(chromium)},
    )
    try:
        loaded = await browser.until("page", within=60)
        assert loaded["page"] == 200 and "script-src 'self'" in loaded["csp"]
        assert (await browser.until("headers"))["headers"] is True

        query = (await browser.until("query"))["query"]
        assert query == {"data": {"me": {"email": investor.email, "role": "INVESTOR"}}}

        mutation = (await browser.until("mutation"))["mutation"]
        assert mutation == {
            "data": {"createPortfolio": {"name": "From GraphiQL", "baseCurrency": "CHF"}}
        }

        await browser.until("subscribed")

        async def send(attempt: int) -> None:
            await post(api, ingest_token, {"ticks": [tick(bid=2000.0 + attempt, ask=2100.0)]})

        live = (await browser.until_while("tick", send))["tick"]
        assert live["data"]["ticks"]["symbol"] == "XAUUSD"
        assert live["data"]["ticks"]["ask"] == 2100.0

        assert Path((await browser.until("screenshot"))["screenshot"]) == screenshot
        finished = await browser.until("requests")
        assert await browser.finish() == 0
    finally:
        await browser.stop()

    local = urlsplit(base_url).netloc
    requests = finished["requests"]
    assert any(url.endswith("/graphiql/graphiql.js") for url in requests)
    assert any(url.startswith(f"ws://{local}/graphql") for url in requests)
    external = [url for url in requests if urlsplit(url).netloc != local]
    assert external == [], f"GraphiQL made requests outside Fidus: {external}"
    assert finished["problems"] == [], finished["problems"]
    assert screenshot.stat().st_size > 10_000
    with capsys.disabled():
        print(f"\nGraphiQL screenshot: {screenshot}")
