"""SecantusDB killed (SIGKILL) and restarted on the same port and data dir while deposits
stream in: readiness names mongodb then recovers; requests fail fast with a clear error;
retried deposits (same idempotency keys) leave exactly one ledger entry per key, the cash
equals the ledger and the snapshot's version counts the entries; a portfolioUpdated
subscription on the same WebSocket streams again afterwards."""

import asyncio
import contextlib
import time
from decimal import Decimal

from gql import Client, gql

from resolvers.portfolios.ledger import BUSY
from tests.faults.stack import (
    MONGO_TIMEOUT_MS,
    Ledger,
    Stack,
    assert_ledger_is_exact,
    keep_depositing,
    until,
)
from tests.support.api_process import UPDATES, admin_with_portfolio
from tests.support.ws import transport

UNAVAILABLE = "The database is unavailable; retry shortly"
PORTFOLIO = "query($p: ID!) { portfolio(id: $p) { cash } }"


async def test_a_killed_database_fails_requests_clearly_and_loses_nothing(stack: Stack):
    admin, portfolio = await admin_with_portfolio(stack.client, stack.url, "Faults")
    ledger = Ledger(portfolio)
    updates: asyncio.Queue[dict] = asyncio.Queue()
    async with Client(transport=transport(stack.url, admin)) as session:

        async def consume() -> None:
            async for item in session.subscribe(gql(UPDATES), variable_values={"p": portfolio}):
                await updates.put(item["portfolioUpdated"])

        listener = asyncio.create_task(consume())
        stop = asyncio.Event()
        traffic = asyncio.create_task(keep_depositing(stack, admin, ledger, stop))
        try:
            await until(lambda: _has(ledger, 6), 20, "deposits before the fault")
            await until(lambda: _queue_has(updates), 10, "a portfolio update before the fault")

            stack.mongo.kill()
            to_red = await stack.seconds_until_ready(503, within=15)
            assert (await stack.ready()).json()["failed"] == ["mongodb"]

            started = time.monotonic()
            read = await stack.gql(PORTFOLIO, {"p": portfolio}, admin)
            failed_within = time.monotonic() - started
            error = read["errors"][0]
            assert error["message"] == UNAVAILABLE
            assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
            assert error["extensions"]["unavailable"] == "mongodb"
            assert error["extensions"]["retryable"] is True
            assert failed_within < 3 * MONGO_TIMEOUT_MS / 1000 + 2  # fails, does not hang
            # the REST routes answer the same outage (not a 500), as MT5 ingest does
            calendar = await stack.client.get(
                f"{stack.url}/events/{'0' * 24}.ics", headers={"authorization": f"Bearer {admin}"}
            )
            assert calendar.status_code == 503 and calendar.headers["retry-after"] == "2"
            assert calendar.json() == {
                "error": UNAVAILABLE,
                "code": "INTERNAL_SERVER_ERROR",
                "unavailable": "mongodb",
                "retryable": True,
            }
            await until(lambda: _failed_with(ledger, UNAVAILABLE), 15, "a failed deposit")

            await asyncio.to_thread(stack.mongo.start)  # same port, same data dir
            to_green = await stack.seconds_until_ready(200, within=30)
            await until(lambda: _deposit_succeeds(stack, admin, ledger), 15, "deposits again")
        finally:
            stop.set()
            await traffic
        print(
            f"\nmongodb SIGKILL: ready 503 after {to_red:.1f} s; a read failed after "
            f"{failed_within:.1f} s; ready 200 {to_green:.1f} s after the restart; "
            f"{len(ledger.amounts)} deposits, {len(ledger.failures)} failed during the outage"
        )
        assert ledger.failures, "no deposit hit the outage"
        unexpected = {
            key: error
            for key, error in ledger.failures.items()
            if error["message"] not in (UNAVAILABLE, BUSY)
        }
        assert not unexpected, f"{unexpected}; server log: {stack.api.log}"

        # The client retries what failed, with the same keys, twice (a replay is harmless).
        for _ in range(2):
            retried = await asyncio.gather(
                *(ledger.deposit(stack, admin, key) for key in list(ledger.failures))
            )
            assert all(not body.get("errors") for body in retried), retried
        assert_ledger_is_exact(stack, ledger, portfolio)
        cash = (await stack.gql(PORTFOLIO, {"p": portfolio}, admin))["data"]["portfolio"]["cash"]
        assert Decimal(cash) == ledger.total

        # The same subscription streams the final state.
        async def final_update_arrived() -> bool:
            while not updates.empty():
                if Decimal(updates.get_nowait()["cash"]) == ledger.total:
                    return True
            return False

        await until(final_update_arrived, 15, "the post-recovery portfolio update")
        assert not listener.done()
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def _has(ledger: Ledger, count: int) -> bool:
    return len(ledger.amounts) - len(ledger.failures) >= count


async def _queue_has(queue: asyncio.Queue) -> bool:
    return not queue.empty()


async def _failed_with(ledger: Ledger, message: str) -> bool:
    return any(error["message"] == message for error in ledger.failures.values())


async def _deposit_succeeds(stack: Stack, token: str, ledger: Ledger) -> bool:
    body = await ledger.deposit(stack, token, ledger.new_key())
    return not body.get("errors")
