"""Outbound webhooks: partner endpoints, and the delivery outbox the dispatcher drains.

A delivery row is written per (event, endpoint) after the business write succeeded; a
dispatcher claims a due row with one conditional ``find_one_and_update`` (status PENDING,
or SENDING with an expired lease), so concurrent dispatchers never send the same row
twice and a row claimed by a crashed process is retried once its lease runs out."""

import random
from datetime import datetime, timedelta
from enum import StrEnum

from beanie import PydanticObjectId
from pydantic import BaseModel
from pymongo import ASCENDING, IndexModel

from models.base import TenantDocument, tenant_index


class WebhookEventType(StrEnum):
    INVESTMENT_CREATED = "INVESTMENT_CREATED"
    REDEMPTION_DECIDED = "REDEMPTION_DECIDED"  # approved or rejected
    PROSPECT_CONVERTED = "PROSPECT_CONVERTED"
    DOCUMENT_SIGNED = "DOCUMENT_SIGNED"
    TEST = "TEST"  # only sent on request (sendTestWebhook), never subscribed to


SUBSCRIBABLE_EVENTS = frozenset(WebhookEventType) - {WebhookEventType.TEST}


class WebhookEndpoint(TenantDocument):
    """A partner's URL. ``secret_box`` is the signing secret sealed with AES-GCM under the
    deployment's webhook key (it must be readable to compute each HMAC, so it cannot be
    hashed); ``key_id`` names that key so a key change is diagnosed, not silently wrong."""

    url: str  # normalized (resolvers/webhook_targets.check_url); unique per tenant
    event_types: list[WebhookEventType]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    secret_box: str
    key_id: str
    secret_rotated_at: datetime | None = None
    created_by: PydanticObjectId
    updated_at: datetime | None = None

    class Settings:
        name = "webhook_endpoints"
        indexes = [
            tenant_index("url", unique=True),
            tenant_index("event_types"),
        ]


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its (next) attempt at ``next_attempt_at``
    SENDING = "SENDING"  # claimed by a dispatcher until ``lease_until``
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # attempts exhausted, or the receiver answered 410 Gone
    CANCELLED = "CANCELLED"  # the endpoint was disabled before it could be sent


class DeliveryAttempt(BaseModel):
    number: int
    at: datetime
    status_code: int | None = None
    error: str | None = None
    duration_ms: int


class WebhookDelivery(TenantDocument):
    """One event for one endpoint. ``body`` is frozen at emit time, so every retry sends
    the same bytes (receivers de-duplicate on the delivery id)."""

    endpoint_id: PydanticObjectId
    event_id: str
    event_type: WebhookEventType
    body: str
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempt_count: int = 0
    attempts: list[DeliveryAttempt] = []
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    lease_owner: str | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None

    class Settings:
        name = "webhook_deliveries"
        indexes = [
            tenant_index("endpoint_id", "_id"),
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("lease_until", ASCENDING)]),
        ]


def retry_delay(
    attempt: int, base: float, ceiling: float, rng: random.Random | None = None
) -> timedelta:
    """Exponential backoff with jitter after failed attempt number ``attempt`` (1-based):
    base·2^(attempt-1), capped at ``ceiling``, then scaled by a random factor in [0.5, 1]
    so endpoints that failed together do not all retry at the same instant."""
    exponential = min(ceiling, base * 2 ** max(0, attempt - 1))
    factor = (rng or random).uniform(0.5, 1.0)
    return timedelta(seconds=exponential * factor)
