"""Broker topics and what is published on them after a write succeeded. Portfolio changes
are *marked* for the valuation worker, which coalesces them and publishes the newest state."""

import orjson
from beanie import PydanticObjectId

from models.crm import Prospect
from models.messaging import Message
from models.opportunities import Opportunity
from resolvers.context import RequestContext
from subscriptions.broker import Broker

DIRTY_TOPIC = "valuation:dirty"


def portfolio_topic(tenant_id: str, portfolio_id: str) -> str:
    return f"portfolio:{tenant_id}:{portfolio_id}"


def conversation_topic(tenant_id: str, conversation_id: str) -> str:
    return f"conversation:{tenant_id}:{conversation_id}"


def opportunities_topic(tenant_id: str) -> str:
    return f"opportunities:{tenant_id}"


def pipeline_topic(tenant_id: str) -> str:
    return f"pipeline:{tenant_id}"


async def mark_portfolio(broker: Broker, tenant_id: str, portfolio_id: str, reason: str) -> None:
    message = {"tenant": tenant_id, "portfolio": portfolio_id, "reason": reason}
    await broker.publish(DIRTY_TOPIC, orjson.dumps(message).decode())


async def mark_symbols(broker: Broker, tenant_id: str, symbols: list[str]) -> None:
    """New prices: every portfolio holding one of ``symbols`` is to be revalued."""
    if symbols:
        message = {"tenant": tenant_id, "symbols": sorted(set(symbols)), "reason": "TICK"}
        await broker.publish(DIRTY_TOPIC, orjson.dumps(message).decode())


async def portfolio_changed(
    ctx: RequestContext, portfolio_id: PydanticObjectId, reason: str
) -> None:
    principal = ctx.require_principal()
    await mark_portfolio(ctx.services.broker, str(principal.tenant_id), str(portfolio_id), reason)


async def opportunity_published(ctx: RequestContext, opportunity: Opportunity) -> None:
    await ctx.services.broker.publish(
        opportunities_topic(str(opportunity.tenant_id)),
        orjson.dumps({"id": str(opportunity.id)}).decode(),
    )


def message_payload(message: Message) -> dict[str, str]:
    return {
        "id": str(message.id),
        "conversationId": str(message.conversation_id),
        "senderId": str(message.sender_id),
        "body": message.body,
        "sentAt": message.created_at.isoformat(),
    }


async def message_sent(ctx: RequestContext, message: Message) -> None:
    """The whole message, JSON-encoded once: subscribers need no database read."""
    await ctx.services.broker.publish(
        conversation_topic(str(message.tenant_id), str(message.conversation_id)),
        orjson.dumps(message_payload(message)).decode(),
    )


async def prospect_changed(ctx: RequestContext, prospect: Prospect) -> None:
    """A prospect was created or changed stage (or AML result): payload is its id."""
    await ctx.services.broker.publish(
        pipeline_topic(str(prospect.tenant_id)),
        orjson.dumps({"id": str(prospect.id)}).decode(),
    )
