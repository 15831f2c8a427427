"""Users, their roles and KYC status, and the pure rules on their profile fields."""

import re
from datetime import datetime
from enum import StrEnum

from pydantic import Field
from pymongo import ASCENDING, IndexModel

from models.base import TenantDocument

EMAIL_PATTERN = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9]{6,14}$")
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 200


class Role(StrEnum):
    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    ANALYST = "ANALYST"
    INVESTOR = "INVESTOR"


STAFF_ROLES = frozenset({Role.ADMIN, Role.MANAGER})
TENANT_READERS = frozenset({Role.ADMIN, Role.MANAGER, Role.ANALYST})


class ErasureState(StrEnum):
    """GDPR/POPIA erasure of a user (resolvers/privacy/erasure.py): ERASING while the steps
    run (resumable), ERASED when the personal data is gone and only a pseudonym is left."""

    ERASING = "ERASING"
    ERASED = "ERASED"


class KycStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def is_valid_email(email: str) -> bool:
    return len(email) <= MAX_EMAIL_LENGTH and bool(EMAIL_PATTERN.fullmatch(email))


def search_terms(full_name: str, email: str) -> list[str]:
    """Lower-case words a user is found by (anchored prefix search, no $text index)."""
    words = {w for w in re.split(r"[\s\-']+", full_name.lower()) if w}
    return sorted(words | {email, email.split("@", 1)[0]})


class User(TenantDocument):
    email: str
    full_name: str
    role: Role
    kyc_status: KycStatus = KycStatus.NOT_STARTED
    password_hash: str | None = None
    password_changed_at: datetime | None = None
    phone: str | None = None
    base_currency: str = "USD"
    mfa_secret: str | None = None
    mfa_pending_secret: str | None = None
    mfa_last_step: int = 0
    search: list[str] = Field(default_factory=list)
    erasure: ErasureState | None = None
    pseudonym: str | None = None  # set when an erasure starts, kept afterwards
    erasure_lease_until: datetime | None = None  # a running erasure's claim
    erased_at: datetime | None = None

    class Settings:
        name = "users"
        indexes = [
            IndexModel([("tenant_id", ASCENDING), ("email", ASCENDING)], unique=True),
            IndexModel([("tenant_id", ASCENDING), ("search", ASCENDING)]),
            IndexModel([("tenant_id", ASCENDING), ("role", ASCENDING), ("_id", ASCENDING)]),
        ]

    @property
    def mfa_enabled(self) -> bool:
        return self.mfa_secret is not None
