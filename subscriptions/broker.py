"""Publish/subscribe over broadcaster: Redis when REDIS_URL is set, else in-process memory."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from broadcaster import Broadcast
from redis import asyncio as aioredis

from subscriptions.prices import PriceCache
from subscriptions.redis_backend import ResilientRedisBackend, redis_client

log = logging.getLogger(__name__)

MEMORY_URL = "memory://"


class Broker:
    """One per process. Messages are strings (JSON encoded once by the publisher)."""

    def __init__(self, redis_url: str | None = None) -> None:
        self.url = redis_url or MEMORY_URL
        self._broadcast = (
            Broadcast(backend=ResilientRedisBackend(redis_url))
            if redis_url
            else Broadcast(MEMORY_URL)
        )
        self._redis: Any = redis_client(redis_url) if redis_url else None
        self._connected = False
        self.prices = PriceCache(self._redis)

    @property
    def uses_redis(self) -> bool:
        return self._redis is not None

    async def connect(self) -> None:
        await self._broadcast.connect()
        self._connected = True
        log.info("broker connected", extra={"backend": "redis" if self.uses_redis else "memory"})

    async def disconnect(self) -> None:
        if not self._connected:
            return
        self._connected = False
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
        await self._broadcast.publish(topic, message)

    async def listen(self, topics: list[str]) -> AsyncIterator[tuple[str, str]]:
        """Yield ``(topic, message)`` from every topic until the consumer stops iterating."""
        merged: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        async with contextlib.AsyncExitStack() as stack:
            forwarders = []
            for topic in dict.fromkeys(topics):
                subscriber = await stack.enter_async_context(self._broadcast.subscribe(topic))
                forwarders.append(asyncio.create_task(_forward(subscriber, merged)))
            try:
                while True:
                    yield await merged.get()
            finally:
                for task in forwarders:
                    task.cancel()
                await asyncio.gather(*forwarders, return_exceptions=True)


async def _forward(subscriber: Any, into: asyncio.Queue[tuple[str, str]]) -> None:
    async for event in subscriber:
        into.put_nowait((event.channel, event.message))
