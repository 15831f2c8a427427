"""``opportunityPublished``: one topic per tenant; the payload names the opportunity, whose
current state subscribers read (a draft is never shown)."""

from collections.abc import AsyncIterator

from bson import ObjectId

from models.opportunities import Opportunity
from subscriptions.broker import Broker
from subscriptions.payloads import DocumentRef, document_refs
from subscriptions.sinks import Gap

BUFFER = 1000  # undelivered events per subscriber before its stream is closed


def opportunities_topic(tenant_id: str | ObjectId) -> str:
    return f"opportunities:{tenant_id}"


async def publish_opportunity(broker: Broker, opportunity: Opportunity) -> None:
    payload = DocumentRef(str(opportunity.id))
    await broker.publish(opportunities_topic(opportunity.tenant_id), payload.encode())


def opportunity_stream(
    broker: Broker, tenant_id: str | ObjectId
) -> AsyncIterator[DocumentRef | Gap]:
    return document_refs(broker, opportunities_topic(tenant_id), BUFFER)
