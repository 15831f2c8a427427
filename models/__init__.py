"""Beanie documents and pure domain rules. Imports nothing of ours above it."""

from beanie import Document

from models.audit import AuditEntry
from models.identity import (
    ActionToken,
    LoginThrottle,
    OutboxMessage,
    RefreshSession,
    ServiceToken,
    SigningKey,
)
from models.tenants import Tenant
from models.users import User

ALL_DOCUMENTS: list[type[Document]] = [
    Tenant,
    User,
    RefreshSession,
    ActionToken,
    LoginThrottle,
    OutboxMessage,
    ServiceToken,
    SigningKey,
    AuditEntry,
]
