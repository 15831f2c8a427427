"""Outbound webhooks: ADMINs register partner endpoints; business events are queued for
them with ``emit`` (resolvers.webhooks.outbox, re-exported here) and sent by the dispatcher
(resolvers/webhooks/dispatcher.py)."""

import logging
from dataclasses import dataclass
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict, NotFound
from models.permissions import Can
from models.webhooks import (
    SUBSCRIBABLE_EVENTS,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEventType,
)
from resolvers.audit import trail as audit
from resolvers.core.context import RequestContext, Services
from resolvers.core.pagination import Page, page_of
from resolvers.core.scope import get_in_tenant, parse_id, tenant_filter
from resolvers.webhooks.outbox import WAKE_TOPIC as WAKE_TOPIC
from resolvers.webhooks.outbox import emit as emit
from resolvers.webhooks.outbox import emit_for_tenant as emit_for_tenant
from resolvers.webhooks.outbox import investment_created as investment_created
from resolvers.webhooks.outbox import queue
from resolvers.webhooks.outbox import redemption_decided as redemption_decided
from resolvers.webhooks.secrets import key_id, new_signing_secret, seal
from resolvers.webhooks.targets import check_url

log = logging.getLogger(__name__)

MAX_DESCRIPTION = 500
MAX_ENDPOINTS_PER_TENANT = 50


@dataclass(frozen=True)
class WebhookFields:
    """What an ADMIN sets; None leaves a field unchanged (on update)."""

    url: str | None = None
    event_types: list[WebhookEventType] | None = None
    description: str | None = None
    enabled: bool | None = None


def _clean_event_types(types: list[WebhookEventType]) -> list[WebhookEventType]:
    chosen = sorted(set(types))
    if not chosen:
        raise BadUserInput("Choose at least one event type", field="eventTypes")
    if not set(chosen) <= SUBSCRIBABLE_EVENTS:
        raise BadUserInput(
            "TEST events are sent on request (sendTestWebhook), not subscribed to",
            field="eventTypes",
        )
    return chosen


def _clean_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise BadUserInput(
            f"Description must be at most {MAX_DESCRIPTION} characters", field="description"
        )
    return description


def _sealed(services: Services, tenant_id: ObjectId, endpoint_id: ObjectId) -> tuple[str, str]:
    """(secret, sealed secret) for an endpoint."""
    secret = new_signing_secret()
    return secret, seal(services.webhooks.secret_key, secret, f"{tenant_id}:{endpoint_id}")


