"""Append-only audit trail of sensitive actions: who (actor), where (tenant, client address,
user agent, request id), what (action, target) and when. There is no update or delete path."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from models.audit import AuditEntry
from models.errors import BadUserInput
from models.permissions import Can
from resolvers.core.context import RequestContext
from resolvers.core.pagination import NEWEST_FIRST, Page, page_of
from resolvers.core.scope import parse_id, tenant_filter


async def record(
    ctx: RequestContext,
    action: str,
    target_type: str,
    target_id: PydanticObjectId | None,
    *,
    tenant_id: PydanticObjectId | None = None,
    actor_id: PydanticObjectId | None = None,
    **detail: Any,
) -> None:
    """Record an action by the signed-in caller; ``tenant_id``/``actor_id`` name them when
    there is no principal yet (e.g. a login attempt)."""
    principal = ctx.principal
    tenant = tenant_id or (principal.tenant_id if principal else None)
    assert tenant is not None, "an audit entry needs a tenant"
    await AuditEntry(
        tenant_id=tenant,
        actor_id=actor_id or (principal.user_id if principal else None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        client_ip=ctx.client_ip,
        user_agent=ctx.user_agent,
        request_id=ctx.request_id or None,
        detail=detail,
        created_at=ctx.now(),
    ).insert()


async def record_system(
    tenant_id: PydanticObjectId,
    action: str,
    target_type: str,
    target_id: PydanticObjectId | None,
    **detail: Any,
) -> None:
    """An action taken by the operator's command line, outside any request."""
    await AuditEntry(
        tenant_id=tenant_id,
        actor_id=None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
    ).insert()


MAX_ACTION = 100


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    actor_id: str | None = None
    target_id: str | None = None
    since: datetime | None = None


async def page(
    ctx: RequestContext, first: int | None, after: str | None, filters: AuditFilter
) -> Page[AuditEntry]:
    """ADMIN only; the caller's tenant; newest first. Reading is the only access path:
    no operation updates or deletes an entry."""
    principal = ctx.require(Can.READ_AUDIT_LOG)
    criteria = tenant_filter(principal)
    if filters.action is not None:
        action = filters.action.strip()
        if not action or len(action) > MAX_ACTION:
            raise BadUserInput(f"action must be 1-{MAX_ACTION} characters", field="action")
        criteria["action"] = action
    if filters.actor_id is not None:
        criteria["actor_id"] = parse_id(filters.actor_id, field="actorId")
    if filters.target_id is not None:
        criteria["target_id"] = parse_id(filters.target_id, field="targetId")
    if filters.since is not None:
        criteria["created_at"] = {"$gte": filters.since}
    return await page_of(
        AuditEntry, criteria, ctx, list_name="auditLog", first=first, after=after, sort=NEWEST_FIRST
    )
