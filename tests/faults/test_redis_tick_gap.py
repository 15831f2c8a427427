"""No tick lost at a Redis restart. Two ``fidus serve`` processes share one redis-server;
ticks stream at a steady rate to A's ``/mt5/ticks`` while redis-server is SIGKILLed and
restarted on the same port, three times. After each restart the ingesting process publishes
as soon as its command connection is back, before the pub/sub connections have resubscribed:
an idle ``ticks`` subscriber on each process must still get every accepted tick, once, in
order per symbol."""

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from gql import Client, gql

from tests.faults.stack import KillableRedis
from tests.support.api_process import ApiProcess, admin_with_portfolio, gql_post, serve_env
from tests.support.mt5 import now_ms
from tests.support.ws import transport

SYMBOLS = ("XAUUSD", "XAGUSD")
TICKS = 'subscription { ticks(symbols: ["XAUUSD", "XAGUSD"]) { symbol bid } }'
INTERVAL = 0.02  # a tick every 20 ms, alternating symbols
RESTARTS = 3
LIVE = 0.05  # a tick delivered within this of its acceptance came live


@dataclass
class Deployment:
    redis: KillableRedis
    a: ApiProcess
    b: ApiProcess


@pytest.fixture
async def deployment(mongo_url: str, tmp_path: Path) -> AsyncIterator[Deployment]:
    redis = KillableRedis()
    await asyncio.to_thread(redis.start)
    env = serve_env(
        mongo_url,
        redis.url,
        f"fidus_tick_gap_{uuid.uuid4().hex[:8]}",
        FIDUS_WEBHOOK_DISPATCHER="false",
    )
    a = ApiProcess(env, tmp_path / "a.log")
    b: ApiProcess | None = None
    try:
        await a.wait_ready()  # bootstraps the tenant before the second one starts
        b = ApiProcess(env, tmp_path / "b.log")
        await b.wait_ready()
        yield Deployment(redis, a, b)
    finally:
        a.stop()
        if b is not None:
            b.stop()
        redis.stop()


@dataclass
class Feed:
    """Ticks posted to one process: each carries a unique bid (its sequence number)."""

    url: str
    token: str
    client: httpx.AsyncClient
    accepted: list[tuple[str, int, float]] = field(default_factory=list)  # symbol, bid, at
    refused: int = 0
    sent: int = 0
    _last_time: dict[str, int] = field(default_factory=dict)

    async def post_one(self) -> None:
        self.sent += 1
        symbol = SYMBOLS[self.sent % len(SYMBOLS)]
        time_msc = max(now_ms(), self._last_time.get(symbol, 0) + 1)
        self._last_time[symbol] = time_msc
        body = {
            "ticks": [
                {"symbol": symbol, "time_msc": time_msc, "bid": 1000.0 + self.sent, "ask": 1e6}
            ]
        }
        try:
            response = await self.client.post(
                f"{self.url}/mt5/ticks",
                json=body,
                headers={"authorization": f"Bearer {self.token}"},
            )
        except httpx.HTTPError:
            self.refused += 1
            return
        if response.status_code == 200 and response.json()["accepted"] == 1:
            self.accepted.append((symbol, 1000 + self.sent, time.monotonic()))
        else:
            self.refused += 1

    async def run(self, stop: asyncio.Event) -> None:
        """One tick every INTERVAL (a slow answer delays the next one, never overlaps)."""
        while not stop.is_set():
            started = time.monotonic()
            await self.post_one()
            await asyncio.sleep(max(0.0, INTERVAL - (time.monotonic() - started)))


@dataclass
class Subscriber:
    name: str
    received: list[tuple[str, int, float]] = field(default_factory=list)  # symbol, bid, at

    async def consume(self, session: Any) -> None:
        async for item in session.subscribe(gql(TICKS)):
            tick = item["ticks"]
            self.received.append((tick["symbol"], round(tick["bid"]), time.monotonic()))


