"""``pipelineChanged``: one topic per tenant; the payload names the prospect that was
created or changed stage (or AML result), whose current state subscribers read."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Self

import orjson
from bson import ObjectId

from models.crm import Prospect
from subscriptions.broker import Broker

BUFFER = 1000  # undelivered events per subscriber before its stream is closed


def pipeline_topic(tenant_id: str | ObjectId) -> str:
    return f"pipeline:{tenant_id}"


@dataclass(frozen=True, slots=True)
class ProspectChangedPayload:
    prospect_id: str

    def encode(self) -> str:
        return orjson.dumps({"id": self.prospect_id}).decode()

    @classmethod
    def decode(cls, message: str | bytes) -> Self:
        return cls(prospect_id=orjson.loads(message)["id"])


async def publish_prospect_changed(broker: Broker, prospect: Prospect) -> None:
    payload = ProspectChangedPayload(str(prospect.id))
    await broker.publish(pipeline_topic(prospect.tenant_id), payload.encode())


async def pipeline_stream(
    broker: Broker, tenant_id: str | ObjectId
) -> AsyncIterator[ProspectChangedPayload]:
    async for _topic, message in broker.listen([pipeline_topic(tenant_id)], limit=BUFFER):
        yield ProspectChangedPayload.decode(message)
