"""portfolioUpdated over a real WebSocket: a posted tick revalues the owner's portfolio
exactly (Decimal), updates are coalesced, other investors are refused."""

import asyncio
import contextlib
import time
from decimal import Decimal

import pytest
from gql import Client
from gql.transport.exceptions import TransportQueryError

from tests.support.mt5 import post, tick
from tests.support.portfolios import PORTFOLIO_UPDATED, collect, default_portfolio_id, record
from tests.support.ws import transport


async def holding_portfolio(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    pid = await default_portfolio_id(api, investor)
    await record(api, manager, pid, "DEPOSIT", "d", amount="10000.00")
    await record(api, manager, pid, "BUY", "b", symbol="XAUUSD", quantity="2", price="2000.00")
    return pid, investor


async def test_a_tick_revalues_the_owners_portfolio(api, world, base_url, ingest_token):
    pid, investor = await holding_portfolio(api, world)
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, investor.token)) as session:
        task = asyncio.create_task(collect(session, pid, received))
        try:
            update = None
            for attempt in range(40):
                bid = 2100.0 + attempt
                await post(api, ingest_token, {"ticks": [tick(bid=bid, ask=bid + 0.5)]})
                with contextlib.suppress(TimeoutError):
                    update = await asyncio.wait_for(received.get(), 0.5)
                    if update["reason"] == "TICK":
                        break
            assert update is not None and update["reason"] == "TICK"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # cash 6000.00 + 2 × the latest bid, exactly
    latest = Decimal(update["marketValue"]) / 2
    assert update["cash"] == "6000.00"
    assert Decimal(update["totalValue"]) == Decimal("6000.00") + 2 * latest
    assert latest >= Decimal("2100")


async def test_updates_are_coalesced_to_the_newest_state(api, world, base_url, ingest_token):
    pid, investor = await holding_portfolio(api, world)
    received: asyncio.Queue = asyncio.Queue()
    async with Client(transport=transport(base_url, investor.token)) as session:
        task = asyncio.create_task(collect(session, pid, received))
        await asyncio.sleep(0.5)
        started = time.monotonic()
        for i in range(40):  # 40 price changes in well under a second
            await post(api, ingest_token, {"ticks": [tick(bid=2200.0 + i, ask=2300.0)]})
        elapsed = time.monotonic() - started
        await asyncio.sleep(1.0)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    updates = []
    while not received.empty():
        updates.append(received.get_nowait())
    ticks_updates = [u for u in updates if u["reason"] == "TICK"]
    assert ticks_updates
    assert len(ticks_updates) <= (elapsed + 1.0) / 0.25 + 2  # at most one per 250 ms window
    assert ticks_updates[-1]["marketValue"] == "4478.00"  # 2 × 2239, the newest bid


async def test_another_investor_cannot_subscribe(base_url, api, world):
    pid = await default_portfolio_id(api, world("acme", "investor"))
    async with Client(transport=transport(base_url, world("acme", "investor2").token)) as session:
        with pytest.raises(TransportQueryError) as refused:
            async for _ in session.subscribe(PORTFOLIO_UPDATED, variable_values={"id": pid}):
                raise AssertionError("streamed to a stranger")
    assert refused.value.errors[0]["extensions"]["code"] == "NOT_FOUND"
