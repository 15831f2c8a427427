"""Work a use case starts and does not wait for, because its caller's answer must not
depend on it (how long it takes included). Tracked, so shutdown — and tests — can wait
for it; a failure is logged (an outage as a warning, anything else with its traceback)."""

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from resolvers.core.outages import unavailable_component

log = logging.getLogger(__name__)


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run ``work`` on its own (in the caller's context: request id, operation name)."""
        task = asyncio.create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _run(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except Exception as exc:
            component = unavailable_component(exc)
            if component is None:
                log.exception("%s failed", name)
            else:
                log.warning("%s dropped: %s unavailable", name, component)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self) -> None:
        """Until nothing started is still running (work may start more work)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))
