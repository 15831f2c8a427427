"""Ticks a Redis without persistence forgot.

Redis answers the script that accepted a tick before it writes the tick's message to the
subscribers' connections: killed in between, it leaves a tick acknowledged to the bridge
that no subscriber got, and a restart without persistence (AOF or RDB) has it in neither
the price cache nor the tick log. So each process keeps the last ``RETAINED`` ticks it
accepted, and Redis an epoch key: a process that finds the epoch changed (Redis restarted
empty, or the process is new) first writes its retained ticks back — into the log with
their ids, the price cache when newest, and published again: subscribers drop those they
had, by id — then accepts anything new. A tick whose log already holds a later one (a
second process ingesting the same symbol got there first) is not written back."""

from collections import deque
from dataclasses import dataclass
from typing import Any

RETAINED = 5000  # the largest batch of ticks ingest accepts
_RESTORE = """
local function later(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-(%d+)$')
  a_ms, a_seq, b_ms, b_seq = tonumber(a_ms), tonumber(a_seq), tonumber(b_ms), tonumber(b_seq)
  return a_ms > b_ms or (a_ms == b_ms and a_seq > b_seq)
end
local restored = 0
for i = 1, #ARGV, 5 do
  local n = (i - 1) / 5 * 3
  local prices, times, log = KEYS[n + 1], KEYS[n + 2], KEYS[n + 3]
  local symbol, time_msc, id, payload = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3]
  local top = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)
  if #top == 0 or later(id, top[1][1]) then
    redis.call('XADD', log, id, 't', payload)
    redis.call('PUBLISH', ARGV[i + 4], id .. ' ' .. payload)
    local stored = redis.call('HGET', times, symbol)
    if not stored or tonumber(stored) <= time_msc then
      redis.call('HSET', times, symbol, ARGV[i + 1])
      redis.call('HSET', prices, symbol, payload)
    end
    restored = restored + 1
  end
end
return restored
"""


@dataclass(frozen=True, slots=True)
class AcceptedTick:
    """An accepted tick as Redis logged it, and the keys it went to."""

    prices_key: str
    times_key: str
    log_key: str
    channel: str
    symbol: str
    time_msc: int
    id: str
    payload: str


class RetainedTicks:
    def __init__(self) -> None:
        self.epoch = ""  # the Redis epoch these ticks were written to
        self._ticks: deque[AcceptedTick] = deque(maxlen=RETAINED)

    def add(self, ticks: list[AcceptedTick]) -> None:
        self._ticks.extend(ticks)

    async def restore(self, redis: Any, epoch: str) -> int:
        """Write the retained ticks back into a Redis of ``epoch``: how many were missing."""
        keys: list[str] = []
        argv: list[Any] = []
        for tick in self._ticks:
            keys += [tick.prices_key, tick.times_key, tick.log_key]
            argv += [tick.symbol, tick.time_msc, tick.id, tick.payload, tick.channel]
        restored = int(await redis.eval(_RESTORE, len(keys), *keys, *argv)) if keys else 0
        self.epoch = epoch
        return restored
