"""Registrations: register (a place or the waitlist), cancel (the waitlist moves up),
check in with the registrant's one-time code, and the lists of them."""

import hmac
import secrets

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from models.errors import BadUserInput, Conflict, NotFound
from models.events import ACTIVE, Event, EventStatus, Registration, RegistrationStatus
from models.permissions import Can
from models.users import STAFF_ROLES
from resolvers.audit import trail as audit
from resolvers.core.context import Principal, RequestContext
from resolvers.core.scope import get_in_tenant, tenant_filter
from resolvers.events import catalog as events
from resolvers.events import places as event_places

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out at a door
CODE_LENGTH = 10  # 32**10 = 2**50 codes
MAX_CODE_INPUT = 64
MAX_LISTED = 5_000


def new_check_in_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def is_staff(principal: Principal) -> bool:
    return principal.role in STAFF_ROLES


async def _claim(
    principal: Principal,
    event: Event,
    existing: Registration | None,
    status: RegistrationStatus,
    ctx: RequestContext,
) -> Registration | None:
    """Write the caller's registration; None if a concurrent request of theirs won."""
    now = ctx.now()
    values: dict[str, object] = {
        "status": status,
        "check_in_code": new_check_in_code(),
        "queued_at": now,
        "promoted_at": None,
        "checked_in_at": None,
        "checked_in_by": None,
        "cancelled_at": None,
        "cancelled_reason": None,
    }
    if existing is not None:  # re-registering after a cancellation: same document, new code
        doc = await Registration.get_pymongo_collection().find_one_and_update(
            {"_id": existing.id, "status": RegistrationStatus.CANCELLED.value},
            {"$set": {**values, "status": status.value}},
            return_document=ReturnDocument.AFTER,
        )
        return None if doc is None else Registration.model_validate(doc)
    assert event.id is not None
    registration = Registration(
        tenant_id=principal.tenant_id, event_id=event.id, user_id=principal.user_id, **values
    )
    try:
        await registration.insert()
    except DuplicateKeyError:
        return None
    return registration


async def register(ctx: RequestContext, raw_event_id: str) -> Registration:
    """The caller registers themself: REGISTERED while places are free, else WAITLISTED.
    Once per user and event; re-registering after a cancellation is allowed (back of the
    queue, new check-in code)."""
    principal = ctx.require_principal()
    event = await events.get(ctx, raw_event_id, field="eventId")
    assert event.id is not None
    if event.status is not EventStatus.PUBLISHED:
        raise Conflict(f"The event is {event.status.value}: registration is closed")
    if event.ends_at <= ctx.now():
        raise Conflict("The event has ended")
    existing = await Registration.find_one(
        tenant_filter(principal, event_id=event.id, user_id=principal.user_id)
    )
    if existing is not None and existing.status in ACTIVE:
        raise Conflict(f"You are already {existing.status.value} for this event")
    holds_place = await event_places.reserve(event.id, newcomer=True)
    if not holds_place and not await event_places.join_waitlist(event.id):
        raise Conflict("The event is no longer open for registration")
    status = RegistrationStatus.REGISTERED if holds_place else RegistrationStatus.WAITLISTED
    registration = await _claim(principal, event, existing, status, ctx)
    if registration is None:  # a concurrent request of the same user won: undo our count
        if holds_place:
            await event_places.free_place(ctx, event.id)
        else:
            await event_places.leave_waitlist(event.id)
        raise Conflict("You are already registered for this event")
    if not holds_place:
        await event_places.fill(ctx, event.id)  # a place may have been freed meanwhile
    if await event_places.settle_if_cancelled(event.id, registration.id):
        raise Conflict("The event was cancelled")
    return await _reload(registration)


async def _reload(registration: Registration) -> Registration:
    current = await Registration.get(registration.id)
    assert current is not None
    return current


async def get(ctx: RequestContext, raw_id: str) -> Registration:
    """The registrant's own registration, or any of the tenant's for ADMIN/MANAGER;
    anyone else's is NOT_FOUND."""
    principal = ctx.require_principal()
    registration = await get_in_tenant(
        Registration, principal, raw_id, field="registrationId", what="Registration"
    )
    if registration.user_id != principal.user_id and not is_staff(principal):
        raise NotFound("Registration not found")
    return registration


