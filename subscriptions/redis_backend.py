"""A broadcaster backend for Redis pub/sub that survives Redis restarts.

broadcaster's own RedisBackend stops listening for good when its listener races a
SUBSCRIBE (it sees no channel yet and parks) and never reconnects (upstream issue #144).
Here the listener waits until a channel is really subscribed, and on a lost connection
backs off and retries; redis-py re-subscribes the known channels when it reconnects.

The pub/sub connection is (re)connected only under one lock, by the listener or by a
(un)subscribe, and redis-py is told not to reconnect it on its own: two handshakes at once
on one connection read each other's replies (a subscription confirmation taken for a
handshake reply is lost, and so is the subscription's fill-in below).

Whatever was published on a channel between the lost connection and Redis confirming its
re-subscription reached no one here. ``on_resubscribed(channel, lost_at)`` is called (from
the listener, in stream order) when that confirmation arrives: from then on every message of
the channel is received, and the caller fills the gap (see ``Broker``). ``lost_at`` is the
wall-clock time the connection was found lost."""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

from broadcaster import Event
from broadcaster._backends.base import BroadcastBackend
from prometheus_client import Counter
from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
RECONNECTS = Counter(
    "fidus_broker_reconnects_total", "Times the Redis pub/sub connection was lost and retried"
)
_FAILURES = (ConnectionError, OSError, aioredis.RedisError)
# the longest wait between two reconnection attempts: what is published before the
# subscriptions are back is filled in (see Broker), but only once they are
RETRY_MAX = 0.25


def redis_client(url: str) -> Any:
    """A client whose commands retry a few times across a dropped connection (a stale
    pooled connection after a Redis restart fails once, then reconnects)."""
    return aioredis.Redis.from_url(
        url,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        health_check_interval=15,
    )


class ResilientRedisBackend(BroadcastBackend):
    def __init__(
        self,
        url: str,
        on_message: Callable[[str, str], None] | None = None,
        on_resubscribed: Callable[[str, float], None] | None = None,
    ) -> None:
        """``on_message(channel, data)`` receives each message as it is read; without it
        messages queue for broadcaster (``next_published``)."""
        self._redis: Any = redis_client(url)
        # failures surface to the listener, which reconnects (see the module doc)
        self._listening: Any = aioredis.Redis.from_url(
            url, retry=Retry(NoBackoff(), 0, supported_errors=()), health_check_interval=15
        )
        self._pubsub: Any = self._listening.pubsub()
        self._connecting = asyncio.Lock()
        self._subscribed = asyncio.Event()
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listener: asyncio.Task[None] | None = None
        self._on_message = on_message
        self._on_resubscribed = on_resubscribed
        self._lost_at: float | None = None  # since the last (re)connection
        self._resubscribing: dict[str, float] = {}  # channel → when its connection was lost
        self.reconnects = 0

    async def connect(self) -> None:
        await self._redis.ping()
        self._listener = asyncio.create_task(self._listen(), name="redis-pubsub-listener")

    async def disconnect(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self._pubsub.aclose()
        await self._listening.aclose()
        await self._redis.aclose()

    async def subscribe(self, channel: str) -> None:
        async with self._connecting:  # connects first when the connection is down
            await self._pubsub.subscribe(channel)
        # called on every reconnection, after redis-py has sent its re-subscriptions
        self._pubsub.connection.register_connect_callback(self._reconnected)
        self._subscribed.set()

    async def unsubscribe(self, channel: str) -> None:
        self._resubscribing.pop(channel, None)
        with contextlib.suppress(*_FAILURES):
            async with self._connecting:
                await self._pubsub.unsubscribe(channel)
        self._pubsub.channels.pop(channel.encode(), None)
        self._pubsub.channels.pop(channel, None)
        if not self._pubsub.subscribed:
            self._subscribed.clear()

    def _reconnected(self, _connection: Any) -> None:
        """Each channel known now is being re-subscribed; its confirmation is awaited."""
        lost_at = self._lost_at if self._lost_at is not None else time.time()
        self._lost_at = None
        for channel in self._pubsub.channels:
            name = channel.decode() if isinstance(channel, bytes) else channel
            self._resubscribing[name] = min(lost_at, self._resubscribing.get(name, lost_at))

    async def publish(self, channel: str, message: Any) -> None:
        await self._redis.publish(channel, message)

    async def next_published(self) -> Event:
        return await self._queue.get()

    async def _listen(self) -> None:
        backoff = 0.05
        while True:
            await self._subscribed.wait()
            try:
                async with self._connecting:  # not while a (un)subscribe connects
                    if not self._pubsub.connection.is_connected:
                        await self._pubsub.connect()  # and re-subscribe
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.05
            except _FAILURES as exc:
                if self._lost_at is None:  # once per outage; each retry at debug
                    self._lost_at = time.time()
                    log.warning(
                        "redis pub/sub connection lost; retrying", extra={"error": str(exc)}
                    )
                else:
                    log.debug("redis pub/sub connection still down", extra={"error": str(exc)})
                async with self._connecting:  # the next round connects afresh
                    await self._pubsub.connection.disconnect()
                self.reconnects += 1
                RECONNECTS.inc()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, RETRY_MAX)
                continue
            if message is None:
                continue
            kind, channel = message.get("type"), message["channel"]
            channel = channel.decode() if isinstance(channel, bytes) else channel
            if kind == "message":
                data = message["data"]
                data = data.decode() if isinstance(data, bytes) else data
                if self._on_message is not None:
                    self._on_message(channel, data)
                else:
                    self._queue.put_nowait(Event(channel=channel, message=data))
            elif kind == "subscribe" and channel in self._resubscribing:
                lost_at = self._resubscribing.pop(channel)
                if self._on_resubscribed is not None:
                    self._on_resubscribed(channel, lost_at)
