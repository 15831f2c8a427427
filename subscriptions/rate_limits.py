"""Sliding-window rate limits shared by every process through Redis (a sorted set of hit
times per key, trimmed and counted in one script), or in process memory without Redis."""

import collections
import time
import uuid
from typing import Any

# KEYS[1] the window's set; ARGV now_ms, window_ms, limit, member. Returns 0 when the hit
# is allowed (and recorded), else the milliseconds until the oldest hit leaves the window.
_HIT = """
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(1, tonumber(oldest[2]) + window - now)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
"""


class RateLimiter:
    def __init__(self, redis: Any | None, namespace: str = "") -> None:
        self._redis = redis
        self._namespace = namespace
        self._memory: dict[str, collections.deque[float]] = {}

    async def hit(self, key: str, limit: int, window_seconds: float) -> float:
        """Record a hit unless ``limit`` hits already fell in the last ``window_seconds``;
        returns 0 when allowed, else the seconds to wait."""
        now_ms = time.time() * 1000
        window_ms = window_seconds * 1000
        if self._redis is not None:
            wait_ms = await self._redis.eval(
                _HIT,
                1,
                f"{self._namespace}rate:{key}",
                int(now_ms),
                int(window_ms),
                limit,
                uuid.uuid4().hex,
            )
            return float(wait_ms) / 1000
        hits = self._memory.setdefault(key, collections.deque())
        while hits and hits[0] <= now_ms - window_ms:
            hits.popleft()
        if len(hits) >= limit:
            return max(0.001, (hits[0] + window_ms - now_ms) / 1000)
        hits.append(now_ms)
        if len(self._memory) > 100_000:  # forget idle keys rather than grow without bound
            self._memory = {k: v for k, v in self._memory.items() if v}
        return 0.0
