"""The outcome of an attempt, stored only while its dispatcher still holds the lease; and
an endpoint the receiver says is gone (410) disabled, audited first."""

import logging
from datetime import datetime
from typing import Any

from models.webhooks import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from resolvers.audit import trail as audit
from resolvers.webhooks.endpoints import cancel_pending

log = logging.getLogger(__name__)

MAX_LOGGED_ATTEMPTS = 50


async def record(
    claimed: WebhookDelivery,
    owner: str,
    status: DeliveryStatus,
    attempts: list[DeliveryAttempt],
    *,
    count_change: int = 0,
    **changes: Any,
) -> bool:
    """Store the outcome while ``owner`` (the dispatcher) still holds the lease."""
    last = attempts[-1] if attempts else None
    update: dict[str, Any] = {
        "$set": {
            "status": status.value,
            "lease_until": None,
            "lease_owner": None,
            "next_attempt_at": None,
            **({"last_status_code": last.status_code, "last_error": last.error} if last else {}),
            **changes,
        },
    }
    if attempts:
        update["$push"] = {
            "attempts": {
                "$each": [a.model_dump() for a in attempts],
                "$slice": -MAX_LOGGED_ATTEMPTS,
            }
        }
    if count_change:
        update["$inc"] = {"attempt_count": count_change}
    result = await WebhookDelivery.get_pymongo_collection().update_one(
        {"_id": claimed.id, "status": DeliveryStatus.SENDING.value, "lease_owner": owner},
        update,
    )
    if result.modified_count != 1:
        log.warning(
            "webhook outcome not recorded: the lease was lost",
            extra={"delivery_id": str(claimed.id)},
        )
        return False
    return True


async def disable_gone(endpoint: WebhookEndpoint, now: datetime) -> None:
    """410 Gone: the receiver says the endpoint is gone for good."""
    reason = f"the receiver answered 410 Gone at {now.isoformat()}"
    # audited first: whoever sees the endpoint disabled finds the entry saying why
    await audit.record_system(
        endpoint.tenant_id, "webhook.disabled", "WebhookEndpoint", endpoint.id, reason=reason
    )
    await WebhookEndpoint.get_pymongo_collection().update_one(
        {"_id": endpoint.id, "tenant_id": endpoint.tenant_id},
        {"$set": {"enabled": False, "disabled_reason": reason, "updated_at": now}},
    )
    await cancel_pending(endpoint.id, reason)
    log.warning("webhook disabled", extra={"webhook_id": str(endpoint.id), "why": reason})
