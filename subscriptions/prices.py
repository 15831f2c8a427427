"""Latest tick per symbol, per tenant: in Redis (a hash per tenant, plus one of tick times)
so every process sees it, or in process memory for the embedded install."""

import secrets
from collections.abc import Sequence
from typing import Any

from redis import asyncio as aioredis

from subscriptions.payloads import TickPayload
from subscriptions.tick_log import tick_log_key
from subscriptions.tick_restore import AcceptedTick, RetainedTicks

# KEYS: the tenant's prices and times, the epoch, then each tick's log. ARGV: the log's
# length in ms, the caller's epoch, a new epoch (should Redis have none), then per tick
# symbol, time_msc, payload, channel. An epoch other than the caller's answers the epoch
# (see subscriptions.tick_restore). Else, for each tick: unless older than the stored time
# of its symbol, store it as the latest, append it to its symbol's log (trimmed to the
# log's length) and publish it with its log id; answers its id, or 0 for a stale tick.
# One round trip for a whole batch, and atomic, so concurrent batches (or processes) never
# accept a stale tick.
_ACCEPT = """
local epoch = redis.call('GET', KEYS[3])
if not epoch then
  epoch = ARGV[3]
  redis.call('SET', KEYS[3], epoch)
end
if epoch ~= ARGV[2] then return {'epoch', epoch} end
local now = redis.call('TIME')
local oldest = string.format('%.0f', now[1] * 1000 + math.floor(now[2] / 1000) - ARGV[1])
local accepted = {}
for i = 4, #ARGV, 4 do
  local symbol, time_msc = ARGV[i], tonumber(ARGV[i + 1])
  local stored = redis.call('HGET', KEYS[2], symbol)
  if stored and tonumber(stored) > time_msc then
    accepted[#accepted + 1] = 0
  else
    redis.call('HSET', KEYS[2], symbol, ARGV[i + 1])
    redis.call('HSET', KEYS[1], symbol, ARGV[i + 2])
    local id = redis.call('XADD', KEYS[4 + #accepted], 'MINID', '~', oldest, '*', 't', ARGV[i + 2])
    redis.call('PUBLISH', ARGV[i + 3], id .. ' ' .. ARGV[i + 2])
    accepted[#accepted + 1] = id
  end
end
return accepted
"""
ATTEMPTS = 3  # accepts in a row that may find Redis restarted


class PriceCache:
    def __init__(self, redis: Any | None, namespace: str = "", log_seconds: float = 30) -> None:
        """``log_seconds``: how long each symbol's recent ticks stay logged (Redis only;
        see subscriptions.tick_log)."""
        self._redis = redis
        self._namespace = namespace
        self._log_ms = int(log_seconds * 1000)
        self._epoch_key = f"{namespace}tick-log:epoch"
        self.retained = RetainedTicks()
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
        prices_key, times_key = self._key(tenant_id), self._times_key(tenant_id)
        logs = [tick_log_key(self._namespace, channel) for channel in channels]
        payloads = [tick.encode() for tick in ticks]
        argv: list[Any] = []
        for tick, payload, channel in zip(ticks, payloads, channels, strict=True):
            argv += [tick.symbol, tick.time_msc, payload, channel]
        keys = [prices_key, times_key, self._epoch_key, *logs]
        for _attempt in range(ATTEMPTS):
            known, new = self.retained.epoch, secrets.token_hex(8)
            reply = await self._redis.eval(
                _ACCEPT, len(keys), *keys, self._log_ms, known, new, *argv
            )
            if reply and reply[0] == b"epoch":  # Redis restarted (or this process is new)
                await self.retained.restore(self._redis, reply[1].decode())
                continue
            self.retained.add(
                [
                    AcceptedTick(
                        prices_key=prices_key,
                        times_key=times_key,
                        log_key=log_key,
                        channel=channel,
                        symbol=tick.symbol,
                        time_msc=tick.time_msc,
                        id=logged.decode(),
                        payload=payload,
                    )
                    for tick, payload, channel, log_key, logged in zip(
                        ticks, payloads, channels, logs, reply, strict=True
                    )
                    if logged
                ]
            )
            return [bool(logged) for logged in reply]
        raise aioredis.ConnectionError("Redis restarted again and again while accepting ticks")

    async def restore_forgotten(self) -> int:
        """After a reconnection: if Redis restarted empty, write back the ticks this
        process retained (see subscriptions.tick_restore); how many were missing."""
        if self._redis is None:
            return 0
        await self._redis.set(self._epoch_key, secrets.token_hex(8), nx=True)
        epoch = await self._redis.get(self._epoch_key)
        if epoch is None or epoch.decode() == self.retained.epoch:
            return 0
        return await self.retained.restore(self._redis, epoch.decode())

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
