"""Multi-document writes in one MongoDB transaction (retried on transient errors)."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pymongo
from pymongo.asynchronous.client_session import AsyncClientSession

from models.tenants import Tenant

T = TypeVar("T")

MIN_RETRY_SECONDS = 10.0


def retry_budget(client: Any) -> float:
    """How long a transaction may keep retrying: PyMongo's own limit is 120 s, which turns
    a database outage into hanging requests. A few server selection timeouts instead."""
    return max(MIN_RETRY_SECONDS, 3 * float(client.options.server_selection_timeout))


async def in_transaction(work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    client: Any = Tenant.get_pymongo_collection().database.client
    with pymongo.timeout(retry_budget(client)):
        async with client.start_session() as session:
            result: T = await session.with_transaction(work)
            return result
