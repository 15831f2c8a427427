"""Feeding ticks to Fidus from the command line: paced replay of an export, a simulated
random walk, posted in batches to POST /mt5/ticks (or ingested directly through Redis)."""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import httpx
from tqdm import tqdm

Deliver = Callable[[list[dict[str, Any]]], Awaitable[int]]
DeliverSnapshot = Callable[[dict[str, Any]], Awaitable[None]]
BATCH_LIMIT = 1000
BATCH_SECONDS = 0.05


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


async def simulate(
    ticks: Iterator[dict[str, Any]], deliver: Deliver, rate: float, count: int | None
) -> int:
    """About ``rate`` ticks per second, stamped now, until ``count`` (or interrupted)."""
    accepted = sent = 0
    per_batch = max(1, int(rate / 10))
    while count is None or sent < count:
        size = per_batch if count is None else min(per_batch, count - sent)
        now_ms = int(time.time() * 1000)
        batch = [{**next(ticks), "time_msc": now_ms} for _ in range(size)]
        started = time.monotonic()
        accepted += await deliver(batch)
        sent += size
        await asyncio.sleep(max(0.0, size / rate - (time.monotonic() - started)))
    return accepted
