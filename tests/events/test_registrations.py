"""Registering, the waitlist and its promotion, cancelling, checking in with the one-time
code, and the races: concurrent registrations against a capacity, concurrent cancellations."""

import asyncio

from models.audit import AuditEntry
from models.events import Event, Registration
from tests.events.support import (
    ATTENDEES,
    CANCEL,
    CANCEL_EVENT,
    CHECK_IN,
    MINE,
    REGISTER,
    create_event,
    event_of,
    published_event,
    register,
)
from tests.support.domain import crowd


async def _counts(api, member, event_id):
    event = await event_of(api, member, event_id)
    return event["registeredCount"], event["waitlistCount"]


async def _statuses(event_id):
    found = await Registration.find({}).sort("queued_at", "_id").to_list()
    return [r.status.value for r in found if str(r.event_id) == event_id]


async def test_waitlist_and_promotion_of_the_oldest(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=2)
    guests = await crowd(api, world, 4)
    first, second, third, fourth = [await register(api, g, event["id"]) for g in guests]
    assert [r["status"] for r in (first, second, third, fourth)] == [
        "REGISTERED",
        "REGISTERED",
        "WAITLISTED",
        "WAITLISTED",
    ]
    assert await _counts(api, manager, event["id"]) == (2, 2)
    cancelled = await api.gql(CANCEL, {"id": first["id"]}, token=guests[0].token)
    assert cancelled.ok()["cancelRegistration"]["status"] == "CANCELLED"
    mine = (await api.gql(MINE, token=guests[2].token)).ok()["myRegistrations"]
    assert [r["status"] for r in mine] == ["REGISTERED"]  # the oldest waitlisted moved up
    assert (await api.gql(MINE, token=guests[3].token)).ok()["myRegistrations"][0][
        "status"
    ] == "WAITLISTED"
    assert await _counts(api, manager, event["id"]) == (2, 1)
    # leaving the waitlist frees no place
    await api.gql(CANCEL, {"id": fourth["id"]}, token=guests[3].token)
    assert await _counts(api, manager, event["id"]) == (2, 0)
    again = await api.gql(CANCEL, {"id": fourth["id"]}, token=guests[3].token)
    assert again.code == "CONFLICT"


