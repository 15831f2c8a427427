"""Per-subscriber buffers that never grow without bound.

- ``ConflatingSink`` keeps only the newest message per topic (ticks: one topic per symbol),
  so a slow subscriber skips intermediate ticks but always gets the latest.
- ``BoundedSink`` keeps every message up to a limit; past it the subscription is closed
  with a clear error instead of buffering more."""

import asyncio
from collections import OrderedDict, deque
from typing import Protocol

from models.errors import Conflict


class SubscriberOverflow(Conflict):
    """The subscriber fell too far behind; its subscription is closed."""


class Sink(Protocol):
    def put(self, topic: str, message: str) -> None: ...

    async def get(self) -> tuple[str, str]: ...

    def __len__(self) -> int: ...


class ConflatingSink:
    def __init__(self) -> None:
        self._latest: OrderedDict[str, str] = OrderedDict()
        self._ready = asyncio.Event()

    def put(self, topic: str, message: str) -> None:
        self._latest.pop(topic, None)  # re-queue at the end: fair across topics
        self._latest[topic] = message
        self._ready.set()

    async def get(self) -> tuple[str, str]:
        while not self._latest:
            self._ready.clear()
            await self._ready.wait()
        return self._latest.popitem(last=False)

    def __len__(self) -> int:
        return len(self._latest)


class BoundedSink:
    def __init__(self, limit: int) -> None:
        self._items: deque[tuple[str, str]] = deque()
        self._limit = limit
        self._overflowed = False
        self._ready = asyncio.Event()

    def put(self, topic: str, message: str) -> None:
        if self._overflowed:
            return
        if len(self._items) >= self._limit:
            self._overflowed = True
            self._items.clear()
        else:
            self._items.append((topic, message))
        self._ready.set()

    async def get(self) -> tuple[str, str]:
        while not self._items:
            if self._overflowed:
                raise SubscriberOverflow(
                    f"Subscription closed: more than {self._limit} undelivered messages"
                )
            self._ready.clear()
            await self._ready.wait()
        return self._items.popleft()

    def __len__(self) -> int:
        return len(self._items)
