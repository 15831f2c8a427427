"""Guards every subscription field shares: a per-connection subscription budget, and the
end of the stream when the caller's access token expires."""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from prometheus_client import Gauge

from models.errors import Conflict, Unauthenticated
from resolvers.context import RequestContext

T = TypeVar("T")
ACTIVE = Gauge("fidus_active_subscriptions", "Subscriptions streaming in this process")


async def guarded(context: RequestContext, stream: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """Iterate ``stream`` while counting it against the connection's subscription limit."""
    limit = context.services.max_subscriptions_per_connection
    if context.active_subscriptions >= limit:
        raise Conflict(f"At most {limit} subscriptions per connection")
    context.active_subscriptions += 1
    ACTIVE.inc()
    principal = context.require_principal()
    remaining = (
        None
        if principal.expires_at is None
        else max(0.0, (principal.expires_at - context.now()).total_seconds())
    )
    try:
        async with asyncio.timeout(remaining):
            async for item in stream:
                # DataLoaders live as long as the connection's context: each event is
                # resolved with fresh ones, or nested fields would repeat the first event's
                context.loaders = None
                yield item
    except TimeoutError as exc:  # the access token expired: the stream ends
        raise Unauthenticated("Access token expired; reconnect with a fresh token") from exc
    finally:
        context.active_subscriptions -= 1
        ACTIVE.dec()
