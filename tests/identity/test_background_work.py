"""Work started after answering (resolvers.core.background): waited for by drain, its failures
logged — an outage as a warning, anything else with its traceback — never raised."""

import asyncio
import logging

from pymongo.errors import ServerSelectionTimeoutError

from resolvers.core.background import Background


async def test_drain_waits_for_work_and_the_work_it_starts():
    background, done = Background(), []

    async def second() -> None:
        await asyncio.sleep(0.01)
        done.append("second")

    async def first() -> None:
        await asyncio.sleep(0.01)
        background.start(second(), "second")
        done.append("first")

    background.start(first(), "first")
    await background.drain()
    assert done == ["first", "second"] and background.pending == 0


async def test_failures_are_logged_not_raised(caplog):
    background = Background()

    async def broken() -> None:
        raise ValueError("a bug")

    async def outage() -> None:
        raise ServerSelectionTimeoutError("no primary")

    with caplog.at_level(logging.WARNING, logger="resolvers.core.background"):
        background.start(broken(), "broken work")
        background.start(outage(), "work during an outage")
        await background.drain()
    records = {r.getMessage(): r for r in caplog.records}
    assert records["broken work failed"].levelno == logging.ERROR
    assert records["broken work failed"].exc_info is not None
    warning = records["work during an outage dropped: mongodb unavailable"]
    assert warning.levelno == logging.WARNING and warning.exc_info is None
