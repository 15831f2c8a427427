"""Persisted queries: a SHA-256 → operation text map registered by client builds (a
manifest loaded with `fidus persisted-queries register`) or, unless enforced, by clients
sending a query with its hash (automatic persisted queries), which expire."""

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from models.base import utc_now


class PersistedQuery(Document):
    sha256: str
    query: str
    source: str  # "manifest" or "automatic"
    name: str | None = None
    created_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime | None = None  # automatic registrations only; MongoDB removes them

    class Settings:
        name = "persisted_queries"
        indexes = [
            IndexModel("sha256", unique=True),
            IndexModel("expires_at", expireAfterSeconds=0),
        ]
