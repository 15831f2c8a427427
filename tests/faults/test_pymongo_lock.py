"""The driver's condition waits survive a cancellation that lands when their timeout fires.

Without app.pymongo_compat (Python 3.11), about one trial in ten leaves the lock released
by a task that does not hold it, or held by nobody's code: the driver then hangs."""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import Any

from pymongo.asynchronous import pool, topology
from pymongo.lock import _async_create_condition, _async_create_lock

from app import pymongo_compat

TRIALS = 150


def _driver_wait(module: ModuleType) -> Callable[[Any, float], Awaitable[bool]]:
    """The condition wait a driver module calls (a private name, read as the driver does)."""
    wait: Callable[[Any, float], Awaitable[bool]] = vars(module)["_async_cond_wait"]
    return wait


async def _cancel_at_timeout(delay: float) -> tuple[bool, list[BaseException | None]]:
    lock = _async_create_lock()
    condition = _async_create_condition(lock)

    async def driver_wait() -> None:
        async with condition:
            await _driver_wait(pool)(condition, 0.01)

    async def other_holder() -> None:  # holds the lock across the timeout: re-acquiring waits
        await asyncio.sleep(0.009)
        async with lock:
            await asyncio.sleep(0.005)

    waiting = asyncio.create_task(driver_wait())
    holding = asyncio.create_task(other_holder())
    await asyncio.sleep(delay)
    waiting.cancel()
    outcomes = await asyncio.gather(waiting, holding, return_exceptions=True)
    await asyncio.sleep(0.015)  # any orphaned re-acquire would complete by now
    return lock.locked(), [o if isinstance(o, BaseException) else None for o in outcomes]


async def test_cancellation_at_the_timeout_neither_leaks_nor_misreleases_the_lock() -> None:
    pymongo_compat.install()
    failures = []
    for trial in range(TRIALS):
        locked, outcomes = await _cancel_at_timeout(0.010 + (trial % 10) * 0.0005)
        runtime_errors = [o for o in outcomes if isinstance(o, RuntimeError)]
        if locked or runtime_errors:
            failures.append((trial, locked, runtime_errors))
    assert failures == []


async def test_a_plain_timeout_reports_false_and_a_notify_reports_true() -> None:
    pymongo_compat.install()
    condition = _async_create_condition(_async_create_lock())
    async with condition:
        assert await _driver_wait(topology)(condition, 0.01) is False

    async def notify_soon() -> None:
        await asyncio.sleep(0.01)
        async with condition:
            condition.notify_all()

    notifier = asyncio.create_task(notify_soon())
    async with condition:
        assert await _driver_wait(topology)(condition, 5) is True
    await notifier


def test_the_driver_modules_use_the_patched_wait_exactly_where_needed() -> None:
    pymongo_compat.install()
    patched = sys.version_info < (3, 12)  # 3.12's wait_for already waits in the caller's task
    for module in (pool, topology):
        assert (_driver_wait(module) is pymongo_compat.cond_wait_in_task) is patched
