"""Streams behind the subscriptions other than ticks. Authorization is checked when the
subscription starts; the caller then receives only its tenant's (and object's) events."""

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import orjson

from models.opportunities import Opportunity, OpportunityStatus
from resolvers import messaging
from resolvers.context import RequestContext
from resolvers.portfolios import get_portfolio
from resolvers.topics import conversation_topic, opportunities_topic, portfolio_topic


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


MESSAGE_BUFFER = 500  # undelivered messages per subscriber before its stream is closed


async def received_messages(ctx: RequestContext, raw_id: str) -> AsyncIterator[dict[str, Any]]:
    """Participants only (NOT_FOUND otherwise, before anything streams); every message of
    the conversation, in publication order, through a bounded buffer."""
    conversation = await messaging.get(ctx, raw_id, field="conversationId")
    topic = conversation_topic(str(conversation.tenant_id), str(conversation.id))

    async def stream() -> AsyncGenerator[dict[str, Any], None]:
        async for _topic, message in ctx.services.broker.listen([topic], limit=MESSAGE_BUFFER):
            yield orjson.loads(message)

    return stream()
