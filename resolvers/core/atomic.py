"""Multi-document writes in one MongoDB transaction, retried on transient errors for a
bounded time, committed with durable acknowledgement.

PyMongo's ``with_transaction`` keeps retrying for 120 s, which turns a database outage into
hanging requests; bounding it with a client-side timeout (``pymongo.timeout``) instead can
leave a transaction open on the server when the deadline passes mid-transaction (the abort
is not sent), and that open transaction blocks later writes to the same documents. So the
loop is ours: every failed attempt is aborted, and no attempt starts after the budget.

Two budgets: an unreachable database is retried for a few server selection timeouts (then
the client hears "database unavailable"); a write conflict — another transaction holds the
documents — only for ``CONFLICT_SECONDS``, then the client hears a retryable CONFLICT. A
conflict that lasts is a transaction left open by a process that died; the process's
sessions are ended by the others (resolvers.core.transaction_sessions) within seconds."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo import WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from models.errors import Conflict, FidusError
from models.tenants import Tenant
from resolvers.core.outages import unavailable_component
from resolvers.core.transaction_sessions import TransactionSessions

T = TypeVar("T")

MIN_RETRY_SECONDS = 10.0
CONFLICT_SECONDS = 2.0
TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"
BUSY = "Another change to the same records is in progress; retry shortly"
UNCONFIRMED = "The database did not confirm this write in time; retry it (it is not applied twice)"
# Money moves only once a majority of the replica set has it in its journal (SecantusDB,
# one node, takes w: majority as itself and journals commits durably with --sync-on-commit).
DURABLE = WriteConcern(w="majority", j=True)


def retry_budget(client: Any) -> float:
    """How long a transaction may keep retrying: a few server selection timeouts."""
    return max(MIN_RETRY_SECONDS, 3 * float(client.options.server_selection_timeout))


async def _commit(session: AsyncClientSession, deadline: float) -> None:
    while True:
        try:
            await session.commit_transaction()
            return
        except PyMongoError as exc:
            if exc.has_error_label(UNKNOWN_COMMIT) and time.monotonic() < deadline:
                continue  # the commit may have happened: committing again is safe
            raise


def give_up_or_retry(
    exc: BaseException, outage_until: float, conflict_until: float, busy: str
) -> None:
    """Return to try again; otherwise raise what the caller should see."""
    if not isinstance(exc, PyMongoError):
        raise exc
    now = time.monotonic()
    outage = unavailable_component(exc) is not None
    if exc.has_error_label(TRANSIENT):
        if now < (outage_until if outage else min(outage_until, conflict_until)):
            return
        if outage:
            raise exc  # "the database is unavailable", retryable (schema.core.errors)
        raise Conflict(busy, retryable=True) from exc
    if exc.has_error_label(UNKNOWN_COMMIT) and not outage:
        raise FidusError(UNCONFIRMED, retryable=True) from exc
    raise exc


async def in_transaction(
    sessions: TransactionSessions,
    work: Callable[[AsyncClientSession], Awaitable[T]],
    *,
    busy: str = BUSY,
) -> T:
    """Run ``work`` in a transaction; ``busy`` is the CONFLICT message when the documents
    stay held by another transaction past the conflict budget."""
    client: Any = Tenant.get_pymongo_collection().database.client
    started = time.monotonic()
    outage_until = started + retry_budget(client)
    conflict_until = started + CONFLICT_SECONDS
    commit_ms = int(1000 * float(client.options.server_selection_timeout))
    backoff = 0.005
    async with client.start_session() as session:
        while True:
            if backoff > 0.005:  # a retry: let the conflicting writer finish
                await asyncio.sleep(random.uniform(0, backoff))  # noqa: S311 (jitter)
            backoff = min(backoff * 2, 0.5)
            await sessions.enlist(session)
            await session.start_transaction(write_concern=DURABLE, max_commit_time_ms=commit_ms)
            try:
                result = await work(session)
                await _commit(session, outage_until)
                return result
            except BaseException as exc:
                if session.in_transaction:
                    await session.abort_transaction()  # never raises; bounded by selection
                give_up_or_retry(exc, outage_until, conflict_until, busy)