async def create(ctx: RequestContext, fields: WebhookFields) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its signing secret, which is shown this once only. Registering a
    URL the tenant already registered is CONFLICT (the secret is never shown again)."""
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    url = check_url(fields.url or "", ctx.services.webhooks)
    types = _clean_event_types(fields.event_types or [])
    description = _clean_description(fields.description or "")
    if await WebhookEndpoint.find(tenant_filter(principal)).count() >= MAX_ENDPOINTS_PER_TENANT:
        raise Conflict(f"A tenant may register at most {MAX_ENDPOINTS_PER_TENANT} webhooks")
    endpoint_id = PydanticObjectId()
    secret, box = _sealed(ctx.services, principal.tenant_id, endpoint_id)
    endpoint = WebhookEndpoint(
        id=endpoint_id,
        tenant_id=principal.tenant_id,
        url=url,
        event_types=types,
        description=description,
        secret_box=box,
        key_id=key_id(ctx.services.webhooks.secret_key),
        created_by=principal.user_id,
    )
    try:
        await endpoint.insert()
    except DuplicateKeyError as exc:
        raise Conflict(
            "A webhook for this URL is already registered; update it or rotate its secret",
            field="url",
        ) from exc
    await audit.record(
        ctx, "webhook.create", "WebhookEndpoint", endpoint.id, url=url, event_types=types
    )
    return endpoint, secret


async def list_endpoints(ctx: RequestContext) -> list[WebhookEndpoint]:
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    return await WebhookEndpoint.find(tenant_filter(principal)).sort("_id").to_list()


async def update(ctx: RequestContext, raw_id: str, fields: WebhookFields) -> WebhookEndpoint:
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    endpoint = await get_in_tenant(WebhookEndpoint, principal, raw_id, what="Webhook")
    changes: dict[str, Any] = {"updated_at": ctx.now()}
    if fields.url is not None:
        changes["url"] = check_url(fields.url, ctx.services.webhooks)
    if fields.event_types is not None:
        changes["event_types"] = [t.value for t in _clean_event_types(fields.event_types)]
    if fields.description is not None:
        changes["description"] = _clean_description(fields.description)
    if fields.enabled is not None:
        changes["enabled"] = fields.enabled
        changes["disabled_reason"] = None if fields.enabled else "disabled by an administrator"
    try:
        doc = await WebhookEndpoint.get_pymongo_collection().find_one_and_update(
            tenant_filter(principal, _id=endpoint.id),
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
    except DuplicateKeyError as exc:
        raise Conflict("Another webhook of this tenant has that URL", field="url") from exc
    if doc is None:
        raise NotFound("Webhook not found")
    if fields.enabled is False:
        await cancel_pending(endpoint.id, "the endpoint was disabled")
    detail = {k: v for k, v in changes.items() if k != "updated_at"}
    await audit.record(ctx, "webhook.update", "WebhookEndpoint", endpoint.id, **detail)
    updated: WebhookEndpoint = WebhookEndpoint.model_validate(doc)
    return updated


async def delete(ctx: RequestContext, raw_id: str) -> bool:
    """Removes the endpoint and its delivery log (the audit trail keeps the record)."""
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    endpoint_id = parse_id(raw_id)
    removed = await WebhookEndpoint.get_pymongo_collection().delete_one(
        tenant_filter(principal, _id=endpoint_id)
    )
    if removed.deleted_count != 1:
        raise NotFound("Webhook not found")
    await WebhookDelivery.get_pymongo_collection().delete_many(
        tenant_filter(principal, endpoint_id=endpoint_id)
    )
    await audit.record(ctx, "webhook.delete", "WebhookEndpoint", endpoint_id)
    return True


async def rotate_secret(ctx: RequestContext, raw_id: str) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, shown this once; the old one stops signing immediately
    (deliveries still waiting for a retry are signed with the new one)."""
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    endpoint = await get_in_tenant(WebhookEndpoint, principal, raw_id, what="Webhook")
    assert endpoint.id is not None
    secret, box = _sealed(ctx.services, principal.tenant_id, endpoint.id)
    now = ctx.now()
    doc = await WebhookEndpoint.get_pymongo_collection().find_one_and_update(
        tenant_filter(principal, _id=endpoint.id),
        {
            "$set": {
                "secret_box": box,
                "key_id": key_id(ctx.services.webhooks.secret_key),
                "secret_rotated_at": now,
                "updated_at": now,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise NotFound("Webhook not found")
    await audit.record(ctx, "webhook.rotate_secret", "WebhookEndpoint", endpoint.id)
    rotated: WebhookEndpoint = WebhookEndpoint.model_validate(doc)
    return rotated, secret


async def send_test(ctx: RequestContext, raw_id: str) -> WebhookDelivery:
    """Queues a TEST event for this endpoint only, whatever types it subscribes to."""
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    endpoint = await get_in_tenant(WebhookEndpoint, principal, raw_id, what="Webhook")
    if not endpoint.enabled:
        raise Conflict("The webhook is disabled; enable it first")
    data = {"message": "A test event from Fidus", "webhookId": str(endpoint.id)}
    [delivery] = await queue(ctx.services, [endpoint], WebhookEventType.TEST, data)
    await audit.record(ctx, "webhook.test", "WebhookEndpoint", endpoint.id)
    return delivery


async def deliveries(
    ctx: RequestContext, raw_id: str, first: int | None, after: str | None
) -> Page[WebhookDelivery]:
    """The endpoint's delivery log, oldest first (keyset pages like every list)."""
    principal = ctx.require(Can.ADMINISTER_WEBHOOKS)
    endpoint = await get_in_tenant(
        WebhookEndpoint, principal, raw_id, field="webhookId", what="Webhook"
    )
    return await page_of(
        WebhookDelivery,
        tenant_filter(principal, endpoint_id=endpoint.id),
        ctx,
        list_name=f"webhook-deliveries:{endpoint.id}",
        first=first,
        after=after,
    )


async def cancel_pending(endpoint_id: ObjectId | None, reason: str) -> None:
    """Deliveries still waiting for this endpoint are not sent (a row being sent right now
    finishes its attempt)."""
    await WebhookDelivery.get_pymongo_collection().update_many(
        {"endpoint_id": endpoint_id, "status": DeliveryStatus.PENDING.value},
        {"$set": {"status": DeliveryStatus.CANCELLED.value, "next_attempt_at": None}},
    )
    log.info("webhook deliveries cancelled", extra={"webhook_id": str(endpoint_id), "why": reason})
