"""Publish/subscribe over broadcaster: Redis when REDIS_URL is set, else in-process memory.

With Redis, what is published while this process's pub/sub connection is lost (a Redis
restart: other processes publish again as soon as their command connection is back) never
reaches it. Once a channel is re-subscribed the gap is filled: ticks from the tick log
(subscriptions.tick_log), other topics by telling their consumers to re-read: listeners
opened with ``gaps=True`` receive a ``Gap`` (subscriptions.sinks) in their stream, and
hooks registered with ``on_gap`` run once per re-subscribed topic."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from broadcaster import Broadcast
from broadcaster._base import Unsubscribed
from redis import asyncio as aioredis

from subscriptions.dirty_marks import DirtyMarks
from subscriptions.prices import PriceCache
from subscriptions.rate_limits import RateLimiter
from subscriptions.redis_backend import ResilientRedisBackend, redis_client
from subscriptions.sinks import BufferLimits, Gap, Overflow, Sink
from subscriptions.tick_log import TickGaps

log = logging.getLogger(__name__)
GapHook = Callable[[list[str]], Awaitable[None]]

MEMORY_URL = "memory://"
_TAKE_OR_RENEW = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def is_broker_failure(error: BaseException) -> bool:
    """The broker's backend (Redis) could not be reached or did not answer in time."""
    return isinstance(error, aioredis.ConnectionError | aioredis.TimeoutError)


