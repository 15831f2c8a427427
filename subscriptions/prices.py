"""Latest tick per symbol, per tenant: in Redis (a hash per tenant, plus one of tick times)
so every process sees it, or in process memory for the embedded install."""

from collections.abc import Sequence
from typing import Any

from subscriptions.payloads import TickPayload

# For each tick (symbol, time_msc, payload, channel): unless older than the stored time of
# its symbol, store it as the latest and publish it. One round trip for a whole batch, and
# atomic, so concurrent batches (or processes) never accept a stale tick.
_ACCEPT = """
local accepted = {}
for i = 1, #ARGV, 4 do
  local symbol, time_msc = ARGV[i], tonumber(ARGV[i + 1])
  local stored = redis.call('HGET', KEYS[2], symbol)
  if stored and tonumber(stored) > time_msc then
    accepted[#accepted + 1] = 0
  else
    redis.call('HSET', KEYS[2], symbol, ARGV[i + 1])
    redis.call('HSET', KEYS[1], symbol, ARGV[i + 2])
    redis.call('PUBLISH', ARGV[i + 3], ARGV[i + 2])
    accepted[#accepted + 1] = 1
  end
end
return accepted
"""


class PriceCache:
    def __init__(self, redis: Any | None, namespace: str = "") -> None:
        self._redis = redis
        self._namespace = namespace
        self._memory: dict[str, dict[str, str]] = {}
        self._memory_times: dict[str, dict[str, int]] = {}

    def _key(self, tenant_id: str) -> str:
        return f"{self._namespace}prices:{tenant_id}"

    def _times_key(self, tenant_id: str) -> str:
        return f"{self._namespace}price-times:{tenant_id}"

    async def put(self, tenant_id: str, ticks: list[TickPayload]) -> None:
        """Set the latest ticks, whatever was stored (seeding, tests)."""
        if not ticks:
            return
        encoded = {tick.symbol: tick.encode() for tick in ticks}
        times = {tick.symbol: tick.time_msc for tick in ticks}
        if self._redis is None:
            self._memory.setdefault(self._key(tenant_id), {}).update(encoded)
            self._memory_times.setdefault(self._key(tenant_id), {}).update(times)
        else:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._key(tenant_id), mapping=encoded)
                pipe.hset(self._times_key(tenant_id), mapping=times)
                await pipe.execute()

    async def accept(
        self, tenant_id: str, ticks: Sequence[TickPayload], channels: Sequence[str]
    ) -> list[bool]:
        """In order, each tick not older than its symbol's latest becomes the latest; with
        Redis it is also published on its channel in the same step. Returns which were
        accepted (the caller publishes them itself without Redis)."""
        if not ticks:
            return []
        if self._redis is None:
            stored = self._memory.setdefault(self._key(tenant_id), {})
            times = self._memory_times.setdefault(self._key(tenant_id), {})
            accepted = []
            for tick in ticks:
                fresh = tick.time_msc >= times.get(tick.symbol, 0)
                if fresh:
                    times[tick.symbol] = tick.time_msc
                    stored[tick.symbol] = tick.encode()
                accepted.append(fresh)
            return accepted
        argv: list[Any] = []
        for tick, channel in zip(ticks, channels, strict=True):
            argv += [tick.symbol, tick.time_msc, tick.encode(), channel]
        flags = await self._redis.eval(
            _ACCEPT, 2, self._key(tenant_id), self._times_key(tenant_id), *argv
        )
        return [bool(flag) for flag in flags]

    async def get_many(self, tenant_id: str, symbols: list[str]) -> dict[str, TickPayload]:
        """One round trip, whatever the number of symbols."""
        unique = list(dict.fromkeys(symbols))
        if not unique:
            return {}
        if self._redis is None:
            stored = self._memory.get(self._key(tenant_id), {})
            values: list[Any] = [stored.get(symbol) for symbol in unique]
        else:
            values = await self._redis.hmget(self._key(tenant_id), unique)
        return {
            symbol: TickPayload.decode(value.decode() if isinstance(value, bytes) else value)
            for symbol, value in zip(unique, values, strict=True)
            if value is not None
        }
