"""Sliding-window rate limits shared by every process through Redis (a sorted set of hit
times per key, trimmed and counted in one script), or in process memory without Redis."""

import collections
import time
import uuid
from typing import Any

# KEYS[1] the window's set; ARGV now_ms, window_ms, limit, weight, member. Returns 0 when
# the ``weight`` hits fit (and are recorded), else the milliseconds until enough of the
# oldest hits have left the window. The caller keeps weight <= limit.
_HIT = """
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local limit, weight = tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count + weight > limit then
  local last = count + weight - limit - 1
  local oldest = redis.call('ZRANGE', KEYS[1], last, last, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
for i = 1, weight do
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i)
end
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RateLimiter:
    def __init__(self, redis: Any | None, namespace: str = "") -> None:
        self._redis = redis
        self._namespace = namespace
        self._memory: dict[str, collections.deque[tuple[float, str]]] = {}

    async def hit(
        self,
        key: str,
        limit: int,
        window_seconds: float,
        weight: int = 1,
        *,
        member: str | None = None,
    ) -> float:
        """Record ``weight`` hits unless they would make more than ``limit`` in the last
        ``window_seconds`` (then none is recorded); returns 0 when allowed, else the
        seconds to wait. ``weight`` must not exceed ``limit``. ``member`` names the hits
        for ``release``."""
        if not 1 <= weight <= limit:
            raise ValueError(f"weight {weight} outside 1..{limit}")
        member = member or uuid.uuid4().hex
        now_ms = time.time() * 1000
        window_ms = window_seconds * 1000
        if self._redis is not None:
            wait_ms = await self._redis.eval(
                _HIT, 1, self._key(key), int(now_ms), int(window_ms), limit, weight, member
            )
            return float(wait_ms) / 1000
        hits = self._memory.setdefault(key, collections.deque())
        while hits and hits[0][0] <= now_ms - window_ms:
            hits.popleft()
        if len(hits) + weight > limit:
            freed_at = hits[len(hits) + weight - limit - 1][0] + window_ms
            return max(0.001, (freed_at - now_ms) / 1000)
        hits.extend((now_ms, f"{member}:{i}") for i in range(1, weight + 1))
        if len(self._memory) > 100_000:  # forget idle keys rather than grow without bound
            self._memory = {k: v for k, v in self._memory.items() if v}
        return 0.0

    async def release(self, key: str, member: str, weight: int) -> None:
        """Take back the ``weight`` hits recorded as ``member`` (an operation refused by a
        later limit is not counted against the earlier ones)."""
        names = [f"{member}:{i}" for i in range(1, weight + 1)]
        if self._redis is not None:
            await self._redis.zrem(self._key(key), *names)
            return
        hits = self._memory.get(key)
        if hits:
            taken = set(names)
            self._memory[key] = collections.deque(h for h in hits if h[1] not in taken)

    def _key(self, key: str) -> str:
        return f"{self._namespace}rate:{key}"