class Broker:
    """One per process. Messages are strings (JSON encoded once by the publisher)."""

    def __init__(
        self,
        redis_url: str | None = None,
        namespace: str = "fidus",
        buffer_limits: BufferLimits | None = None,
        tick_log_seconds: float = 30,
    ) -> None:
        """``namespace`` prefixes every channel and key, so deployments (or test
        databases) sharing one Redis never see each other's events; ``buffer_limits``
        bound each subscriber's queue (see subscriptions.sinks); ``tick_log_seconds``:
        how far back ticks can be filled in after a lost connection."""
        self.url = redis_url or MEMORY_URL
        self.buffer_limits = buffer_limits or BufferLimits()
        self._ns = f"{namespace}:"
        # with Redis, the backend hands each message straight to this broker's sinks;
        # in memory, broadcaster's queues and one pump task per topic do
        self._backend = (
            ResilientRedisBackend(redis_url, self._dispatch, self._resubscribed)
            if redis_url
            else None
        )
        self._broadcast = Broadcast(MEMORY_URL) if redis_url is None else None
        self._redis: Any = redis_client(redis_url) if redis_url else None
        self._connected = False
        self.prices = PriceCache(self._redis, self._ns, tick_log_seconds)
        self.rate_limits = RateLimiter(self._redis, self._ns)
        self.dirty_marks = DirtyMarks(self._redis, self._ns)
        self._sinks: dict[str, set[Sink]] = {}
        self._pumps: dict[str, asyncio.Task[None]] = {}
        self._ticks = TickGaps(self._redis, self._ns, self._fan_out) if redis_url else None
        self._gap_hooks: list[tuple[str, GapHook]] = []
        self._gapped: dict[str, list[str]] = {}  # hook prefix → topics awaiting it
        self._hook_tasks: set[asyncio.Task[None]] = set()
        self._restoring: asyncio.Task[None] | None = None

    @property
    def uses_redis(self) -> bool:
        return self._redis is not None

    async def connect(self) -> None:
        if self._backend is not None:
            await self._backend.connect()
        else:
            assert self._broadcast is not None
            await self._broadcast.connect()
        self._connected = True
        log.info("broker connected", extra={"backend": "redis" if self.uses_redis else "memory"})

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
        tasks = [*self._hook_tasks, *([self._restoring] if self._restoring else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._ticks is not None:
            await self._ticks.close()
        if self._backend is not None:
            await self._backend.disconnect()
        else:
            assert self._broadcast is not None
            await self._broadcast.disconnect()
        if self._redis is not None:
            await self._redis.aclose()

    async def ping(self, within: float = 1.0) -> bool:
        """True when the backend answers (always, for the memory backend once connected)."""
        if not self._connected:
            return False
        if self._redis is None:
            return True
        try:
            return bool(await asyncio.wait_for(self._redis.ping(), within))
        except (TimeoutError, OSError, aioredis.RedisError):
            return False

    async def publish(self, topic: str, message: str) -> None:
        if self._backend is not None:
            await self._backend.publish(self.channel(topic), message)
        else:
            assert self._broadcast is not None
            await self._broadcast.publish(self.channel(topic), message)

    def channel(self, topic: str) -> str:
        """The Redis channel a topic is published on."""
        return self._ns + topic

    @property
    def redis_backed(self) -> bool:
        return self._redis is not None

    async def listen(
        self,
        topics: list[str],
        *,
        conflate: bool = False,
        limit: int | None = None,
        gaps: bool = False,
    ) -> AsyncGenerator[tuple[str, str], None]:
        """Yield ``(topic, message)`` from every topic, in order, until the consumer stops.
        The buffer between the broker and this consumer keeps every message up to the
        broker's bound (``limit`` messages, if given); past it the consumer is conflated
        to the newest per topic (``conflate``) or its stream ends with SubscriberOverflow.
        With ``gaps``, a ``Gap`` message tells when a topic may have missed messages."""
        limits = self.buffer_limits
        if limit is not None:
            limits = BufferLimits(messages=limit, bytes=limits.bytes)
        sink = Sink(limits, Overflow.CONFLATE if conflate else Overflow.CLOSE, gaps=gaps)
        unique = [self._ns + topic for topic in dict.fromkeys(topics)]
        strip = len(self._ns)
        try:
            for topic in unique:
                await self._attach(topic, sink)
            while True:
                channel, message = await sink.get()
                yield channel[strip:], message
        finally:
            for topic in unique:
                await self._detach(topic, sink)

    @property
    def active_topics(self) -> int:
        return len(self._sinks)

    def on_gap(self, prefix: str, hook: GapHook) -> None:
        """After a lost connection, ``hook(topics)`` runs (in a task, once per batch) with
        the re-subscribed topics of this process starting with ``prefix``."""
        self._gap_hooks.append((prefix, hook))

    async def _attach(self, topic: str, sink: Sink) -> None:
        sinks = self._sinks.get(topic)
        if sinks is not None:
            sinks.add(sink)
            return
        self._sinks[topic] = {sink}
        if self._backend is not None:
            if self._ticks is not None and self._ticks.owns(topic):
                self._ticks.attached(topic)
            await self._backend.subscribe(topic)
            return
        started = asyncio.Event()
        self._pumps[topic] = asyncio.create_task(self._pump(topic, started), name=f"pump:{topic}")
        await started.wait()

    async def _detach(self, topic: str, sink: Sink) -> None:
        sinks = self._sinks.get(topic)
        if sinks is None:
            return
        sinks.discard(sink)
        if not sinks:
            del self._sinks[topic]
            if self._backend is not None:
                if self._ticks is not None:
                    self._ticks.detached(topic)
                await self._backend.unsubscribe(topic)
                return
            pump = self._pumps.pop(topic)
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump

    def _dispatch(self, channel: str, message: str) -> None:
        """One message from Redis to every sink of its channel (synchronous, no hop)."""
        if self._ticks is not None and self._ticks.owns(channel):
            payload = self._ticks.live(channel, message)
            if payload is None:  # held while the gap is filled, or delivered already
                return
            message = payload
        for sink in self._sinks.get(channel, ()):
            sink.put(channel, message)

    def _fan_out(self, channel: str, message: str) -> None:
        for sink in self._sinks.get(channel, ()):
            sink.put(channel, message)

    def _resubscribed(self, channel: str, lost_at: float) -> None:
        """Redis confirmed a re-subscription: fill in what this process missed."""
        if self._restoring is None or self._restoring.done():
            self._restoring = asyncio.create_task(self._restore_ticks())
        if channel not in self._sinks:
            return
        if self._ticks is not None and self._ticks.owns(channel):
            self._ticks.resubscribed(channel)
            return
        gap = Gap(lost_at)
        for sink in self._sinks[channel]:
            if sink.gaps:
                sink.put(channel, gap)
        topic = channel[len(self._ns) :]
        for prefix, hook in self._gap_hooks:
            if topic.startswith(prefix):
                waiting = self._gapped.setdefault(prefix, [])
                waiting.append(topic)
                if len(waiting) == 1:  # the first of a batch: run the hook once it is read
                    task = asyncio.create_task(self._run_hook(prefix, hook))
                    self._hook_tasks.add(task)
                    task.add_done_callback(self._hook_tasks.discard)

    async def _restore_ticks(self) -> None:
        """A Redis that restarted empty gets back the ticks this process last accepted."""
        try:
            await self.prices.restore_forgotten()
        except (OSError, aioredis.RedisError) as exc:  # the next re-subscription tries again
            log.warning("retained ticks not restored: %s", exc)

    async def _run_hook(self, prefix: str, hook: GapHook) -> None:
        await asyncio.sleep(0)  # with the confirmations the listener reads meanwhile
        topics = self._gapped.pop(prefix, [])
        try:
            await hook(topics)
        except (OSError, aioredis.RedisError) as exc:
            log.warning("gap not filled for %d topics: %s", len(topics), exc)
        except Exception:
            log.exception("filling a gap failed", extra={"topics": len(topics)})

    async def _pump(self, topic: str, started: asyncio.Event) -> None:
        """In memory: one broadcaster subscription per topic, fanned out to the sinks."""
        assert self._broadcast is not None
        async with self._broadcast.subscribe(topic) as subscriber:
            started.set()
            with contextlib.suppress(Unsubscribed):
                while True:
                    event = await subscriber.get()  # Unsubscribed once closed
                    self._dispatch(topic, event.message)

    async def try_lock(self, key: str, owner: str, ttl_ms: int) -> bool:
        """Take the lease, or renew it when ``owner`` holds it (one atomic script, so a
        lease that lapsed and went to another owner is never extended); always granted
        without Redis, refused when Redis cannot be asked."""
        return bool(await self.renew_lock(key, owner, ttl_ms))

    async def renew_lock(self, key: str, owner: str, ttl_ms: int) -> bool | None:
        """As ``try_lock``, but None when Redis cannot be asked: the holder decides how
        long it may go on without an answer (a restarted Redis has forgotten the lease,
        and the next renewal takes it afresh)."""
        if self._redis is None:
            return True
        try:
            granted = await self._redis.eval(_TAKE_OR_RENEW, 1, self._ns + key, owner, ttl_ms)
        except (OSError, aioredis.RedisError):
            return None
        return bool(granted)

    async def release_lock(self, key: str, owner: str) -> None:
        if self._redis is None:
            return
        with contextlib.suppress(OSError, aioredis.RedisError):
            await self._redis.eval(_RELEASE, 1, self._ns + key, owner)
