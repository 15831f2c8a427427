"""Events: drafting, editing, publishing and cancelling (ADMIN/MANAGER), visibility, and the
``events`` list ordered by start time. Registrations live in resolvers/event_registrations."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pymongo import ReturnDocument

from models.errors import BadUserInput, Conflict, NotFound
from models.events import Event, EventStatus, Registration, RegistrationStatus
from models.permissions import Can
from models.users import TENANT_READERS
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.pagination import Page, Sort, page_of
from resolvers.core.scope import get_in_tenant, tenant_filter
from resolvers.events import places as event_places

MAX_TITLE = 200
MAX_DESCRIPTION = 5_000
MAX_LOCATION = 300
MAX_ROOM_URL = 2_000
MAX_CAPACITY = 100_000
MAX_DURATION = timedelta(days=31)


@dataclass(frozen=True)
class EventFields:
    """What a create or an edit gives; ``None`` leaves a field as it is, except that
    ``capacity`` is applied whenever ``set_capacity`` (``None`` then means unlimited)."""

    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    description: str | None = None
    location: str | None = None
    is_virtual: bool | None = None
    room_url: str | None = None
    capacity: int | None = None
    set_capacity: bool = False


def _text(value: str, field: str, limit: int, *, required: bool) -> str:
    cleaned = value.strip()
    if (required and not cleaned) or len(cleaned) > limit:
        low = 1 if required else 0
        raise BadUserInput(f"{field} must be {low}-{limit} characters", field=field)
    return cleaned


def _instant(value: datetime, field: str) -> datetime:
    if value.tzinfo is None:
        raise BadUserInput(f"{field} needs a time zone offset", field=field)
    utc = value.astimezone(UTC)
    return utc.replace(microsecond=utc.microsecond // 1000 * 1000)


def _room_url(value: str) -> str | None:
    cleaned = value.strip()
    if not cleaned:
        return None
    parts = urlsplit(cleaned)
    if len(cleaned) > MAX_ROOM_URL or parts.scheme != "https" or not parts.netloc:
        raise BadUserInput(
            f"roomUrl must be an https URL of at most {MAX_ROOM_URL} characters", field="roomUrl"
        )
    return cleaned


def _changes(event: Event, fields: EventFields) -> dict[str, Any]:
    """Validated field values (document field names) that differ from ``event``."""
    values: dict[str, Any] = {}
    if fields.title is not None:
        values["title"] = _text(fields.title, "title", MAX_TITLE, required=True)
    if fields.description is not None:
        values["description"] = _text(
            fields.description, "description", MAX_DESCRIPTION, required=False
        )
    if fields.location is not None:
        values["location"] = (
            _text(fields.location, "location", MAX_LOCATION, required=False) or None
        )
    if fields.is_virtual is not None:
        values["is_virtual"] = fields.is_virtual
    if fields.room_url is not None:
        values["room_url"] = _room_url(fields.room_url)
    if fields.starts_at is not None:
        values["starts_at"] = _instant(fields.starts_at, "startsAt")
    if fields.ends_at is not None:
        values["ends_at"] = _instant(fields.ends_at, "endsAt")
    if fields.set_capacity:
        capacity = fields.capacity
        if capacity is not None and not 1 <= capacity <= MAX_CAPACITY:
            raise BadUserInput(
                f"capacity must be 1-{MAX_CAPACITY}, or null for unlimited", field="capacity"
            )
        values["capacity"] = capacity
    starts_at = values.get("starts_at", event.starts_at)
    ends_at = values.get("ends_at", event.ends_at)
    if ends_at <= starts_at:
        raise BadUserInput("endsAt must be after startsAt", field="endsAt")
    if ends_at - starts_at > MAX_DURATION:
        raise BadUserInput(f"An event lasts at most {MAX_DURATION.days} days", field="endsAt")
    return {name: value for name, value in values.items() if getattr(event, name) != value}


async def create(ctx: RequestContext, fields: EventFields) -> Event:
    principal = ctx.require(Can.MANAGE_EVENTS)
    assert fields.title is not None and fields.starts_at is not None and fields.ends_at is not None
    starts_at = _instant(fields.starts_at, "startsAt")
    event = Event(
        tenant_id=principal.tenant_id,
        title="",
        starts_at=starts_at,
        ends_at=starts_at,
        created_by=principal.user_id,
    )
    for name, value in _changes(event, fields).items():
        setattr(event, name, value)
    if event.ends_at <= ctx.now():
        raise BadUserInput("An event that has already ended cannot be created", field="endsAt")
    await event.insert()
    await audit.record(ctx, "event.create", "Event", event.id, title=event.title)
    return event


def visible(principal: Principal, event: Event) -> bool:
    return principal.role in TENANT_READERS or event.status is not EventStatus.DRAFT


async def get(ctx: RequestContext, raw_id: str, *, field: str = "id") -> Event:
    """The event if the caller may see it: investors never see drafts (NOT_FOUND)."""
    principal = ctx.require_principal()
    event = await get_in_tenant(Event, principal, raw_id, field=field, what="Event")
    if not visible(principal, event):
        raise NotFound("Event not found")
    return event


async def update(ctx: RequestContext, raw_id: str, fields: EventFields) -> Event:
    principal = ctx.require(Can.MANAGE_EVENTS)
    event = await get(ctx, raw_id)
    if event.status is EventStatus.CANCELLED:
        raise Conflict("A cancelled event cannot be edited")
    changes = _changes(event, fields)
    if not changes:
        return event
    condition: dict[str, Any] = {
        "_id": event.id,
        "tenant_id": principal.tenant_id,
        "status": {"$ne": EventStatus.CANCELLED.value},
    }
    new_capacity = changes.get("capacity", event.capacity)
    if "capacity" in changes and new_capacity is not None:
        condition["$expr"] = {"$lte": ["$registered_count", new_capacity]}
    doc = await Event.get_pymongo_collection().find_one_and_update(
        condition,
        {"$set": changes, "$inc": {"sequence": 1}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        current = await Event.get(event.id)
        if current is None or current.status is EventStatus.CANCELLED:
            raise Conflict("A cancelled event cannot be edited")
        raise Conflict(
            f"{current.registered_count} places are taken: capacity cannot go below that"
        )
    if "capacity" in changes:
        assert event.id is not None
        await event_places.fill(ctx, event.id)
    await audit.record(ctx, "event.update", "Event", event.id, fields=sorted(changes))
    return await _reload(event)


async def _reload(event: Event) -> Event:
    current = await Event.get(event.id)
    assert current is not None
    return current


async def publish(ctx: RequestContext, raw_id: str) -> Event:
    principal = ctx.require(Can.MANAGE_EVENTS)
    event = await get(ctx, raw_id)
    if event.ends_at <= ctx.now():
        raise Conflict("The event has already ended")
    doc = await Event.get_pymongo_collection().find_one_and_update(
        {"_id": event.id, "tenant_id": principal.tenant_id, "status": EventStatus.DRAFT.value},
        {"$set": {"status": EventStatus.PUBLISHED.value, "published_at": ctx.now()}},
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        raise Conflict(f"The event is {event.status.value}, not DRAFT")
    await audit.record(ctx, "event.publish", "Event", event.id)
    published: Event = Event.model_validate(doc)
    return published


async def cancel(ctx: RequestContext, raw_id: str) -> Event:
    """Cancels the event and every REGISTERED or WAITLISTED registration with it (reason
    EVENT_CANCELLED); check-ins stay as the record of who came."""
    principal = ctx.require(Can.MANAGE_EVENTS)
    event = await get(ctx, raw_id)
    now = ctx.now()
    collection = Event.get_pymongo_collection()
    doc = await collection.find_one_and_update(
        {
            "_id": event.id,
            "tenant_id": principal.tenant_id,
            "status": {"$ne": EventStatus.CANCELLED.value},
        },
        {
            "$set": {"status": EventStatus.CANCELLED.value, "cancelled_at": now},
            "$inc": {"sequence": 1},
        },
    )
    if doc is None:
        raise Conflict("The event is already cancelled")
    active = [RegistrationStatus.REGISTERED.value, RegistrationStatus.WAITLISTED.value]
    result = await Registration.get_pymongo_collection().update_many(
        {"tenant_id": principal.tenant_id, "event_id": event.id, "status": {"$in": active}},
        {
            "$set": {
                "status": RegistrationStatus.CANCELLED.value,
                "cancelled_at": now,
                "cancelled_reason": "EVENT_CANCELLED",
            }
        },
    )
    checked_in = await Registration.find(
        {"event_id": event.id, "status": RegistrationStatus.CHECKED_IN.value}
    ).count()
    await collection.update_one(
        {"_id": event.id}, {"$set": {"registered_count": checked_in, "waitlist_count": 0}}
    )
    await audit.record(
        ctx, "event.cancel", "Event", event.id, registrations_cancelled=result.modified_count
    )
    return await _reload(event)


async def page(
    ctx: RequestContext, first: int | None, after: str | None, upcoming: bool | None
) -> Page[Event]:
    """Ordered by ``startsAt`` then id. ``upcoming``: true → not yet ended (ongoing
    included), false → ended, null → all."""
    principal = ctx.require_principal()
    criteria = tenant_filter(principal)
    if principal.role not in TENANT_READERS:
        criteria["status"] = {"$ne": EventStatus.DRAFT.value}
    if upcoming is not None:
        criteria["ends_at"] = {"$gt" if upcoming else "$lte": ctx.now()}
    return await page_of(
        Event,
        criteria,
        ctx,
        list_name="events",
        first=first,
        after=after,
        sort=Sort(field="starts_at", by_time=True),
    )
