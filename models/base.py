"""Shared document pieces: UTC clock, tenant-scoped base document."""

from datetime import UTC, datetime

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel


def utc_now() -> datetime:
    """Current time, timezone-aware UTC, truncated to Mongo's millisecond precision."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class TenantDocument(Document):
    """Every tenant-owned document carries ``tenant_id``; every query filters on it."""

    tenant_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utc_now)


def tenant_index(*fields: str, unique: bool = False) -> IndexModel:
    """An ascending index on ``tenant_id`` followed by ``fields``."""
    return IndexModel([("tenant_id", ASCENDING), *((f, ASCENDING) for f in fields)], unique=unique)
