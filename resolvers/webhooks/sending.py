"""One attempt at a delivery: the signed POST to the endpoint's vetted address (redirects
not followed, the response body not read), told as (status code, error)."""

import asyncio
import logging
from datetime import datetime

import httpx

from models.webhooks import WebhookDelivery, WebhookEndpoint
from resolvers.core.context import WebhookConfig
from resolvers.webhooks.failures import failure_message
from resolvers.webhooks.secrets import SecretUnavailable, signature, unseal
from resolvers.webhooks.targets import TargetRefused, resolve

log = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 500
USER_AGENT = "Fidus-Webhooks/1"


async def post(
    client: httpx.AsyncClient,
    config: WebhookConfig,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    now: datetime,
) -> tuple[int | None, str | None]:
    """(status code, error) of one POST; never raises for the receiver's faults."""
    try:
        secret = unseal(
            config.secret_key, endpoint.secret_box, f"{endpoint.tenant_id}:{endpoint.id}"
        )
    except SecretUnavailable:
        return None, "the signing secret does not open with this deployment's key: rotate it"
    body = delivery.body.encode()
    timestamp = str(int(now.timestamp()))
    try:
        async with asyncio.timeout(config.timeout):
            target = await resolve(endpoint.url, config)
            headers = {
                "Host": target.host_header,
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Fidus-Event": delivery.event_type.value,
                "X-Fidus-Delivery": str(delivery.id),
                "X-Fidus-Timestamp": timestamp,
                "X-Fidus-Signature": signature(secret, timestamp, body),
            }
            extensions = {"sni_hostname": target.server_name} if target.server_name else {}
            async with client.stream(
                "POST",
                target.connect_url,
                content=body,
                headers=headers,
                extensions=extensions,
                timeout=config.timeout,
            ) as response:
                return response.status_code, None  # the response body is not read
    except TimeoutError:
        return None, f"timed out after {config.timeout:g} s"
    except TargetRefused as exc:
        return None, str(exc)[:MAX_ERROR_LENGTH]
    except httpx.HTTPError as exc:
        log.info("webhook delivery %s failed: %r", delivery.id, exc)
        return None, failure_message(exc, config.timeout)
