"""Work-around for a PyMongo lock leak on Python < 3.12 (upstream PYTHON-5167).

PyMongo's async pool and topology wait on their conditions through ``asyncio.wait_for``.
On Python 3.11 ``wait_for`` runs the wait in a separate task; when the caller is cancelled
at the moment the timeout fires (a readiness probe's deadline, a client hanging up during
an outage), ``wait_for`` returns while the inner task is still re-acquiring the lock. The
``async with`` then releases a lock it does not hold ("Lock is not acquired"), and the
inner task later takes the lock for good: every following server selection hangs.

The replacement waits in the caller's own task under ``asyncio.timeout``, so the
condition's own clean-up re-acquires the lock before any exception leaves it. Python
3.12+ implements ``wait_for`` that way already, and nothing is patched there."""

import asyncio
import importlib
import sys
from typing import Any

_PATCHED_MODULES = ("pymongo.lock", "pymongo.asynchronous.pool", "pymongo.asynchronous.topology")


# The driver's own signature, timeout argument included.
async def cond_wait_in_task(condition: Any, timeout: float | None) -> bool:  # noqa: ASYNC109
    """Wait for ``condition`` (its lock held) up to ``timeout`` s; False on timeout."""
    try:
        async with asyncio.timeout(timeout):
            await condition.wait()
            return True
    except TimeoutError:
        return False


def needs_patch() -> bool:
    return sys.version_info < (3, 12)


def install() -> None:
    """Idempotent; a no-op on Python 3.12+."""
    if not needs_patch():
        return
    for name in _PATCHED_MODULES:
        module = importlib.import_module(name)
        if "_async_cond_wait" in vars(module):
            setattr(module, "_async_cond_wait", cond_wait_in_task)  # noqa: B010 (private name)