async def cancel(ctx: RequestContext, raw_id: str) -> Registration:
    principal = ctx.require_principal()
    registration = await get(ctx, raw_id)
    by_staff = registration.user_id != principal.user_id
    for _ in range(3):  # the status may move (a promotion) between reading and writing
        if registration.status not in (
            RegistrationStatus.REGISTERED,
            RegistrationStatus.WAITLISTED,
        ):
            raise Conflict(f"The registration is {registration.status.value}")
        doc = await Registration.get_pymongo_collection().find_one_and_update(
            {"_id": registration.id, "status": registration.status.value},
            {
                "$set": {
                    "status": RegistrationStatus.CANCELLED.value,
                    "cancelled_at": ctx.now(),
                    "cancelled_reason": "BY_STAFF" if by_staff else "BY_REGISTRANT",
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is not None:
            break
        registration = await _reload(registration)
    else:
        raise Conflict("The registration is changing; try again")
    if registration.status is RegistrationStatus.REGISTERED:
        promoted = await event_places.free_place(ctx, registration.event_id)
    else:
        await event_places.leave_waitlist(registration.event_id)
        promoted = 0
    if by_staff:
        await audit.record(
            ctx,
            "event.registration.cancel",
            "Registration",
            registration.id,
            event=str(registration.event_id),
            promoted=promoted,
        )
    cancelled: Registration = Registration.model_validate(doc)
    return cancelled


async def check_in(ctx: RequestContext, raw_id: str, code: str) -> Registration:
    """ADMIN/MANAGER, with the code the registrant shows. The code is compared in constant
    time and is single use: the registration leaves REGISTERED for good."""
    ctx.require(Can.MANAGE_EVENTS)
    registration = await get(ctx, raw_id)
    event = await Event.get(registration.event_id)
    if event is None or event.status is EventStatus.CANCELLED:
        raise Conflict("The event is cancelled")
    if registration.status is RegistrationStatus.CHECKED_IN:
        raise Conflict("Already checked in")
    if registration.status is not RegistrationStatus.REGISTERED:
        raise Conflict(f"The registration is {registration.status.value}: no place to check in")
    given = code.strip().upper()
    if len(given) > MAX_CODE_INPUT or not hmac.compare_digest(
        given.encode(), registration.check_in_code.encode()
    ):
        raise BadUserInput("Wrong check-in code", field="code")
    principal = ctx.require_principal()
    doc = await Registration.get_pymongo_collection().find_one_and_update(
        {
            "_id": registration.id,
            "status": RegistrationStatus.REGISTERED.value,
            "check_in_code": registration.check_in_code,
        },
        {
            "$set": {
                "status": RegistrationStatus.CHECKED_IN.value,
                "checked_in_at": ctx.now(),
                "checked_in_by": principal.user_id,
            }
        },
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        current = await _reload(registration)
        raise Conflict(f"The registration is {current.status.value}")
    await audit.record(
        ctx, "event.check_in", "Registration", registration.id, event=str(registration.event_id)
    )
    checked_in: Registration = Registration.model_validate(doc)
    return checked_in


async def mine(ctx: RequestContext) -> list[Registration]:
    """The caller's registrations, newest first (at most MAX_LISTED)."""
    principal = ctx.require_principal()
    return (
        await Registration.find(tenant_filter(principal, user_id=principal.user_id))
        .sort("-_id")
        .limit(MAX_LISTED)
        .to_list()
    )


async def attendees(
    ctx: RequestContext, raw_event_id: str, status: RegistrationStatus | None
) -> list[Registration]:
    """ADMIN/MANAGER: an event's registrations in queue order (at most MAX_LISTED)."""
    principal = ctx.require(Can.MANAGE_EVENTS)
    event = await events.get(ctx, raw_event_id, field="eventId")
    criteria = tenant_filter(principal, event_id=event.id)
    if status is not None:
        criteria["status"] = status.value
    return await Registration.find(criteria).sort("queued_at", "_id").limit(MAX_LISTED).to_list()


async def for_user(
    tenant_id: PydanticObjectId, user_id: PydanticObjectId, event_ids: list[PydanticObjectId]
) -> dict[PydanticObjectId, Registration]:
    """The user's registrations for these events, by event id."""
    found = await Registration.find(
        {"tenant_id": tenant_id, "user_id": user_id, "event_id": {"$in": event_ids}}
    ).to_list()
    return {r.event_id: r for r in found}
