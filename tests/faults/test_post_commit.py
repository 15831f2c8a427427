"""Steps after a committed write (resolvers.core.post_commit) never turn the answer into an
error: a failure is counted, logged — an outage as a warning without a traceback — and,
for an outage, retried in the background until it succeeds or the retries run out.

End to end: redis-server SIGKILLed between a deposit's commit and the mark after it; the
client gets the committed transaction, and the portfolio's update is pushed once Redis is
back. To be deterministic the test holds the deposit where it wants it: it watches the
deposit's rate-limit hit in Redis (keyspace notifications; the user's limit is the last
check before the resolver runs), then freezes SecantusDB (SIGSTOP) so the deposit cannot
commit yet, kills Redis, and lets the database go on."""

import asyncio
import contextlib
import logging
import re
import time
import uuid
from functools import partial
from typing import Any

import jwt
from gql import gql
from prometheus_client import REGISTRY
from redis import asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError

from resolvers.core import post_commit
from resolvers.core.background import Background
from resolvers.core.post_commit import after_commit
from subscriptions.broker import Broker
from subscriptions.portfolios import ValuationMark, mark_portfolio
from tests.faults.stack import (
    KillableRedis,
    Ledger,
    Stack,
    assert_ledger_is_exact,
    until,
    update_with_cash,
)
from tests.support.api_process import UPDATES, admin_with_portfolio
from tests.support.ws import streaming


def counted(name: str, step: str) -> float:
    return REGISTRY.get_sample_value(name, {"step": step}) or 0.0


async def test_a_step_failing_for_an_outage_is_retried_until_it_succeeds(caplog):
    redis = KillableRedis()
    redis.start()
    broker = Broker(redis.url, namespace=f"post-commit-{uuid.uuid4().hex[:8]}")
    await broker.connect()
    background = Background()
    try:
        redis.kill()
        before = counted("fidus_post_commit_failures_total", "test-mark")
        mark = partial(mark_portfolio, broker, "t1", "p1", "TRANSACTION")
        with caplog.at_level(logging.INFO, logger="resolvers.core.post_commit"):
            assert not await after_commit(background, "test-mark", mark)  # answers, no raise
            assert counted("fidus_post_commit_failures_total", "test-mark") == before + 1
            redis.start()  # same port
            await background.drain()
        stored = await broker.dirty_marks.stored()
        assert list(stored) == [ValuationMark("t1", "TRANSACTION", portfolio_id="p1").encode()]
        messages = [(r.levelno, r.getMessage(), r.exc_info) for r in caplog.records]
        assert messages[0] == (
            logging.WARNING,
            "test-mark failed after the commit: broker unavailable; retrying",
            None,
        )
        assert messages[-1][:2] == (logging.INFO, "test-mark done after the commit, on a retry")
    finally:
        await broker.disconnect()
        redis.stop()


async def test_a_defect_after_the_commit_is_logged_and_not_retried(caplog):
    background = Background()
    before = counted("fidus_post_commit_abandoned_total", "test-defect")

    async def broken() -> None:
        raise ValueError("a bug")

    with caplog.at_level(logging.WARNING, logger="resolvers.core.post_commit"):
        assert not await after_commit(background, "test-defect", broken)
    assert background.pending == 0
    assert counted("fidus_post_commit_abandoned_total", "test-defect") == before + 1
    [record] = caplog.records
    assert record.levelno == logging.ERROR and record.exc_info is not None


async def test_an_outage_outlasting_the_retries_is_given_up(caplog, monkeypatch):
    monkeypatch.setattr(post_commit, "RETRY_FOR_SECONDS", 0.6)
    background = Background()
    before = counted("fidus_post_commit_abandoned_total", "test-outage")
    attempts = 0

    async def unreachable() -> None:
        nonlocal attempts
        attempts += 1
        raise RedisConnectionError("refused")

    with caplog.at_level(logging.WARNING, logger="resolvers.core.post_commit"):
        await after_commit(background, "test-outage", unreachable)
        await background.drain()
    assert attempts > 1
    assert counted("fidus_post_commit_abandoned_total", "test-outage") == before + 1
    assert caplog.records[-1].levelno == logging.ERROR
    assert "given up" in caplog.records[-1].getMessage()


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
    async with streaming(stack.url, admin, gql(UPDATES), {"p": portfolio}) as updates:
        watcher: Any = aioredis.Redis.from_url(stack.redis.url)
        try:
            assert not (await ledger.deposit(stack, admin, ledger.new_key())).get("errors")
            await until(
                lambda: update_with_cash(updates, ledger.total), 15, "an update before the fault"
            )
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
            await until(lambda: update_with_cash(updates, ledger.total), 30, "the deposit's update")
            pushed = time.monotonic() - restarted
            print(
                f"\nredis SIGKILL after a commit: the deposit answered {answered:.2f} s after "
                f"the kill (committed); its portfolioUpdated pushed {pushed:.2f} s after the "
                "restart"
            )
        finally:
            with contextlib.suppress(Exception):
                await watcher.aclose()
