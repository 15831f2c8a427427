"""``opportunityPublished``: one topic per tenant; the payload names the opportunity, whose
current state subscribers read (a draft is never shown)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Self

import orjson
from bson import ObjectId

from models.opportunities import Opportunity
from subscriptions.broker import Broker

BUFFER = 1000  # undelivered events per subscriber before its stream is closed


def opportunities_topic(tenant_id: str | ObjectId) -> str:
    return f"opportunities:{tenant_id}"


@dataclass(frozen=True, slots=True)
class OpportunityPublishedPayload:
    opportunity_id: str

    def encode(self) -> str:
        return orjson.dumps({"id": self.opportunity_id}).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> Self:
        return cls(opportunity_id=orjson.loads(message)["id"])


async def publish_opportunity(broker: Broker, opportunity: Opportunity) -> None:
    payload = OpportunityPublishedPayload(str(opportunity.id))
    await broker.publish(opportunities_topic(opportunity.tenant_id), payload.encode())


async def opportunity_stream(
    broker: Broker, tenant_id: str | ObjectId
) -> AsyncIterator[OpportunityPublishedPayload]:
    async for _topic, message in broker.listen([opportunities_topic(tenant_id)], limit=BUFFER):
        yield OpportunityPublishedPayload.decode(message)