async def test_register_once_and_again_after_cancelling(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    event = await published_event(api, manager, capacity=1)
    registration = await register(api, investor, event["id"])
    assert registration["checkInCode"] and registration["user"]["email"] == investor.email
    twice = await api.gql(REGISTER, {"id": event["id"]}, token=investor.token)
    assert twice.code == "CONFLICT"
    both = await asyncio.gather(
        *[
            api.gql(REGISTER, {"id": event["id"]}, token=world("acme", "investor2").token)
            for _ in range(4)
        ]
    )
    assert sorted(r.code or "ok" for r in both) == ["CONFLICT"] * 3 + ["ok"]
    assert await _counts(api, manager, event["id"]) == (1, 1)
    await api.gql(CANCEL, {"id": registration["id"]}, token=investor.token)
    back = await register(api, investor, event["id"])
    assert back["id"] == registration["id"]  # the same registration, re-activated
    assert back["status"] == "WAITLISTED"  # investor2 was promoted meanwhile: back of the queue
    assert back["checkInCode"] != registration["checkInCode"]
    assert await _counts(api, manager, event["id"]) == (1, 1)


async def test_registration_needs_a_published_open_event(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    draft = await create_event(api, manager)
    assert (await api.gql(REGISTER, {"id": draft["id"]}, token=investor.token)).code == "NOT_FOUND"
    assert (await api.gql(REGISTER, {"id": draft["id"]}, token=manager.token)).code == "CONFLICT"
    foreign = await published_event(api, world("globex", "admin"))
    assert (
        await api.gql(REGISTER, {"id": foreign["id"]}, token=investor.token)
    ).code == "NOT_FOUND"
    bad_id = await api.gql(REGISTER, {"id": "nope"}, token=investor.token)
    assert bad_id.code == "BAD_USER_INPUT"


async def test_cancelling_the_event_cancels_its_registrations(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=1)
    guests = await crowd(api, world, 3)
    registrations = [await register(api, g, event["id"]) for g in guests]
    await api.gql(
        CHECK_IN,
        {"id": registrations[0]["id"], "code": registrations[0]["checkInCode"]},
        token=manager.token,
    )
    cancelled = (await api.gql(CANCEL_EVENT, {"id": event["id"]}, token=manager.token)).ok()
    assert (
        cancelled["cancelEvent"]["registeredCount"],
        cancelled["cancelEvent"]["waitlistCount"],
    ) == (1, 0)
    assert await _statuses(event["id"]) == ["CHECKED_IN", "CANCELLED", "CANCELLED"]
    rejected = await api.gql(REGISTER, {"id": event["id"]}, token=world("acme", "investor").token)
    assert rejected.code == "CONFLICT"
    own = await api.gql(CANCEL, {"id": registrations[1]["id"]}, token=guests[1].token)
    assert own.code == "CONFLICT"


async def test_cancel_registration_by_registrant_or_staff_only(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    event = await published_event(api, manager)
    registration = await register(api, investor, event["id"])
    for who in ("investor2", "analyst"):
        other = await api.gql(CANCEL, {"id": registration["id"]}, token=world("acme", who).token)
        assert other.code == "NOT_FOUND", who
    foreign = await api.gql(
        CANCEL, {"id": registration["id"]}, token=world("globex", "admin").token
    )
    assert foreign.code == "NOT_FOUND"
    by_staff = await api.gql(CANCEL, {"id": registration["id"]}, token=manager.token)
    assert by_staff.ok()["cancelRegistration"]["status"] == "CANCELLED"
    entry = await AuditEntry.find_one({"action": "event.registration.cancel"})
    assert entry is not None and str(entry.target_id) == registration["id"]


async def test_check_in_with_the_one_time_code(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    event = await published_event(api, manager, capacity=1)
    registration = await register(api, investor, event["id"])
    code = registration["checkInCode"]
    wrong = await api.gql(
        CHECK_IN, {"id": registration["id"], "code": "WRONGCODE2"}, token=manager.token
    )
    assert (wrong.code, wrong.errors[0]["extensions"]["field"]) == ("BAD_USER_INPUT", "code")
    empty = await api.gql(CHECK_IN, {"id": registration["id"], "code": ""}, token=manager.token)
    assert empty.code == "BAD_USER_INPUT"
    self_service = await api.gql(
        CHECK_IN, {"id": registration["id"], "code": code}, token=investor.token
    )
    assert self_service.code == "FORBIDDEN"
    done = await api.gql(
        CHECK_IN, {"id": registration["id"], "code": code.lower()}, token=manager.token
    )
    checked = done.ok()["checkIn"]
    assert checked["status"] == "CHECKED_IN" and checked["checkedInAt"]
    twice = await api.gql(CHECK_IN, {"id": registration["id"], "code": code}, token=manager.token)
    assert twice.code == "CONFLICT"
    cannot_cancel = await api.gql(CANCEL, {"id": registration["id"]}, token=investor.token)
    assert cannot_cancel.code == "CONFLICT"
    assert await AuditEntry.find({"action": "event.check_in"}).count() == 1
    foreign = await api.gql(
        CHECK_IN, {"id": registration["id"], "code": code}, token=world("globex", "admin").token
    )
    assert foreign.code == "NOT_FOUND"


async def test_waitlisted_or_cancelled_cannot_check_in(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=1)
    holder, waiting = await crowd(api, world, 2)
    held = await register(api, holder, event["id"])
    queued = await register(api, waiting, event["id"])
    assert queued["status"] == "WAITLISTED"
    waitlisted = await api.gql(
        CHECK_IN, {"id": queued["id"], "code": queued["checkInCode"]}, token=manager.token
    )
    assert waitlisted.code == "CONFLICT"
    await api.gql(CANCEL, {"id": held["id"]}, token=holder.token)
    cancelled = await api.gql(
        CHECK_IN, {"id": held["id"], "code": held["checkInCode"]}, token=manager.token
    )
    assert cancelled.code == "CONFLICT"
    promoted = await api.gql(
        CHECK_IN, {"id": queued["id"], "code": queued["checkInCode"]}, token=manager.token
    )
    assert promoted.ok()["checkIn"]["status"] == "CHECKED_IN"


async def test_concurrent_check_ins_succeed_once(api, world):
    manager, admin, investor = (
        world("acme", "manager"),
        world("acme", "admin"),
        world("acme", "investor"),
    )
    event = await published_event(api, manager)
    registration = await register(api, investor, event["id"])
    variables = {"id": registration["id"], "code": registration["checkInCode"]}
    results = await asyncio.gather(
        *[api.gql(CHECK_IN, variables, token=who.token) for who in (manager, admin) * 3]
    )
    assert sorted(r.code or "ok" for r in results) == ["CONFLICT"] * 5 + ["ok"]


async def test_check_in_code_is_for_the_registrant_and_staff(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    event = await published_event(api, manager)
    registration = await register(api, investor, event["id"])
    staff_view = (await api.gql(ATTENDEES, {"id": event["id"]}, token=manager.token)).ok()
    assert staff_view["eventAttendees"][0]["checkInCode"] == registration["checkInCode"]
    analyst = await api.gql(ATTENDEES, {"id": event["id"]}, token=world("acme", "analyst").token)
    assert analyst.code == "FORBIDDEN"
    other = await api.gql(ATTENDEES, {"id": event["id"]}, token=world("acme", "investor2").token)
    assert other.code == "FORBIDDEN"
    own = (await api.gql(MINE, token=investor.token)).ok()["myRegistrations"]
    assert own[0]["checkInCode"] == registration["checkInCode"]
    analyst_reg = await register(api, world("acme", "analyst"), event["id"])
    assert analyst_reg["checkInCode"]  # their own
    waiting = (
        await api.gql(ATTENDEES, {"id": event["id"], "s": "WAITLISTED"}, token=manager.token)
    ).ok()
    assert waiting["eventAttendees"] == []


async def test_capacity_race_fills_exactly_the_capacity(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=5)
    guests = await crowd(api, world, 12)
    results = await asyncio.gather(
        *[api.gql(REGISTER, {"id": event["id"]}, token=g.token) for g in guests]
    )
    statuses = sorted(r.ok()["registerForEvent"]["status"] for r in results)
    assert statuses == ["REGISTERED"] * 5 + ["WAITLISTED"] * 7
    assert await _counts(api, manager, event["id"]) == (5, 7)
    stored = await Event.get(event["id"])
    assert (stored.registered_count, stored.waitlist_count) == (5, 7)


async def test_concurrent_cancellations_promote_exactly_as_many(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=4)
    guests = await crowd(api, world, 10)
    registrations = [await register(api, g, event["id"]) for g in guests]
    assert [r["status"] for r in registrations] == ["REGISTERED"] * 4 + ["WAITLISTED"] * 6
    results = await asyncio.gather(
        *[api.gql(CANCEL, {"id": registrations[i]["id"]}, token=guests[i].token) for i in range(3)],
        *[
            api.gql(REGISTER, {"id": event["id"]}, token=world("acme", w).token)
            for w in ("investor", "investor2")
        ],
    )
    assert all(not r.errors for r in results), [r.errors for r in results]
    statuses = await _statuses(event["id"])
    assert statuses.count("REGISTERED") == 4
    assert statuses.count("WAITLISTED") == 6 - 3 + 2
    assert statuses.count("CANCELLED") == 3
    # the three oldest waitlisted were the ones promoted
    promoted = [await Registration.get(r["id"]) for r in registrations[4:7]]
    assert [p.status.value for p in promoted] == ["REGISTERED"] * 3
    assert await _counts(api, manager, event["id"]) == (4, 5)


async def test_raising_the_capacity_promotes_the_waitlist(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=1)
    guests = await crowd(api, world, 3)
    for g in guests:
        await register(api, g, event["id"])
    from tests.events.support import UPDATE

    lowered = await api.gql(UPDATE, {"id": event["id"], "i": {"capacity": 1}}, token=manager.token)
    assert lowered.ok()
    raised = await api.gql(UPDATE, {"id": event["id"], "i": {"capacity": 2}}, token=manager.token)
    assert (
        raised.ok()["updateEvent"]["registeredCount"],
        raised.ok()["updateEvent"]["waitlistCount"],
    ) == (2, 1)
    below = await api.gql(UPDATE, {"id": event["id"], "i": {"capacity": 1}}, token=manager.token)
    assert below.code == "CONFLICT"
    unlimited = await api.gql(
        UPDATE, {"id": event["id"], "i": {"capacity": None}}, token=manager.token
    )
    assert (
        unlimited.ok()["updateEvent"]["registeredCount"],
        unlimited.ok()["updateEvent"]["waitlistCount"],
    ) == (3, 0)


async def test_registrations_racing_the_cancellation_end_cancelled(api, world):
    manager = world("acme", "manager")
    event = await published_event(api, manager, capacity=3)
    guests = await crowd(api, world, 8)
    results = await asyncio.gather(
        *[api.gql(REGISTER, {"id": event["id"]}, token=g.token) for g in guests],
        api.gql(CANCEL_EVENT, {"id": event["id"]}, token=manager.token),
    )
    assert results[-1].ok()["cancelEvent"]["status"] == "CANCELLED"
    assert {r.code for r in results[:-1]} <= {None, "CONFLICT"}
    assert set(await _statuses(event["id"])) <= {"CANCELLED"}
    assert await _counts(api, manager, event["id"]) == (0, 0)
