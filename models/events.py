"""Events (in person or virtual) and registrations, with a capacity and a waitlist.

``registered_count`` counts the places taken (REGISTERED and CHECKED_IN registrations),
``waitlist_count`` the WAITLISTED ones; both are moved only by conditional ``$inc`` so
concurrent registrations never overfill an event."""

from datetime import datetime
from enum import StrEnum

from beanie import PydanticObjectId

from models.base import TenantDocument, tenant_index


class EventStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    CANCELLED = "CANCELLED"


class RegistrationStatus(StrEnum):
    REGISTERED = "REGISTERED"
    WAITLISTED = "WAITLISTED"
    CANCELLED = "CANCELLED"
    CHECKED_IN = "CHECKED_IN"


HOLDS_PLACE = frozenset({RegistrationStatus.REGISTERED, RegistrationStatus.CHECKED_IN})
ACTIVE = frozenset({*HOLDS_PLACE, RegistrationStatus.WAITLISTED})


class Event(TenantDocument):
    title: str
    description: str = ""
    location: str | None = None
    is_virtual: bool = False
    room_url: str | None = None  # staff-set; reached through the signed join link only
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = None  # None: unlimited
    registered_count: int = 0
    waitlist_count: int = 0
    status: EventStatus = EventStatus.DRAFT
    sequence: int = 0  # iCalendar SEQUENCE: bumped by every edit and the cancellation
    created_by: PydanticObjectId
    published_at: datetime | None = None
    cancelled_at: datetime | None = None

    class Settings:
        name = "events"
        indexes = [
            tenant_index("starts_at", "_id"),
            tenant_index("status", "starts_at", "_id"),
        ]


class Registration(TenantDocument):
    """One per (event, user): a cancelled registration is re-activated on re-registering."""

    event_id: PydanticObjectId
    user_id: PydanticObjectId
    status: RegistrationStatus
    check_in_code: str
    queued_at: datetime  # place in the waitlist: the (latest) time of registering
    promoted_at: datetime | None = None  # moved up from the waitlist
    checked_in_at: datetime | None = None
    checked_in_by: PydanticObjectId | None = None
    cancelled_at: datetime | None = None
    cancelled_reason: str | None = None  # BY_REGISTRANT | BY_STAFF | EVENT_CANCELLED

    class Settings:
        name = "event_registrations"
        indexes = [
            tenant_index("event_id", "user_id", unique=True),
            tenant_index("event_id", "status", "queued_at", "_id"),
            tenant_index("user_id", "_id"),
        ]
