"""Feeding ticks to Fidus from the command line: paced replay of an export, a simulated
random walk, posted in batches to POST /mt5/ticks (or ingested directly through Redis)."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from beanie import PydanticObjectId
from tqdm import tqdm

from resolvers.core.context import Services
from resolvers.identity.service_tokens import ServiceCaller
from resolvers.mt5.ingest import ingest_ticks

Deliver = Callable[[list[dict[str, Any]]], Awaitable[int]]
DeliverSnapshot = Callable[[dict[str, Any]], Awaitable[None]]
BATCH_LIMIT = 1000
BATCH_SECONDS = 0.05


def ingest_delivery(services: Services, tenant_id: PydanticObjectId) -> Deliver:
    """Ticks ingested in this process for the tenant, exactly as POST /mt5/ticks would."""
    caller = ServiceCaller(tenant_id, PydanticObjectId(), frozenset({"mt5:ingest"}))

    async def deliver(batch: list[dict[str, Any]]) -> int:
        now_ms = int(time.time() * 1000)
        return len((await ingest_ticks(services, caller, batch, now_ms)).accepted)

    return deliver


def http_delivery(client: httpx.AsyncClient, url: str, token: str) -> Deliver:
    endpoint = url.rstrip("/") + "/mt5/ticks"

    async def deliver(batch: list[dict[str, Any]]) -> int:
        response = await client.post(
            endpoint, json={"ticks": batch}, headers={"authorization": f"Bearer {token}"}
        )
        if response.status_code != 200:
            raise RuntimeError(f"{endpoint} answered {response.status_code}: {response.text}")
        accepted: int = response.json()["accepted"]
        return accepted

    return deliver


def http_snapshot_delivery(client: httpx.AsyncClient, url: str, token: str) -> DeliverSnapshot:
    endpoint = url.rstrip("/") + "/mt5/accounts"

    async def deliver(snapshot: dict[str, Any]) -> None:
        response = await client.post(
            endpoint, json=snapshot, headers={"authorization": f"Bearer {token}"}
        )
        if response.status_code != 200:
            raise RuntimeError(f"{endpoint} answered {response.status_code}: {response.text}")

    return deliver


def paced(ticks: Iterable[dict[str, Any]], speed: float) -> Iterator[tuple[float, dict[str, Any]]]:
    """(seconds from start at which to send, tick): original gaps divided by ``speed``."""
    first: int | None = None
    for tick in ticks:
        first = tick["time_msc"] if first is None else first
        yield (tick["time_msc"] - first) / 1000 / speed, tick


async def replay(
    ticks: list[dict[str, Any]],
    deliver: Deliver,
    speed: float,
    keep_time: bool,
    progress: bool = True,
) -> int:
    """Send in time order; returns how many the server accepted."""
    accepted, batch = 0, list[dict[str, Any]]()
    started = time.monotonic()
    bar = tqdm(total=len(ticks), unit="tick", disable=not progress)
    try:
        for offset, tick in paced(ticks, speed):
            wait = offset - (time.monotonic() - started)
            if wait > BATCH_SECONDS or len(batch) >= BATCH_LIMIT:
                if batch:
                    accepted += await deliver(batch)
                    bar.update(len(batch))
                    batch = []
                if wait > 0:
                    await asyncio.sleep(wait)
            if not keep_time:
                tick = {**tick, "time_msc": int(time.time() * 1000)}
            batch.append(tick)
        if batch:
            accepted += await deliver(batch)
            bar.update(len(batch))
    finally:
        bar.close()
    return accepted


@dataclass
class FeedStats:
    """What a feed has delivered so far (kept up to date, so an interrupted run still
    reports it)."""

    sent: int = 0
    accepted: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def rejected(self) -> int:
        return self.sent - self.accepted

    def summary(self, what: str) -> str:
        elapsed = time.monotonic() - self.started
        rate = self.sent / elapsed if elapsed > 0 else 0.0
        return (
            f"{what}: {self.sent} sent, {self.accepted} accepted, {self.rejected} rejected "
            f"in {elapsed:.1f} s ({rate:.1f} ticks/s)"
        )


async def simulate(
    ticks: Iterator[dict[str, Any]],
    deliver: Deliver,
    rate: float,
    count: int | None,
    stats: FeedStats | None = None,
) -> FeedStats:
    """About ``rate`` ticks per second, stamped now, until ``count`` (or cancelled); a
    batch counts as sent once its delivery answered."""
    stats = stats or FeedStats()
    per_batch = max(1, int(rate / 10))
    while count is None or stats.sent < count:
        size = per_batch if count is None else min(per_batch, count - stats.sent)
        now_ms = int(time.time() * 1000)
        batch = [{**next(ticks), "time_msc": now_ms} for _ in range(size)]
        started = time.monotonic()
        accepted = await deliver(batch)
        stats.sent, stats.accepted = stats.sent + size, stats.accepted + accepted
        await asyncio.sleep(max(0.0, size / rate - (time.monotonic() - started)))
    return stats
