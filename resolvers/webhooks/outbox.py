"""Business events for partners' webhooks: queued in the outbox (one delivery row per
subscribed endpoint) and sent by the dispatcher (resolvers/webhooks/dispatcher.py).

To publish an event from a use case, after its write succeeded::

    await webhooks.emit(ctx, WebhookEventType.DOCUMENT_SIGNED, {"documentId": str(doc.id)})

``emit`` writes one delivery row per enabled endpoint of the caller's tenant subscribed to
that type, wakes the dispatchers and returns how many rows it queued. It never fails the
caller's operation: the business write has already happened, so an outbox failure is
logged, counted and retried in the background (resolvers.core.post_commit). ``data`` is JSON
(Decimal and ObjectId become strings; use camelCase keys and string money like the
GraphQL API)."""

from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

import orjson
from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import BulkWriteError

from models.investments import Investment, Redemption
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookEventType
from resolvers.core.context import RequestContext, Services
from resolvers.core.post_commit import after_commit

WAKE_TOPIC = "webhooks:wake"


def _json_default(value: object) -> str:
    if isinstance(value, Decimal | ObjectId):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _rows(
    services: Services,
    endpoints: list[WebhookEndpoint],
    event_type: WebhookEventType,
    data: dict[str, Any],
) -> list[WebhookDelivery]:
    """One delivery row per endpoint, all with the same frozen body (and one event id)."""
    now = services.clock()
    tenant_id = endpoints[0].tenant_id
    event_id = str(ObjectId())
    body = orjson.dumps(
        {
            "id": event_id,
            "type": event_type.value,
            "createdAt": now.isoformat(),
            "tenant": str(tenant_id),
            "data": data,
        },
        default=_json_default,
    ).decode()
    return [
        WebhookDelivery(
            id=PydanticObjectId(),  # insert_many does not fill ids in
            tenant_id=tenant_id,
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=event_type,
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        for endpoint in endpoints
        if endpoint.id is not None
    ]


async def _insert(services: Services, rows: list[WebhookDelivery]) -> None:
    """Insert the rows (again: those an earlier attempt inserted are skipped), then wake
    the dispatchers — should that fail, they find the rows on their next look anyway."""
    try:
        await WebhookDelivery.insert_many(rows, ordered=False)
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        if exc.details.get("writeConcernErrors") or any(e.get("code") != 11000 for e in errors):
            raise
    wake = partial(services.broker.publish, WAKE_TOPIC, rows[0].event_id)
    await after_commit(services.background, "webhook-wake", wake)


async def queue(
    services: Services,
    endpoints: list[WebhookEndpoint],
    event_type: WebhookEventType,
    data: dict[str, Any],
) -> list[WebhookDelivery]:
    """Queue an event for these endpoints now (a failure is the caller's)."""
    rows = _rows(services, endpoints, event_type, data)
    await _insert(services, rows)
    return rows


@dataclass
class _Emission:
    """One event for a tenant's subscribed endpoints; ``queue`` may be tried again after a
    failure and queues the same rows (same ids, same body) at most once."""

    services: Services
    tenant_id: PydanticObjectId
    event_type: WebhookEventType
    data: dict[str, Any]
    rows: list[WebhookDelivery] | None = None

    async def queue(self) -> None:
        if self.rows is None:
            subscribed = {"enabled": True, "event_types": self.event_type.value}
            endpoints = await WebhookEndpoint.find(
                {"tenant_id": self.tenant_id, **subscribed}
            ).to_list()
            rows = _rows(self.services, endpoints, self.event_type, self.data) if endpoints else []
            self.rows = rows
        if self.rows:
            await _insert(self.services, self.rows)


async def emit_for_tenant(
    services: Services,
    tenant_id: PydanticObjectId,
    event_type: WebhookEventType,
    data: dict[str, Any],
) -> int:
    """``emit`` for code that has no request context (CLI, workers). Returns the number of
    deliveries queued now; 0 also when the database failed (resolvers.core.post_commit: the
    event is queued by a background retry once it is back)."""
    emission = _Emission(services, tenant_id, event_type, data)
    if not await after_commit(services.background, "webhook-queue", emission.queue):
        return 0
    return len(emission.rows or ())


async def emit(ctx: RequestContext, event_type: WebhookEventType, data: dict[str, Any]) -> int:
    """Queue ``event_type`` with ``data`` for the caller's tenant; call it AFTER the business
    write succeeded. Returns the number of deliveries queued (0 when none subscribes)."""
    principal = ctx.require_principal()
    return await emit_for_tenant(ctx.services, principal.tenant_id, event_type, data)


def investment_created(investment: Investment) -> dict[str, Any]:
    return {
        "investmentId": str(investment.id),
        "investorId": str(investment.investor_id),
        "fundCode": investment.fund_code,
        "opportunityId": str(investment.opportunity_id) if investment.opportunity_id else None,
        "portfolioId": str(investment.portfolio_id) if investment.portfolio_id else None,
        "amount": str(investment.amount),
        "depositDate": investment.deposit_date.isoformat(),
    }


def redemption_decided(redemption: Redemption) -> dict[str, Any]:
    return {
        "redemptionId": str(redemption.id),
        "investmentId": str(redemption.investment_id),
        "investorId": str(redemption.investor_id),
        "amount": str(redemption.amount),
        "kind": redemption.kind.value,
        "decision": redemption.status.value,
        "reason": redemption.reason,
        "decidedBy": str(redemption.decided_by) if redemption.decided_by else None,
        "decidedAt": redemption.decided_at.isoformat() if redemption.decided_at else None,
    }
