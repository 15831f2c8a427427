"""``pipelineChanged``: one topic per tenant; the payload names the prospect that was
created or changed stage (or AML result), whose current state subscribers read."""

from collections.abc import AsyncIterator

from bson import ObjectId

from models.crm import Prospect
from subscriptions.broker import Broker
from subscriptions.payloads import DocumentRef, document_refs
from subscriptions.sinks import Gap

BUFFER = 1000  # undelivered events per subscriber before its stream is closed


def pipeline_topic(tenant_id: str | ObjectId) -> str:
    return f"pipeline:{tenant_id}"


async def publish_prospect_changed(broker: Broker, prospect: Prospect) -> None:
    payload = DocumentRef(str(prospect.id))
    await broker.publish(pipeline_topic(prospect.tenant_id), payload.encode())


def pipeline_stream(broker: Broker, tenant_id: str | ObjectId) -> AsyncIterator[DocumentRef | Gap]:
    return document_refs(broker, pipeline_topic(tenant_id), BUFFER)
