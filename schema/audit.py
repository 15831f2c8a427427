"""The audit log, read-only and for ADMIN: there is deliberately no mutation that updates
or deletes an audit entry (tests/audit asserts the schema has none)."""

from datetime import datetime
from typing import Any

import orjson
import strawberry
from strawberry.scalars import JSON

from models.audit import AuditEntry as AuditDocument
from models.permissions import Can
from resolvers.audit import trail as use_cases
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from schema.core.context import Info
from schema.core.dates import bounded
from schema.core.domains import Domain
from schema.core.loaders import loaders
from schema.core.permissions import Allowed
from schema.core.relay import Connection, to_connection
from schema.users import User


def _plain(detail: dict[str, Any]) -> Any:
    """JSON-safe detail (ids, dates and decimals become strings)."""
    return orjson.loads(orjson.dumps(detail, default=str))


@strawberry.type
class AuditEntry:
    id: strawberry.ID
    action: str
    target_type: str
    target_id: strawberry.ID | None
    client_ip: str | None
    user_agent: str | None
    request_id: str | None
    detail: JSON
    created_at: datetime
    actor_id: strawberry.Private[str | None]

    @classmethod
    def from_model(cls, doc: AuditDocument) -> "AuditEntry":
        return cls(
            id=strawberry.ID(str(doc.id)),
            action=doc.action,
            target_type=doc.target_type,
            target_id=strawberry.ID(str(doc.target_id)) if doc.target_id else None,
            client_ip=doc.client_ip,
            user_agent=doc.user_agent,
            request_id=doc.request_id,
            detail=_plain(doc.detail),
            created_at=doc.created_at,
            actor_id=str(doc.actor_id) if doc.actor_id else None,
        )

    @strawberry.field(description="Null for the operator's command line or an unknown user")
    async def actor(self, info: Info) -> User | None:
        if self.actor_id is None:
            return None
        doc = await loaders(info).users.load(self.actor_id)
        return User.from_model(doc) if doc else None


@strawberry.type
class AuditQueries:
    @strawberry.field(
        permission_classes=[Allowed(Can.READ_AUDIT_LOG)],
        description="ADMIN only, the caller's tenant, newest first; append-only",
    )
    async def audit_log(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        action: str | None = None,
        actor_id: strawberry.ID | None = None,
        target_id: strawberry.ID | None = None,
        since: datetime | None = None,
    ) -> Connection[AuditEntry]:
        filters = use_cases.AuditFilter(
            action=action,
            actor_id=None if actor_id is None else str(actor_id),
            target_id=None if target_id is None else str(target_id),
            since=bounded(since, "since"),
        )
        page = await use_cases.page(info.context, first, after, filters)
        return to_connection(page, AuditEntry.from_model)


DOMAIN = Domain(queries=AuditQueries)
