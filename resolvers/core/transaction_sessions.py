"""Ending the open transactions of a process that died.

A transaction keeps the documents it wrote locked until it commits or aborts. When a
process is killed (SIGKILL, OOM, a lost host) between its first write and its commit, the
server only aborts that transaction when its lifetime ends (MongoDB's
``transactionLifetimeLimitSeconds``, 60 s by default; SecantusDB's is fixed at 60 s), and
until then every write to those documents fails with a WriteConflict, on every process.

So each process announces, in one small document, the server sessions it runs
transactions on and a beat counter it bumps every ``beat_seconds``. Every process reads
the others' documents as often; one whose counter has not moved for ``dead_after_seconds``
(as timed by the reader's own clock: no clock is compared across hosts) is taken for dead,
and its sessions are ended with ``killSessions``, which aborts their transactions and
releases the documents. A process that was only stalled loses nothing but the attempt in
flight: its transaction aborts, and ``in_transaction`` retries it."""

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bson import Binary
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from models.tenants import Tenant

log = logging.getLogger(__name__)
COLLECTION = "transaction_sessions"
MAX_ANNOUNCED = 256  # sessions one process announces (its busiest recent ones)


@dataclass
class _Sighting:
    beat: Any
    since: float  # monotonic time the reader first saw this beat


@dataclass
class TransactionSessions:
    """This process's announcement, and what it has seen of the others'."""

    beat_seconds: float = 1.0
    dead_after_seconds: float = 4.0
    process_id: str = field(default_factory=lambda: secrets.token_hex(8))
    clock: Callable[[], float] = time.monotonic
    _sessions: OrderedDict[bytes, Binary] = field(default_factory=OrderedDict, init=False)
    _seen: dict[str, _Sighting] = field(default_factory=dict, init=False)

    @staticmethod
    def _collection() -> Any:
        return Tenant.get_pymongo_collection().database[COLLECTION]

    async def enlist(self, session: AsyncClientSession) -> None:
        """Announce ``session`` before its first transaction here (once per session)."""
        lsid: Binary = session.session_id["id"]
        key = bytes(lsid)
        if key in self._sessions:
            self._sessions.move_to_end(key)
            return
        self._sessions[key] = lsid
        while len(self._sessions) > MAX_ANNOUNCED:
            self._sessions.popitem(last=False)
        await self.announce()

    async def announce(self) -> None:
        await self._collection().update_one(
            {"_id": self.process_id},
            {"$set": {"sessions": list(self._sessions.values())}, "$inc": {"beat": 1}},
            upsert=True,
        )

    async def reap(self) -> list[str]:
        """End the sessions of every process whose beat stopped; which processes."""
        now = self.clock()
        present: set[str] = set()
        reaped: list[str] = []
        async for doc in self._collection().find({"_id": {"$ne": self.process_id}}):
            process = str(doc["_id"])
            present.add(process)
            seen = self._seen.get(process)
            if seen is None or seen.beat != doc.get("beat"):
                self._seen[process] = _Sighting(doc.get("beat"), now)
                continue
            if now - seen.since < self.dead_after_seconds:
                continue
            sessions = [{"id": lsid} for lsid in doc.get("sessions") or []]
            if sessions:
                await self._collection().database.client.admin.command("killSessions", sessions)
            await self._collection().delete_one({"_id": doc["_id"], "beat": doc.get("beat")})
            del self._seen[process]
            reaped.append(process)
            log.warning(
                "ended the open transactions of a stopped process",
                extra={"stopped_process": process, "sessions": len(sessions)},
            )
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return reaped

    async def run(self) -> None:
        """Beat and reap until cancelled; a database outage only skips beats."""
        while True:
            try:
                await self.announce()
                await self.reap()
            except PyMongoError as exc:
                log.debug("transaction session beat skipped: %s", type(exc).__name__)
            except Exception:
                log.exception("transaction session beat failed; beating on")
            await asyncio.sleep(self.beat_seconds)

    async def withdraw(self) -> None:
        """On a clean stop: nobody needs to reap this process."""
        try:
            await self._collection().delete_one({"_id": self.process_id})
        except PyMongoError as exc:
            log.debug("transaction session withdrawal skipped: %s", type(exc).__name__)
