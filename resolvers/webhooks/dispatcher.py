"""The webhook dispatcher: claims due deliveries from the outbox and POSTs them.

Any number of processes may run one. A delivery is claimed with one conditional
``find_one_and_update`` (PENDING and due, or SENDING with an expired lease → SENDING under
this dispatcher's lease), so two dispatchers never send the same row at once; a row whose
sender died mid-attempt is taken over when its lease expires (at-least-once: receivers
de-duplicate on ``X-Fidus-Delivery``). The lease is longer than the attempt timeout, and
the outcome is only recorded while this dispatcher still holds the lease.

Outcomes: 2xx → DELIVERED; 410 Gone → FAILED and the endpoint is disabled; anything else
(other status, timeout, connection error, refused address) → retried with exponential
backoff and jitter until ``max_attempts``, then FAILED. Redirects are not followed."""

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

import httpx
from pymongo import ReturnDocument

from models.webhooks import (
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    retry_delay,
)
from resolvers.core.context import Services, WebhookConfig
from resolvers.webhooks import outcomes, sending
from resolvers.webhooks.endpoints import WAKE_TOPIC

log = logging.getLogger(__name__)


def _due(now: datetime) -> dict[str, Any]:
    return {
        "$or": [
            {"status": DeliveryStatus.PENDING.value, "next_attempt_at": {"$lte": now}},
            {"status": DeliveryStatus.SENDING.value, "lease_until": {"$lte": now}},
        ]
    }


class Dispatcher:
    """One per process (started in the app lifespan); tests may run several."""

    def __init__(self, services: Services, name: str | None = None) -> None:
        self.services = services
        self.owner = name or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.claimed: deque[str] = deque(maxlen=10_000)  # latest ids claimed here (tests)
        self._wake = asyncio.Event()
        self._client: httpx.AsyncClient | None = None

    @property
    def config(self) -> WebhookConfig:
        return self.services.webhooks  # read each time: settings may be swapped in tests

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        listener = asyncio.create_task(self._listen(), name=f"webhook-wake:{self.owner}")
        try:
            async with httpx.AsyncClient(trust_env=False, follow_redirects=False) as client:
                self._client = client
                while True:
                    self._wake.clear()  # before looking, so a wake during the look counts
                    while len(in_flight) < self.config.concurrency:
                        delivery = await self.claim()
                        if delivery is None:
                            break
                        task = asyncio.create_task(self._send(delivery))
                        in_flight.add(task)
                        task.add_done_callback(in_flight.discard)
                    await self._idle(in_flight)
        finally:
            listener.cancel()
            for task in [listener, *in_flight]:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._client = None

    async def _listen(self) -> None:
        """Wake on every ``emit`` in any process (through the broker)."""
        while True:
            try:
                async for _topic, _message in self.services.broker.listen(
                    [WAKE_TOPIC], conflate=True
                ):
                    self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("webhook wake-up listener failed; polling meanwhile", exc_info=True)
                await asyncio.sleep(self.config.poll)

    async def _idle(self, in_flight: set[asyncio.Task[None]]) -> None:
        if len(in_flight) >= self.config.concurrency:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            return
        delay = await self._seconds_until_due()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _seconds_until_due(self) -> float:
        """Until the next retry or lease expiry, at most ``poll``; with nothing outstanding
        anywhere, ``idle_poll`` (every ``emit`` wakes the dispatchers anyway; the look is
        a fallback for a lost wake-up or a retry left by a process that stopped)."""
        collection = WebhookDelivery.get_pymongo_collection()
        now = self.services.clock()
        soonest: float | None = None
        for status, field in (
            (DeliveryStatus.PENDING, "next_attempt_at"),
            (DeliveryStatus.SENDING, "lease_until"),
        ):
            doc = await collection.find_one(
                {"status": status.value, field: {"$ne": None}},
                projection={field: 1},
                sort=[(field, 1)],
            )
            if doc is not None:
                due = (doc[field] - now).total_seconds()
                soonest = due if soonest is None else min(soonest, due)
        if soonest is None:
            return self.config.idle_poll
        return max(0.0, min(soonest, self.config.poll))

    async def claim(self) -> WebhookDelivery | None:
        """Take one due delivery under this dispatcher's lease (atomic)."""
        now = self.services.clock()
        doc = await WebhookDelivery.get_pymongo_collection().find_one_and_update(
            _due(now),
            {
                "$set": {
                    "status": DeliveryStatus.SENDING.value,
                    "lease_until": now + timedelta(seconds=self.config.lease),
                    "lease_owner": self.owner,
                },
                "$inc": {"attempt_count": 1},
            },
            sort=[("next_attempt_at", 1)],
            return_document=ReturnDocument.BEFORE,
        )
        if doc is None:
            return None
        delivery: WebhookDelivery = WebhookDelivery.model_validate(doc)
        self.claimed.append(str(delivery.id))
        return delivery  # as it was before the claim: status tells a taken-over lease

    async def _send(self, claimed: WebhookDelivery) -> None:
        try:
            await self._attempt(claimed)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook delivery crashed", extra={"delivery_id": str(claimed.id)})
        finally:
            self._wake.set()  # a retry may now be due sooner than the loop thought

    async def _attempt(self, claimed: WebhookDelivery) -> None:
        number = claimed.attempt_count + 1
        lost: list[DeliveryAttempt] = []
        if claimed.status is DeliveryStatus.SENDING:  # its sender vanished mid-attempt
            lost.append(
                DeliveryAttempt(
                    number=claimed.attempt_count,
                    at=claimed.lease_until or self.services.clock(),
                    error="no outcome recorded: the sender stopped; retried after its lease",
                    duration_ms=0,
                )
            )
        endpoint = await WebhookEndpoint.find_one(
            {"_id": claimed.endpoint_id, "tenant_id": claimed.tenant_id}
        )
        if endpoint is None or not endpoint.enabled:
            await outcomes.record(
                claimed, self.owner, DeliveryStatus.CANCELLED, lost, count_change=-1
            )
            return
        started_at = self.services.clock()
        started = time.monotonic()
        assert self._client is not None
        status_code, error = await sending.post(
            self._client, self.config, endpoint, claimed, started_at
        )
        duration_ms = round((time.monotonic() - started) * 1000)
        attempt = DeliveryAttempt(
            number=number,
            at=started_at,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
        )
        now = self.services.clock()
        extra: dict[str, Any] = {}
        if status_code is not None and 200 <= status_code < 300:
            status = DeliveryStatus.DELIVERED
            extra["delivered_at"] = now
        elif status_code == 410 or number >= self.config.max_attempts:
            status = DeliveryStatus.FAILED
        else:
            status = DeliveryStatus.PENDING
            extra["next_attempt_at"] = now + retry_delay(
                number, self.config.retry_base, self.config.retry_max
            )
        log.log(
            logging.INFO if status is DeliveryStatus.DELIVERED else logging.WARNING,
            "webhook attempt",
            extra={
                "delivery_id": str(claimed.id),
                "webhook_id": str(endpoint.id),
                "event_type": claimed.event_type.value,
                "attempt": number,
                "status_code": status_code,
                "error": error,
                "outcome": status.value,
                "duration_ms": duration_ms,
            },
        )
        recorded = await outcomes.record(claimed, self.owner, status, [*lost, attempt], **extra)
        if recorded and status_code == 410:
            await outcomes.disable_gone(endpoint, now)


async def run_dispatcher(services: Services) -> None:
    """The dispatcher, restarted if it fails."""
    while True:
        try:
            await Dispatcher(services).run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("webhook dispatcher stopped; restarting")
            await asyncio.sleep(1.0)
