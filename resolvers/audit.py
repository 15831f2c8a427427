"""Record privileged actions in the audit trail."""

from typing import Any

from beanie import PydanticObjectId

from models.audit import AuditEntry
from resolvers.context import Principal


async def record(
    tenant_id: PydanticObjectId,
    actor: Principal | None,
    action: str,
    target_type: str,
    target_id: PydanticObjectId | None,
    **detail: Any,
) -> None:
    await AuditEntry(
        tenant_id=tenant_id,
        actor_id=actor.user_id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
    ).insert()
