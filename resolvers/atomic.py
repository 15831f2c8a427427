"""Multi-document writes in one MongoDB transaction (retried on transient errors)."""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pymongo.asynchronous.client_session import AsyncClientSession

from models.tenants import Tenant

T = TypeVar("T")


async def in_transaction(work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
    client: Any = Tenant.get_pymongo_collection().database.client
    async with client.start_session() as session:
        result: T = await session.with_transaction(work)
        return result
