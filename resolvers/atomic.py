"""Multi-document writes in one MongoDB transaction, retried on transient errors for a
bounded time.

PyMongo's ``with_transaction`` keeps retrying for 120 s, which turns a database outage into
hanging requests; bounding it with a client-side timeout (``pymongo.timeout``) instead can
leave a transaction open on the server when the deadline passes mid-transaction (the abort
is not sent), and that open transaction blocks later writes to the same documents. So the
loop is ours: every failed attempt is aborted, and no attempt starts after the budget."""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import PyMongoError

from models.tenants import Tenant

T = TypeVar("T")

MIN_RETRY_SECONDS = 10.0
TRANSIENT = "TransientTransactionError"
UNKNOWN_COMMIT = "UnknownTransactionCommitResult"


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


async def in_transaction(work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    client: Any = Tenant.get_pymongo_collection().database.client
    deadline = time.monotonic() + retry_budget(client)
    backoff = 0.005
    async with client.start_session() as session:
        while True:
            if backoff > 0.005:  # a retry: let the conflicting writer finish
                await asyncio.sleep(random.uniform(0, backoff))  # noqa: S311 (jitter)
            backoff = min(backoff * 2, 0.5)
            await session.start_transaction()
            try:
                result = await work(session)
            except BaseException as exc:
                if session.in_transaction:
                    await session.abort_transaction()  # never raises; bounded by selection
                if (
                    isinstance(exc, PyMongoError)
                    and exc.has_error_label(TRANSIENT)
                    and time.monotonic() < deadline
                ):
                    continue
                raise
            try:
                await _commit(session, deadline)
            except PyMongoError as exc:
                if exc.has_error_label(TRANSIENT) and time.monotonic() < deadline:
                    continue
                raise
            return result
