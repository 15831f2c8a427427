"""Outbound webhooks (ADMIN only): endpoints, their signing secrets, the delivery log."""

from datetime import datetime

import strawberry

from models import webhooks as models
from models.permissions import Can
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from resolvers.webhooks import endpoints as use_cases
from schema.core.context import Info
from schema.core.domains import Domain
from schema.core.permissions import Allowed
from schema.core.relay import Connection, to_connection

WebhookEventType = models.WebhookEventType
strawberry.enum(WebhookEventType)
WebhookDeliveryStatus = models.DeliveryStatus
strawberry.enum(WebhookDeliveryStatus, name="WebhookDeliveryStatus")


@strawberry.type
class Webhook:
    id: strawberry.ID
    url: str
    event_types: list[WebhookEventType]
    description: str
    enabled: bool
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime | None
    secret_rotated_at: datetime | None
    secret: str | None = strawberry.field(
        description="The signing secret: only in the createWebhook and rotateWebhookSecret "
        "responses, never again"
    )

    @classmethod
    def from_model(cls, doc: models.WebhookEndpoint, secret: str | None = None) -> "Webhook":
        return cls(
            id=strawberry.ID(str(doc.id)),
            url=doc.url,
            event_types=list(doc.event_types),
            description=doc.description,
            enabled=doc.enabled,
            disabled_reason=doc.disabled_reason,
            created_at=doc.created_at,
            updated_at=doc.updated_at,
            secret_rotated_at=doc.secret_rotated_at,
            secret=secret,
        )


@strawberry.type
class WebhookAttempt:
    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@strawberry.type
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="Sent as X-Fidus-Delivery")
    event_id: str = strawberry.field(description="The body's id; shared by an event's deliveries")
    event_type: WebhookEventType
    status: WebhookDeliveryStatus
    attempt_count: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempts: list[WebhookAttempt]

    @classmethod
    def from_model(cls, doc: models.WebhookDelivery) -> "WebhookDelivery":
        return cls(
            id=strawberry.ID(str(doc.id)),
            event_id=doc.event_id,
            event_type=doc.event_type,
            status=doc.status,
            attempt_count=doc.attempt_count,
            last_status_code=doc.last_status_code,
            last_error=doc.last_error,
            next_attempt_at=doc.next_attempt_at,
            delivered_at=doc.delivered_at,
            created_at=doc.created_at,
            attempts=[
                WebhookAttempt(
                    number=a.number,
                    at=a.at,
                    status_code=a.status_code,
                    error=a.error,
                    duration_ms=a.duration_ms,
                )
                for a in doc.attempts
            ],
        )


@strawberry.input
class CreateWebhookInput:
    url: str
    event_types: list[WebhookEventType]
    description: str = ""


@strawberry.input
class UpdateWebhookInput:
    url: str | None = None
    event_types: list[WebhookEventType] | None = None
    description: str | None = None
    enabled: bool | None = None


@strawberry.type
class WebhookQueries:
    @strawberry.field(permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)])
    async def webhooks(self, info: Info) -> list[Webhook]:
        return [Webhook.from_model(doc) for doc in await use_cases.list_endpoints(info.context)]

    @strawberry.field(
        permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)], description="Oldest first"
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        page = await use_cases.deliveries(info.context, webhook_id, first, after)
        return to_connection(page, WebhookDelivery.from_model)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)],
        description="The response carries the secret, once",
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> Webhook:
        fields = use_cases.WebhookFields(
            url=input.url, event_types=input.event_types, description=input.description
        )
        doc, secret = await use_cases.create(info.context, fields)
        return Webhook.from_model(doc, secret)

    @strawberry.mutation(permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)])
    async def update_webhook(
        self, info: Info, id: strawberry.ID, input: UpdateWebhookInput
    ) -> Webhook:
        fields = use_cases.WebhookFields(
            url=input.url,
            event_types=input.event_types,
            description=input.description,
            enabled=input.enabled,
        )
        return Webhook.from_model(await use_cases.update(info.context, id, fields))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)],
        description="Removes the endpoint and its delivery log",
    )
    async def delete_webhook(self, info: Info, id: strawberry.ID) -> bool:
        return await use_cases.delete(info.context, id)

    @strawberry.mutation(
        permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)],
        description="The response carries the new secret, once",
    )
    async def rotate_webhook_secret(self, info: Info, id: strawberry.ID) -> Webhook:
        doc, secret = await use_cases.rotate_secret(info.context, id)
        return Webhook.from_model(doc, secret)

    @strawberry.mutation(
        permission_classes=[Allowed(Can.ADMINISTER_WEBHOOKS)], description="Queues a TEST event"
    )
    async def send_test_webhook(self, info: Info, id: strawberry.ID) -> WebhookDelivery:
        return WebhookDelivery.from_model(await use_cases.send_test(info.context, id))


DOMAIN = Domain(queries=WebhookQueries, mutations=WebhookMutations)
