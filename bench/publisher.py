"""The offered load of the fan-out benchmark: TickPayload JSON published straight to the
Redis channels every server under test listens on (`<namespace>:ticks:<tenant_id>:<symbol>`),
so no server pays for ingest and all three get the very same messages. Ticks go out in
small pipelined batches every ``PERIOD`` seconds, symbols in turn, each stamped with its
publish time (``time_msc``), which the clients turn into latency."""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from redis import asyncio as aioredis

from subscriptions.payloads import TickPayload

PERIOD = 0.005


@dataclass(frozen=True)
class Published:
    per_symbol: dict[str, int]
    seconds: float  # wall time of publishing

    @property
    def total(self) -> int:
        return sum(self.per_symbol.values())


async def _publish(
    redis_url: str, prefix: str, symbols: list[str], rate: float, seconds: float
) -> Published:
    client = aioredis.from_url(redis_url)
    counts: Counter[str] = Counter()
    n = 0
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            due = int(rate * elapsed) + 1 - n
            if due > 0:
                now = int(time.time() * 1000)
                pipe = client.pipeline(transaction=False)
                for _ in range(due):
                    symbol = symbols[n % len(symbols)]
                    tick = TickPayload(symbol, now, 1.0 + n % 9, 2.0 + n % 9, 1.5, 1.0, n % 4)
                    pipe.publish(prefix + symbol, tick.encode())
                    counts[symbol] += 1
                    n += 1
                await pipe.execute()
            await asyncio.sleep(PERIOD)
    finally:
        await client.aclose()
    return Published(dict(counts), time.monotonic() - started)


def publish(
    redis_url: str, prefix: str, symbols: list[str], rate: float, seconds: float
) -> Published:
    """Publish ``rate`` ticks/s over ``symbols`` for ``seconds``."""
    return asyncio.run(_publish(redis_url, prefix, symbols, rate, seconds))
