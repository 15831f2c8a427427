"""Append-only audit trail of sensitive actions: who (actor), where (tenant, client address,
user agent, request id), what (action, target) and when. There is no update or delete path."""

from typing import Any

from beanie import PydanticObjectId

from models.audit import AuditEntry
from resolvers.context import RequestContext


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
