"""Streams behind the subscriptions other than ticks. Authorization is checked when the
subscription starts; the caller then receives only its tenant's (and object's) events."""

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson

from models.opportunities import Opportunity, OpportunityStatus
from resolvers.context import RequestContext
from resolvers.portfolios import get_portfolio
from resolvers.topics import opportunities_topic, portfolio_topic


async def portfolio_updates(ctx: RequestContext, raw_id: str) -> AsyncIterator[dict[str, Any]]:
    """Owner, or ADMIN/MANAGER/ANALYST of the tenant; else NOT_FOUND before streaming."""
    portfolio = await get_portfolio(ctx, raw_id, field="portfolioId")
    topic = portfolio_topic(str(portfolio.tenant_id), str(portfolio.id))

    async def stream() -> AsyncGenerator[dict[str, Any], None]:
        async for _topic, message in ctx.services.broker.listen([topic], conflate=True):
            yield orjson.loads(message)

    return stream()


async def published_opportunities(ctx: RequestContext) -> AsyncIterator[Opportunity]:
    principal = ctx.require_principal()
    topic = opportunities_topic(str(principal.tenant_id))

    async def stream() -> AsyncGenerator[Opportunity, None]:
        async for _topic, message in ctx.services.broker.listen([topic], limit=1000):
            found = await Opportunity.find_one(
                {"tenant_id": principal.tenant_id, "_id": orjson.loads(message)["id"]}
            )
            if found is not None and found.status is not OpportunityStatus.DRAFT:
                yield found

    return stream()
