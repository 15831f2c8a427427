"""Guards every subscription field shares: a per-connection subscription budget. (The
connection itself closes when its session is revoked or its access token expires, unless
renewed: see app.connections.)"""

from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from prometheus_client import Gauge

from models.errors import Conflict
from resolvers.core.context import RequestContext

T = TypeVar("T")
ACTIVE = Gauge("fidus_active_subscriptions", "Subscriptions streaming in this process")


async def guarded(context: RequestContext, stream: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """Iterate ``stream`` while counting it against the connection's subscription limit."""
    limit = context.services.max_subscriptions_per_connection
    if context.active_subscriptions >= limit:
        raise Conflict(f"At most {limit} subscriptions per connection")
    context.active_subscriptions += 1
    ACTIVE.inc()
    context.require_principal()
    try:
        async for item in stream:
            # DataLoaders live as long as the connection's context: each event is
            # resolved with fresh ones, or nested fields would repeat the first event's
            context.loaders = None
            yield item
    finally:
        context.active_subscriptions -= 1
        ACTIVE.dec()
