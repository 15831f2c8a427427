"""Consuming a broker stream in a test."""

import asyncio
import contextlib


class Drain:
    """Consume a broker stream in a task (cancelling ``anext`` would end the generator)."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for item in self.stream:
            await self.queue.put(item)

    async def aclose(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
