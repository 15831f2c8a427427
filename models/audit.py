"""Append-only audit trail of sensitive actions."""

from typing import Any

from beanie import PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from models.base import TenantDocument


class AuditEntry(TenantDocument):
    actor_id: PydanticObjectId | None
    action: str
    target_type: str
    target_id: PydanticObjectId | None = None
    client_ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "audit_log"
        indexes = [
            IndexModel([("tenant_id", ASCENDING), ("target_id", ASCENDING)]),
            IndexModel([("tenant_id", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("tenant_id", ASCENDING), ("action", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("tenant_id", ASCENDING), ("actor_id", ASCENDING), ("_id", DESCENDING)]),
        ]
