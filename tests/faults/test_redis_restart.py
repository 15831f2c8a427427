"""redis-server killed (SIGKILL) and restarted on the same port while ticks and deposits
stream in: readiness names the broker then recovers; MT5 ingest answers 503 naming the
broker (with Retry-After), GraphQL reads of the price cache and mutations (their rate limits
live in Redis) fail with a clear retryable error; retried deposits leave exactly one ledger
entry per key; the same WebSocket streams ticks and portfolio updates again afterwards."""

import asyncio
import contextlib
import time
from decimal import Decimal

from gql import Client, gql

from tests.faults.stack import Ledger, Stack, assert_ledger_is_exact, until
from tests.support.api_process import UPDATES, admin_with_portfolio, gql_post
from tests.support.mt5 import tick
from tests.support.ws import transport

UNAVAILABLE = "The message broker is unavailable; retry shortly"
LATEST = 'query { latestTicks(symbols: ["XAUUSD"]) { bid } }'
TICKS = 'subscription { ticks(symbols: ["XAUUSD"]) { bid } }'


async def ingest_token(stack: Stack, admin: str) -> str:
    created = await gql_post(
        stack.client,
        stack.url,
        'mutation { createServiceToken(name: "bridge", scopes: ["mt5:ingest"]) { token } }',
        token=admin,
    )
    token: str = created["createServiceToken"]["token"]
    return token


async def test_a_killed_broker_fails_clearly_and_streams_resume(stack: Stack):
    admin, portfolio = await admin_with_portfolio(stack.client, stack.url, "Broker faults")
    bridge = await ingest_token(stack, admin)
    ledger = Ledger(portfolio)
    bids: asyncio.Queue[float] = asyncio.Queue()
    updates: asyncio.Queue[dict] = asyncio.Queue()
    sent = 0

    async def post_tick() -> tuple[int, dict, float]:
        nonlocal sent
        sent += 1
        started = time.monotonic()
        response = await stack.client.post(
            f"{stack.url}/mt5/ticks",
            json={"ticks": [tick(bid=1000.0 + sent, ask=9999.0)]},
            headers={"authorization": f"Bearer {bridge}"},
        )
        return response.status_code, response.json(), time.monotonic() - started

    async def tick_arrives() -> bool:
        await post_tick()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(bids.get(), 0.3)
            return True
        return False

    async with Client(transport=transport(stack.url, admin)) as session:

        async def consume(document: str, variables: dict, into: asyncio.Queue, pick) -> None:
            async for item in session.subscribe(gql(document), variable_values=variables):
                await into.put(pick(item))

        listeners = [
            asyncio.create_task(consume(TICKS, {}, bids, lambda item: item["ticks"]["bid"])),
            asyncio.create_task(
                consume(UPDATES, {"p": portfolio}, updates, lambda item: item["portfolioUpdated"])
            ),
        ]
        try:
            await until(tick_arrives, 10, "a tick before the fault")
            assert not (await ledger.deposit(stack, admin, ledger.new_key())).get("errors")

            stack.redis.kill()
            to_red = await stack.seconds_until_ready(503, within=15)
            assert (await stack.ready()).json()["failed"] == ["broker"]

            status, body, took = await post_tick()
            assert status == 503, body
            assert body == {
                "error": UNAVAILABLE,
                "code": "INTERNAL_SERVER_ERROR",
                "unavailable": "broker",
                "retryable": True,
            }
            assert took < 5  # answers, does not hang

            latest = await stack.gql(LATEST, {}, admin)
            assert latest["errors"][0]["message"] == UNAVAILABLE
            assert latest["errors"][0]["extensions"]["unavailable"] == "broker"
            failed = [ledger.new_key() for _ in range(3)]
            outcomes = await asyncio.gather(*(ledger.deposit(stack, admin, k) for k in failed))
            for outcome in outcomes:
                error = outcome["errors"][0]
                assert error["message"] == UNAVAILABLE, outcome
                assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
                assert error["extensions"]["retryable"] is True

            restarted = time.monotonic()
            await asyncio.to_thread(stack.redis.start)  # same port
            to_green = await stack.seconds_until_ready(200, within=15)
            await until(tick_arrives, 10, "a tick on the same WebSocket after the restart")
            resumed = time.monotonic() - restarted

            for _ in range(2):  # the client retries with the same keys; a replay is harmless
                retried = await asyncio.gather(
                    *(ledger.deposit(stack, admin, key) for key in failed)
                )
                assert all(not body.get("errors") for body in retried), retried
            assert_ledger_is_exact(stack, ledger, portfolio)

            async def final_update_arrived() -> bool:
                while not updates.empty():
                    if Decimal(updates.get_nowait()["cash"]) == ledger.total:
                        return True
                return False

            await until(final_update_arrived, 15, "a portfolio update after the restart")
            assert not any(task.done() for task in listeners)  # same subscriptions
            print(
                f"\nredis SIGKILL: ready 503 after {to_red:.1f} s; ingest 503 in {took:.2f} s; "
                f"ready 200 {to_green:.1f} s after the restart; ticks streaming again "
                f"{resumed:.1f} s after the restart"
            )
        finally:
            for task in listeners:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
