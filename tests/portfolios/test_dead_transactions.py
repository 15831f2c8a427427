"""A transaction left open by a process that stopped (its beat no longer moves) is ended by
another process within ``dead_after_seconds``, releasing what it wrote; a process that keeps
beating keeps its transactions."""

from typing import Any

import pytest
from pymongo.errors import OperationFailure

from app.runtime import Runtime
from app.settings import Settings
from resolvers.core.transaction_sessions import TransactionSessions


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def held(runtime: Runtime, settings: Settings) -> Any:
    collection = runtime.mongo[settings.db_name]["held"]
    await collection.insert_many([{"_id": "dead", "v": 0}, {"_id": "alive", "v": 0}])
    return collection


async def _open_transaction(runtime: Runtime, process: TransactionSessions, held: Any, key: str):
    session = runtime.mongo.start_session()
    await process.enlist(session)
    await session.start_transaction()
    await held.update_one({"_id": key}, {"$inc": {"v": 1}}, session=session)
    return session


async def _write(runtime: Runtime, held: Any, key: str) -> None:
    async with runtime.mongo.start_session() as session:
        await session.start_transaction()
        await held.update_one({"_id": key}, {"$inc": {"v": 10}}, session=session)
        await session.commit_transaction()


async def test_a_stopped_process_transaction_is_ended_and_a_beating_one_kept(runtime, held):
    clock = Clock()
    dead, alive = TransactionSessions(), TransactionSessions()
    reaper = TransactionSessions(dead_after_seconds=4.0, clock=clock)
    dead_session = await _open_transaction(runtime, dead, held, "dead")
    alive_session = await _open_transaction(runtime, alive, held, "alive")
    try:
        with pytest.raises(OperationFailure) as blocked:
            await _write(runtime, held, "dead")
        assert blocked.value.has_error_label("TransientTransactionError")

        assert await reaper.reap() == []  # first sighting of both
        clock.now = 3.9
        await alive.announce()
        assert await reaper.reap() == []  # nobody silent for 4 s yet
        clock.now = 4.0
        reaped = await reaper.reap()  # dead: silent since 0; alive beat at 3.9
        assert dead.process_id in reaped
        assert alive.process_id not in reaped

        await _write(runtime, held, "dead")  # released: the dead transaction was aborted
        assert (await held.find_one({"_id": "dead"}))["v"] == 10
        with pytest.raises(OperationFailure) as aborted:
            await dead_session.commit_transaction()
        assert aborted.value.has_error_label("TransientTransactionError")
        await alive_session.commit_transaction()  # kept
        assert (await held.find_one({"_id": "alive"}))["v"] == 1
    finally:
        for session in (dead_session, alive_session):
            if session.in_transaction:
                await session.abort_transaction()
            await session.end_session()
