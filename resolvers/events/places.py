"""Places at an event: every change of ``registered_count`` is one conditional ``$inc`` on
the event, and waitlisted registrations are promoted one conditional update at a time.

Why this is race-free without a lock or a transaction:
- ``reserve`` takes a place only while ``registered_count < capacity`` (or capacity is
  unlimited) and the event is PUBLISHED, so N concurrent registrations against capacity C
  take exactly C places. A newcomer takes one only while nobody waits.
- A cancelled place is handed to the oldest waitlisted registration directly (the count
  does not move), so a concurrent newcomer cannot jump the queue.
- A promotion moves one registration WAITLISTED → REGISTERED with a conditional update, and
  only after a place was reserved for it, so a registration is never promoted twice and no
  promotion goes without a place.
- ``fill`` (run after every freed place, and by a registrant who was just waitlisted)
  reserves a place, promotes the oldest waitlisted registration, and when there is none
  gives the place back and looks again. A registrant who was waitlisted because ``fill``
  held a place for a moment is therefore seen by that ``fill``'s second look."""

from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument

from models.events import Event, EventStatus, Registration, RegistrationStatus
from resolvers.core.context import RequestContext

_PUBLISHED = EventStatus.PUBLISHED.value


async def reserve(event_id: PydanticObjectId, *, newcomer: bool = False) -> bool:
    """Take one place if one is free; False when the event is full (or not PUBLISHED).
    A ``newcomer`` takes a place only while nobody is waiting, so that the waitlist is
    served first (first come, first served)."""
    condition: dict[str, Any] = {
        "_id": event_id,
        "status": _PUBLISHED,
        "$expr": {
            "$or": [
                {"$eq": ["$capacity", None]},
                {"$lt": ["$registered_count", "$capacity"]},
            ]
        },
    }
    if newcomer:
        condition["waitlist_count"] = {"$lte": 0}
    doc = await Event.get_pymongo_collection().find_one_and_update(
        condition, {"$inc": {"registered_count": 1}}, projection={"_id": 1}
    )
    return doc is not None


async def release(event_id: PydanticObjectId) -> None:
    """Give one place back (a cancelled event's counters were settled when it was cancelled)."""
    await Event.get_pymongo_collection().update_one(
        {"_id": event_id, "status": _PUBLISHED, "registered_count": {"$gt": 0}},
        {"$inc": {"registered_count": -1}},
    )


async def join_waitlist(event_id: PydanticObjectId) -> bool:
    result = await Event.get_pymongo_collection().update_one(
        {"_id": event_id, "status": _PUBLISHED}, {"$inc": {"waitlist_count": 1}}
    )
    return result.modified_count == 1


async def leave_waitlist(event_id: PydanticObjectId) -> None:
    await Event.get_pymongo_collection().update_one(
        {"_id": event_id, "status": _PUBLISHED, "waitlist_count": {"$gt": 0}},
        {"$inc": {"waitlist_count": -1}},
    )


async def _anyone_waiting(event_id: PydanticObjectId) -> bool:
    waiting = await Registration.get_pymongo_collection().find_one(
        {"event_id": event_id, "status": RegistrationStatus.WAITLISTED.value},
        projection={"_id": 1},
    )
    return waiting is not None


async def _promote_oldest(ctx: RequestContext, event_id: PydanticObjectId) -> bool:
    doc = await Registration.get_pymongo_collection().find_one_and_update(
        {"event_id": event_id, "status": RegistrationStatus.WAITLISTED.value},
        {"$set": {"status": RegistrationStatus.REGISTERED.value, "promoted_at": ctx.now()}},
        sort=[("queued_at", 1), ("_id", 1)],
        return_document=ReturnDocument.AFTER,
    )
    if doc is None:
        return False
    await leave_waitlist(event_id)
    await settle_if_cancelled(event_id, doc["_id"])
    return True


async def settle_if_cancelled(event_id: PydanticObjectId, registration_id: object) -> bool:
    """If the event was cancelled while this registration was being written, cancel the
    registration as the event's cancellation would have; True when that happened."""
    event = await Event.get_pymongo_collection().find_one(
        {"_id": event_id}, projection={"status": 1, "cancelled_at": 1}
    )
    if event is None or event["status"] != EventStatus.CANCELLED.value:
        return False
    active = [RegistrationStatus.REGISTERED.value, RegistrationStatus.WAITLISTED.value]
    await Registration.get_pymongo_collection().update_one(
        {"_id": registration_id, "status": {"$in": active}},
        {
            "$set": {
                "status": RegistrationStatus.CANCELLED.value,
                "cancelled_at": event["cancelled_at"],
                "cancelled_reason": "EVENT_CANCELLED",
            }
        },
    )
    return True


async def fill(ctx: RequestContext, event_id: PydanticObjectId) -> int:
    """Promote waitlisted registrations, oldest first, while places are free; returns how
    many were promoted."""
    promoted = 0
    while await _anyone_waiting(event_id):
        if not await reserve(event_id):
            break
        if await _promote_oldest(ctx, event_id):
            promoted += 1
            continue
        await release(event_id)  # nobody left to promote: give the place back, look again
    return promoted


async def free_place(ctx: RequestContext, event_id: PydanticObjectId) -> int:
    """A place was given up (cancellation, failed registration): it goes straight to the
    oldest waitlisted registration; with nobody waiting it is released (and the waitlist
    looked at again, for a registrant who was waitlisted meanwhile)."""
    if await _promote_oldest(ctx, event_id):
        return 1
    await release(event_id)
    return await fill(ctx, event_id)