async def wait_for(predicate: Any, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {within} s")
        await asyncio.sleep(0.05)


async def test_every_accepted_tick_reaches_an_idle_subscriber_on_each_process(
    deployment: Deployment,
):
    a, b, redis = deployment.a, deployment.b, deployment.redis
    async with httpx.AsyncClient(timeout=30) as client:
        admin, _portfolio = await admin_with_portfolio(client, a.url, "Tick gap")
        feed = Feed(a.url, await ingest_token(client, a.url, admin), client)
        subscribers = [Subscriber("A"), Subscriber("B")]
        async with (
            Client(transport=transport(a.url, admin)) as on_a,
            Client(transport=transport(b.url, admin)) as on_b,
        ):
            consumers = [
                asyncio.create_task(s.consume(session))
                for s, session in zip(subscribers, (on_a, on_b), strict=True)
            ]
            try:
                # both subscriptions live: a tick posted now reaches both
                for _ in range(200):
                    await feed.post_one()
                    await asyncio.sleep(0.05)
                    if all(s.received for s in subscribers):
                        break
                await wait_for(lambda: all(s.received for s in subscribers), 10, "warm-up")
                first = 1000 + feed.sent + 1  # ticks from this bid on are counted

                stop = asyncio.Event()
                streaming = asyncio.create_task(feed.run(stop))
                restarts: list[float] = []
                kills: list[float] = []
                for _ in range(RESTARTS):
                    await asyncio.sleep(1.0)
                    redis.kill()
                    kills.append(time.monotonic())
                    await asyncio.sleep(1.0)
                    restarts.append(time.monotonic())
                    await asyncio.to_thread(redis.start)  # same port, empty
                    await asyncio.sleep(2.0)
                stop.set()
                await streaming
                accepted = [t for t in feed.accepted if t[1] >= first]
                for restart in restarts:  # ticks flowed right after every restart
                    assert sum(restart <= at < restart + 2 for *_t, at in accepted) >= 10, feed
                expected = [(symbol, bid) for symbol, bid, _at in accepted]
                last = expected[-1]

                def counted(s: Subscriber) -> list[tuple[str, int]]:
                    return [(symbol, bid) for symbol, bid, _at in s.received if bid >= first]

                with contextlib.suppress(AssertionError):  # reported below, per process
                    await wait_for(
                        lambda: all(last in counted(s) for s in subscribers), 10, "the last tick"
                    )
                await asyncio.sleep(0.5)  # anything late (a duplicate) would arrive now
                filled = [await filled_in(client, process) for process in (a, b)]
            finally:
                for task in consumers:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    report = [f"\n{len(expected)} accepted ({feed.refused} refused during the outages)"]
    failures = []
    for s, fills in zip(subscribers, filled, strict=True):
        got = counted(s)
        missing = [t for t in expected if t not in set(got)]
        duplicates = len(got) - len(set(got))
        report.append(
            f"on {s.name}: {len(set(got))} delivered ({fills} filled in), {len(missing)} missing, "
            f"{duplicates} duplicates; per restart: " + "; ".join(gaps(accepted, s, restarts))
        )
        if missing or duplicates:
            when = [
                f"{bid} accepted {min((at - k for k in kills), key=abs) * 1000:+.0f} ms from a kill"
                for symbol, bid, at in accepted
                if (symbol, bid) in missing
            ]
            failures.append(f"{s.name}: missing {when[:10]}, {duplicates} duplicates")
        for symbol in SYMBOLS:  # in order per symbol
            bids = [bid for sym, bid in got if sym == symbol]
            if bids != sorted(bids):
                failures.append(f"{s.name}: {symbol} out of order")
    print("\n".join(report))
    assert not failures, failures


def gaps(
    accepted: list[tuple[str, int, float]], subscriber: Subscriber, restarts: list[float]
) -> list[str]:
    """Per restart: how many ticks accepted after it were never delivered; the gap (from
    the first tick accepted after the restart to the first one delivered live, i.e. within
    LIVE of its acceptance: the ones before fell into the gap); the longest delay of a
    delivered tick (a tick filled in waited for the resubscription)."""
    delivered = {(symbol, bid): at for symbol, bid, at in subscriber.received}
    result = []
    for restart, end in zip(restarts, [*restarts[1:], float("inf")], strict=True):
        after = [(symbol, bid, at) for symbol, bid, at in accepted if restart <= at < end]
        if not after:
            continue
        delays = [delivered[(s, b)] - at for s, b, at in after if (s, b) in delivered]
        live = [at for s, b, at in after if delivered.get((s, b), float("inf")) - at < LIVE]
        gap = (live[0] if live else after[-1][2]) - after[0][2]
        result.append(
            f"{len(after) - len(delays)} missing, gap {gap * 1000:.0f} ms, "
            f"longest delay {max(delays, default=0) * 1000:.0f} ms"
        )
    return result


async def filled_in(client: httpx.AsyncClient, process: ApiProcess) -> str:
    """The process's count of ticks filled in after a re-subscription (its /metrics)."""
    metrics = (await client.get(f"{process.url}/metrics")).text
    found = re.search(r"^fidus_ticks_filled_total (\S+)$", metrics, re.MULTILINE)
    return found.group(1) if found else "no"


async def ingest_token(client: httpx.AsyncClient, url: str, admin: str) -> str:
    created = await gql_post(
        client,
        url,
        'mutation { createServiceToken(name: "bridge", scopes: ["mt5:ingest"]) { token } }',
        token=admin,
    )
    token: str = created["createServiceToken"]["token"]
    return token
