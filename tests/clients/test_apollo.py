"""An Apollo Client (Node: @apollo/client + graphql-ws) against the real server, with the
operation documents graphql-codegen types: login and createPortfolio (mutations),
myPortfolios (query) over HTTP, and a ticks subscription that receives a live tick."""

import pytest

from tests.clients.conftest import NodeScript
from tests.conftest import PASSWORD
from tests.support.mt5 import post, tick


@pytest.mark.timeout(90)
async def test_apollo_client_scenario(api, world, base_url, ingest_token, node_projects):
    investor = world("acme", "investor")
    apollo = await NodeScript.start(
        node_projects / "apollo.mjs", base_url, "acme", investor.email, PASSWORD
    )
    try:
        login = (await apollo.until("login"))["login"]
        assert login == {"role": "INVESTOR", "email": investor.email}

        created = (await apollo.until("createPortfolio"))["createPortfolio"]
        assert created["name"] == "Apollo scenario" and created["baseCurrency"] == "EUR"

        portfolios = (await apollo.until("myPortfolios"))["myPortfolios"]
        assert created["id"] in {portfolio["id"] for portfolio in portfolios}
        assert all(portfolio["__typename"] == "Portfolio" for portfolio in portfolios)

        await apollo.until("subscribed")

        async def send(attempt: int) -> None:
            await post(api, ingest_token, {"ticks": [tick(bid=1990.0 + attempt, ask=2100.0)]})

        live = (await apollo.until_while("tick", send))["tick"]
        assert live["symbol"] == "XAUUSD" and live["ask"] == 2100.0
        assert await apollo.finish() == 0
    finally:
        await apollo.stop()


async def test_apollo_client_gets_graphql_errors_for_a_bad_login(base_url, world, node_projects):
    apollo = await NodeScript.start(
        node_projects / "apollo.mjs", base_url, "acme", world("acme", "investor").email, "wrong"
    )
    try:
        with pytest.raises(AssertionError, match="the Node script failed") as failed:
            await apollo.until("login")
        assert "UNAUTHENTICATED" in str(failed.value)
        assert await apollo.finish() != 0
    finally:
        await apollo.stop()
