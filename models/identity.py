"""Credentials and their bookkeeping: refresh sessions, one-time tokens, throttles,
service tokens, the outbox that stands in for mail, and the JWT signing key."""

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from models.base import TenantDocument, utc_now

MAX_PREVIOUS_REFRESH_HASHES = 100


class RefreshSession(TenantDocument):
    """One login. The refresh token rotates; ``previous_hashes`` lets a replayed
    (already rotated) token be recognised, which revokes the whole session."""

    user_id: PydanticObjectId
    token_hash: str
    previous_hashes: list[str] = Field(default_factory=list)
    last_used_at: datetime | None = None
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    user_agent: str | None = None
    client_ip: str | None = None

    class Settings:
        name = "sessions"
        indexes = [
            IndexModel([("tenant_id", ASCENDING), ("user_id", ASCENDING)]),
        ]


class TokenPurpose(StrEnum):
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 - a purpose, not a password
    INVITATION = "INVITATION"


class ActionToken(TenantDocument):
    """A single-use, expiring token (password reset, invitation); only its hash is kept."""

    user_id: PydanticObjectId
    purpose: TokenPurpose
    token_hash: str
    expires_at: datetime
    used_at: datetime | None = None

    class Settings:
        name = "action_tokens"
        indexes = [IndexModel([("token_hash", ASCENDING)], unique=True)]


class LoginThrottle(Document):
    """Failed-attempt counter for one key (an account or a client address)."""

    key: str
    failures: int = 0
    window_started_at: datetime = Field(default_factory=utc_now)
    locked_until: datetime | None = None

    class Settings:
        name = "login_throttles"
        indexes = [IndexModel([("key", ASCENDING)], unique=True)]


class OutboxMessage(TenantDocument):
    """A message for a person (no mail server is configured): a delivery worker or an
    operator reads it from here."""

    to: str
    kind: str
    subject: str
    body: str
    sent_at: datetime | None = None

    class Settings:
        name = "outbox"
        indexes = [IndexModel([("tenant_id", ASCENDING), ("to", ASCENDING)])]


class ServiceToken(TenantDocument):
    """A machine credential (e.g. the MT5 bridge): stored hashed, scoped, revocable."""

    name: str
    scopes: list[str]
    token_hash: str
    created_by: PydanticObjectId
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    class Settings:
        name = "service_tokens"
        indexes = [IndexModel([("token_hash", ASCENDING)], unique=True)]


class SigningKey(Document):
    """The JWT/cursor signing secret when none is configured: generated once, shared by
    every process through the database."""

    name: str
    secret: str
    created_at: datetime = Field(default_factory=utc_now)

    class Settings:
        name = "signing_keys"
        indexes = [IndexModel([("name", ASCENDING)], unique=True)]
