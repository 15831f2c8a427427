"""Recent ticks of each symbol, kept in Redis, so that a process whose pub/sub connection
was lost delivers every tick it missed once it has re-subscribed.

With Redis, the accept script (subscriptions.prices) appends each accepted tick to a stream
per tenant and symbol (trimmed to the last ``FIDUS_TICK_LOG_SECONDS``) and publishes it
prefixed with its stream id: ``"<id> <payload JSON>"``. Per tick channel with subscribers
here, ``TickGaps`` remembers the id of the last tick handed to them. After a Redis restart
(or any lost pub/sub connection) the channel's live messages are held from the moment its
re-subscription is confirmed, the log is read after that id, and the ticks missed, then
the held ones, go to the subscribers — each tick once, in order.

A channel whose subscribers have received nothing yet is filled from the time its first
subscriber came (this process's clock against the ids Redis stamps with its own: a skew
between the two moves where that fill-in starts, nothing else). The log covers
outages up to its length; past that the subscribers get the ticks it still holds, which
always include the newest of each symbol."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Counter
from redis import asyncio as aioredis

log = logging.getLogger(__name__)
FILLED = Counter(
    "fidus_ticks_filled_total",
    "Ticks delivered from the tick log after a pub/sub re-subscription",
)
TICK_TOPIC_PREFIX = "ticks:"
READ_ATTEMPTS = 8  # reads of the log after a re-subscription, backing off up to a second
StreamId = tuple[int, int]


def tick_log_key(namespace: str, channel: str) -> str:
    """The log of a tick channel (``<ns>ticks:<tenant>:<symbol>``)."""
    return f"{namespace}tick-log:{channel[len(namespace) + len(TICK_TOPIC_PREFIX) :]}"


def parse_id(raw: str | bytes) -> StreamId:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


class TickGaps:
    """The fill-in of this process's tick channels (see the module doc). ``deliver(channel,
    payload)`` hands a tick to the channel's subscribers."""

    def __init__(self, redis: Any, namespace: str, deliver: Callable[[str, str], None]) -> None:
        self._redis = redis
        self._ns = namespace
        self._prefix = namespace + TICK_TOPIC_PREFIX
        self._deliver = deliver
        # channel → the last tick handed to its subscribers here (None: none yet), and
        # when its first subscriber came (where a fill-in starts before any tick)
        self._last: dict[str, StreamId | None] = {}
        self._since: dict[str, StreamId] = {}
        self._held: dict[str, list[tuple[StreamId | None, str]]] = {}  # while filling in
        self._pending: set[str] = set()
        self._filling: asyncio.Task[None] | None = None

    def owns(self, channel: str) -> bool:
        return channel.startswith(self._prefix)

    def attached(self, channel: str) -> None:
        """The channel's first subscriber here: a fill-in starts from now (by this
        process's clock: only the fill-in, never a live tick, depends on it)."""
        self._last[channel] = None
        self._since[channel] = (int(time.time() * 1000) - 1, 0)

    def detached(self, channel: str) -> None:
        self._last.pop(channel, None)
        self._since.pop(channel, None)
        self._held.pop(channel, None)
        self._pending.discard(channel)

    def live(self, channel: str, message: str) -> str | None:
        """The payload to deliver now, or None: held until the fill-in is done, or a
        tick already delivered by it."""
        if message.startswith("{"):  # published without a log id (not by ingest)
            entry: StreamId | None = None
            payload = message
        else:
            raw, _, payload = message.partition(" ")
            entry = parse_id(raw)
        held = self._held.get(channel)
        if held is not None:
            held.append((entry, payload))
            return None
        return payload if self._advance(channel, entry) else None

    def resubscribed(self, channel: str) -> None:
        """Live messages are received again: hold them and fill in what was missed."""
        if channel not in self._last:
            return
        self._held.setdefault(channel, [])
        self._pending.add(channel)
        if self._filling is None or self._filling.done():
            self._filling = asyncio.create_task(self._fill(), name="tick-fill")

    def _advance(self, channel: str, entry: StreamId | None) -> bool:
        """Whether a tick is new to the channel's subscribers (then it is the last)."""
        if entry is None or channel not in self._last:  # not logged, or no subscriber here
            return True
        last = self._last[channel]
        if last is not None and entry <= last:
            return False
        self._last[channel] = entry
        return True

    async def close(self) -> None:
        if self._filling is not None:
            self._filling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._filling

    async def _fill(self) -> None:
        failures = 0
        while self._pending:
            channels = [channel for channel in self._pending if channel in self._held]
            self._pending.clear()
            try:
                missed = await self._read(channels)
            except (OSError, aioredis.RedisError) as exc:
                failures += 1
                if failures < READ_ATTEMPTS:  # keep holding, read again shortly
                    self._pending.update(channels)
                    await asyncio.sleep(min(0.1 * 2**failures, 1.0))
                    continue
                log.warning("ticks missed while re-subscribing could not be read: %s", exc)
                missed = {}
            failures = 0
            for channel in channels:
                if channel in self._pending:  # lost again meanwhile: the next read covers it
                    continue
                held = self._held.pop(channel, None)
                if held is None:  # no subscriber left
                    continue
                for entry, payload in missed.get(channel, ()):
                    if self._advance(channel, entry):
                        FILLED.inc()
                        self._deliver(channel, payload)
                for entry, payload in held:
                    if self._advance(channel, entry):
                        self._deliver(channel, payload)

    async def _read(self, channels: list[str]) -> dict[str, list[tuple[StreamId | None, str]]]:
        """Per channel, the logged ticks after its last delivered one: one round trip."""
        if not channels:
            return {}
        async with self._redis.pipeline(transaction=False) as pipe:
            for channel in channels:
                ms, seq = self._last[channel] or self._since[channel]
                pipe.xrange(tick_log_key(self._ns, channel), min=f"({ms}-{seq}", max="+")
            replies = await pipe.execute()
        return {
            channel: [(parse_id(raw), fields[b"t"].decode()) for raw, fields in entries]
            for channel, entries in zip(channels, replies, strict=True)
        }
