"""redis-server SIGKILLed between a deposit's commit and the steps after it (marking the
portfolio for revaluation): the client gets the committed transaction, not an error; the
failed step is counted and retried, and the portfolio's update is pushed once Redis is back.

To be deterministic the test holds the deposit where it wants it: it watches the deposit's
rate-limit hit in Redis (keyspace notifications; the user's limit is the last check before
the resolver runs), then freezes SecantusDB (SIGSTOP) so the deposit cannot commit yet,
kills Redis, and lets the database go on."""

import asyncio
import contextlib
import re
import time
from decimal import Decimal
from typing import Any

import jwt
from gql import Client, gql
from redis import asyncio as aioredis

from tests.faults.stack import Ledger, Stack, until
from tests.faults.test_mongo_restart import assert_ledger_is_exact
from tests.mt5.test_scale_out import UPDATES, admin_with_portfolio
from tests.transport.test_websocket import transport


async def failures_counted(stack: Stack, step: str) -> float:
    """fidus_post_commit_failures_total{step} as GET /metrics reports it (0 when absent)."""
    text = (await stack.client.get(f"{stack.url}/metrics")).text
    pattern = rf'^fidus_post_commit_failures_total\{{step="{re.escape(step)}"\}} (\S+)$'
    found = re.search(pattern, text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def test_a_deposit_committed_as_redis_dies_is_answered_and_pushed_later(stack: Stack):
    admin, portfolio = await admin_with_portfolio(stack.client, stack.url, "After commit")
    user_id = jwt.decode(admin, options={"verify_signature": False})["sub"]
    ledger = Ledger(portfolio)
    updates: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def update_with_cash(total: Decimal) -> bool:
        while not updates.empty():
            if Decimal(updates.get_nowait()["cash"]) == total:
                return True
        return False

    async with Client(transport=transport(stack.url, admin)) as session:

        async def consume() -> None:
            async for item in session.subscribe(gql(UPDATES), variable_values={"p": portfolio}):
                await updates.put(item["portfolioUpdated"])

        listener = asyncio.create_task(consume())
        watcher: Any = aioredis.Redis.from_url(stack.redis.url)
        try:
            assert not (await ledger.deposit(stack, admin, ledger.new_key())).get("errors")
            await until(lambda: update_with_cash(ledger.total), 15, "an update before the fault")
            failed_before = await failures_counted(stack, "portfolio-mark")

            await watcher.config_set("notify-keyspace-events", "Kz")
            hits = watcher.pubsub()
            await hits.subscribe(f"__keyspace@0__:{stack.db_name}:rate:mutation:user:{user_id}")
            assert (await hits.get_message(timeout=5))["type"] == "subscribe"
            key = ledger.new_key()
            request = asyncio.create_task(ledger.deposit(stack, admin, key))
            hit = await hits.get_message(ignore_subscribe_messages=True, timeout=10)
            assert hit is not None and hit["data"] == b"zadd", hit
            stack.mongo.pause()  # the deposit has passed its rate limits, not yet committed
            try:
                stack.redis.kill()
            finally:
                stack.mongo.resume()
            killed = time.monotonic()
            with contextlib.suppress(Exception):
                await hits.aclose()

            body = await request
            answered = time.monotonic() - killed
            assert not body.get("errors"), body
            assert body["data"]["recordTransaction"]["amount"] == str(ledger.amounts[key])
            assert_ledger_is_exact(stack, ledger, portfolio)
            # the mark after the commit did fail (the scenario happened), and was counted
            assert await failures_counted(stack, "portfolio-mark") > failed_before

            await asyncio.to_thread(stack.redis.start)  # same port
            restarted = time.monotonic()
            await until(lambda: update_with_cash(ledger.total), 30, "the deposit's update")
            pushed = time.monotonic() - restarted
            print(
                f"\nredis SIGKILL after a commit: the deposit answered {answered:.2f} s after "
                f"the kill (committed); its portfolioUpdated pushed {pushed:.2f} s after the "
                "restart"
            )
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
            with contextlib.suppress(Exception):
                await watcher.aclose()
