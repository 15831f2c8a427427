"""Two API processes on one real Redis (and one MongoDB): a tick posted to process A reaches
a subscriber on process B, and the single valuation worker's portfolio update reaches
subscribers on both."""

import asyncio
import contextlib
import time
import uuid

import httpx
import pytest
from gql import Client, gql

from tests.support.api_process import UPDATES, ApiProcess, admin_with_portfolio, gql_post
from tests.support.mt5 import tick
from tests.support.ws import transport


async def first_of(session, document, variables, action, accept=lambda item: True):
    """Subscribe, then repeat ``action`` until an accepted item arrives."""
    received: asyncio.Queue = asyncio.Queue()

    async def consume():
        async for item in session.subscribe(gql(document), variable_values=variables):
            await received.put(item)

    task = asyncio.create_task(consume())
    try:
        for attempt in range(40):
            await action(attempt)
            with contextlib.suppress(TimeoutError):
                item = await asyncio.wait_for(received.get(), 0.5)
                if accept(item):
                    return item
        raise AssertionError("nothing arrived")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def deposit(client, url: str, admin: str, portfolio: str) -> None:
    await gql_post(
        client,
        url,
        "mutation($p: ID!, $k: String!) { recordTransaction(input: {portfolioId: "
        '$p, type: DEPOSIT, amount: "1.00", idempotencyKey: $k}) { id } }',
        {"p": portfolio, "k": uuid.uuid4().hex},
        token=admin,
    )


async def test_ticks_and_portfolio_updates_cross_processes(two_processes):
    a, b = two_processes
    async with httpx.AsyncClient(timeout=30) as client:
        admin, portfolio = await admin_with_portfolio(client, a.url, "P")
        token = (
            await gql_post(
                client,
                a.url,
                'mutation { createServiceToken(name: "b", scopes: ["mt5:ingest"]) { token } }',
                token=admin,
            )
        )["createServiceToken"]["token"]

        async def post_tick(attempt: int) -> None:
            response = await client.post(
                f"{a.url}/mt5/ticks",
                json={"ticks": [tick(bid=1.1 + attempt / 1000, ask=1.2)]},
                headers={"authorization": f"Bearer {token}"},
            )
            assert response.json()["accepted"] == 1

        async with Client(transport=transport(b.url, admin)) as on_b:
            got = await first_of(
                on_b, 'subscription { ticks(symbols: ["XAUUSD"]) { bid } }', {}, post_tick
            )
        assert got["ticks"]["bid"] >= 1.1

        async def deposit_on_a(attempt: int) -> None:
            await deposit(client, a.url, admin, portfolio)

        for url in (a.url, b.url):
            async with Client(transport=transport(url, admin)) as session:
                update = await first_of(
                    session,
                    UPDATES,
                    {"p": portfolio},
                    deposit_on_a,
                    lambda item: item["portfolioUpdated"]["reason"] == "TRANSACTION",
                )
                assert update["portfolioUpdated"]["cash"] != "0.00"


async def worker_state(client, process: ApiProcess) -> str:
    state: str = (await client.get(f"{process.url}/health/ready")).json()["checks"]["worker"]
    return state


@pytest.mark.parametrize("how", ["stopped", "killed"])
async def test_the_worker_fails_over_when_its_process_goes(two_processes, how):
    """A started first and holds the lease; B stands by. When A stops (releasing the lease)
    or is killed (the lease lapses), B's worker takes over and publishes."""
    a, b = two_processes
    async with httpx.AsyncClient(timeout=30) as client:
        assert (await worker_state(client, a), await worker_state(client, b)) == (
            "active",
            "standby",
        )
        admin, portfolio = await admin_with_portfolio(client, b.url, "F")
        gone = time.monotonic()
        if how == "killed":
            a.process.kill()  # SIGKILL: no chance to release the lease
            a.process.wait(10)
        else:
            a.stop()

        async def deposit_on_b(attempt: int) -> None:
            await asyncio.sleep(0.5)
            await deposit(client, b.url, admin, portfolio)

        async with Client(transport=transport(b.url, admin)) as session:
            update = await first_of(session, UPDATES, {"p": portfolio}, deposit_on_b)
        assert update["portfolioUpdated"]["reason"] == "TRANSACTION"
        assert await worker_state(client, b) == "active"
        print(f"worker failover after A {how}: first update on B {time.monotonic() - gone:.1f} s")
