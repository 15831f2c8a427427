"""Latest tick per symbol, per tenant: in Redis (a hash per tenant, plus one of tick times)
so every process sees it, or in process memory for the embedded install."""

from collections.abc import Sequence
from typing import Any

from subscriptions.payloads import TickPayload
from subscriptions.tick_log import tick_log_key

# For each tick (symbol, time_msc, payload, channel; its log is KEYS[2 + n]): unless older
# than the stored time of its symbol, store it as the latest, append it to its symbol's log
# (trimmed to the last ARGV[1] ms) and publish it with its log id. One round trip for a
# whole batch, and atomic, so concurrent batches (or processes) never accept a stale tick.
_ACCEPT = """
local now = redis.call('TIME')
local oldest = string.format('%.0f', now[1] * 1000 + math.floor(now[2] / 1000) - ARGV[1])
local accepted = {}
for i = 2, #ARGV, 4 do
  local symbol, time_msc = ARGV[i], tonumber(ARGV[i + 1])
  local stored = redis.call('HGET', KEYS[2], symbol)
  if stored and tonumber(stored) > time_msc then
    accepted[#accepted + 1] = 0
  else
    redis.call('HSET', KEYS[2], symbol, ARGV[i + 1])
    redis.call('HSET', KEYS[1], symbol, ARGV[i + 2])
    local id = redis.call('XADD', KEYS[3 + #accepted], 'MINID', '~', oldest, '*', 't', ARGV[i + 2])
    redis.call('PUBLISH', ARGV[i + 3], id .. ' ' .. ARGV[i + 2])
    accepted[#accepted + 1] = 1
  end
end
return accepted
"""


class PriceCache:
    def __init__(self, redis: Any | None, namespace: str = "", log_seconds: float = 30) -> None:
        """``log_seconds``: how long each symbol's recent ticks stay logged (Redis only;
        see subscriptions.tick_log)."""
        self._redis = redis
        self._namespace = namespace
        self._log_ms = int(log_seconds * 1000)
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
        Redis it is also logged and published on its channel in the same step. Returns
        which were accepted (the caller publishes them itself without Redis)."""
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
        keys = [self._key(tenant_id), self._times_key(tenant_id)]
        argv: list[Any] = [self._log_ms]
        for tick, channel in zip(ticks, channels, strict=True):
            keys.append(tick_log_key(self._namespace, channel))
            argv += [tick.symbol, tick.time_msc, tick.encode(), channel]
        flags = await self._redis.eval(_ACCEPT, len(keys), *keys, *argv)
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
