"""Valuation marks kept where every process sees them — one Redis hash per deployment, or
process memory for the embedded install — so that a mark made while no valuation worker
runs (a takeover) waits for the next one instead of being lost with a pub/sub message.

A field per mark (its encoded form) holds a stamp, new at every mark. The worker reads
them all, revalues, and then removes each field it is done with only if its stamp is still
the one it read: a mark made again meanwhile stays for the next round."""

import secrets
import time
from typing import Any

# KEYS[1] the hash; ARGV field, stamp pairs. Removes the fields still holding that stamp.
_REMOVE = """
local removed = 0
for i = 1, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[i + 1] then
    removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  end
end
return removed
"""


def new_stamp() -> str:
    """Unique, and ordered by time (to the nanosecond of the process that marked)."""
    return f"{time.time_ns():020d}-{secrets.token_hex(6)}"


class DirtyMarks:
    def __init__(self, redis: Any | None, namespace: str = "") -> None:
        self._redis = redis
        self._key = f"{namespace}valuation:dirty-marks"
        self._memory: dict[str, str] = {}

    async def add(self, fields: list[str], nudge_channel: str) -> bool:
        """Store the marks (one stamp for all). With Redis, also publish the stamp on
        ``nudge_channel`` in the same round trip and return True; without, the caller
        nudges the worker itself."""
        if not fields:
            return self._redis is not None
        stamp = new_stamp()
        if self._redis is None:
            self._memory.update(dict.fromkeys(fields, stamp))
            return False
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key, mapping=dict.fromkeys(fields, stamp))
            pipe.publish(nudge_channel, stamp)
            await pipe.execute()
        return True

    async def stored(self) -> dict[str, str]:
        """Every stored mark: field → stamp."""
        if self._redis is None:
            return dict(self._memory)
        raw = await self._redis.hgetall(self._key)
        return {_text(field): _text(stamp) for field, stamp in raw.items()}

    async def remove(self, done: list[tuple[str, str]]) -> None:
        """Remove each ``(field, stamp)`` whose field still holds that stamp."""
        if not done:
            return
        if self._redis is None:
            for field, stamp in done:
                if self._memory.get(field) == stamp:
                    del self._memory[field]
            return
        await self._redis.eval(_REMOVE, 1, self._key, *(x for pair in done for x in pair))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
