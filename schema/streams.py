"""Guards every subscription field shares: a per-connection subscription budget."""

from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from models.errors import Conflict
from resolvers.context import RequestContext

T = TypeVar("T")


async def guarded(context: RequestContext, stream: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """Iterate ``stream`` while counting it against the connection's subscription limit."""
    limit = context.services.max_subscriptions_per_connection
    if context.active_subscriptions >= limit:
        raise Conflict(f"At most {limit} subscriptions per connection")
    context.active_subscriptions += 1
    try:
        async for item in stream:
            yield item
    finally:
        context.active_subscriptions -= 1
