"""Events: staff create (unpublished), edit, publish and cancel; investors see published
events only; validation; the list ordered by start time with keyset pages."""

from datetime import timedelta
from typing import Any

from models.audit import AuditEntry
from models.events import Event
from tests.events.support import (
    CANCEL_EVENT,
    CREATE,
    EVENT,
    LIST,
    PUBLISH,
    UPDATE,
    create_event,
    event_input,
    event_of,
    published_event,
    soon,
)


async def test_staff_create_drafts_that_investors_cannot_see(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    draft = await create_event(api, manager, capacity=10)
    assert (draft["status"], draft["capacity"], draft["registeredCount"]) == ("DRAFT", 10, 0)
    assert (await api.gql(EVENT, {"id": draft["id"]}, token=investor.token)).code == "NOT_FOUND"
    listed = (await api.gql(LIST, {}, token=investor.token)).ok()["events"]["edges"]
    assert listed == []
    assert (await event_of(api, world("acme", "analyst"), draft["id"]))["status"] == "DRAFT"
    published = (await api.gql(PUBLISH, {"id": draft["id"]}, token=manager.token)).ok()
    assert published["publishEvent"]["status"] == "PUBLISHED"
    assert (await event_of(api, investor, draft["id"]))["title"] == "Investor day"
    again = await api.gql(PUBLISH, {"id": draft["id"]}, token=manager.token)
    assert again.code == "CONFLICT"
    other_tenant = await api.gql(EVENT, {"id": draft["id"]}, token=world("globex", "admin").token)
    assert other_tenant.code == "NOT_FOUND"
    actions = [e.action for e in await AuditEntry.find({"target_type": "Event"}).to_list()]
    assert actions == ["event.create", "event.publish"]


async def test_create_validates_input_and_stores_nothing_bad(api, world):
    manager = world("acme", "manager")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": "x" * 5001}, "description"),
        ({"location": "x" * 301}, "location"),
        ({"capacity": 0}, "capacity"),
        ({"capacity": -3}, "capacity"),
        ({"capacity": 100_001}, "capacity"),
        ({"startsAt": soon(7), "endsAt": soon(7)}, "endsAt"),
        ({"startsAt": soon(7), "endsAt": soon(6)}, "endsAt"),
        ({"startsAt": soon(7), "endsAt": soon(40)}, "endsAt"),
        ({"startsAt": soon(-3), "endsAt": soon(-2)}, "endsAt"),
        ({"startsAt": "2030-01-01T10:00:00"}, "startsAt"),
        ({"roomUrl": "http://meet.example.com/x"}, "roomUrl"),
        ({"roomUrl": "javascript:alert(1)"}, "roomUrl"),
    ]
    for override, field in bad:
        result = await api.gql(CREATE, {"i": event_input(**override)}, token=manager.token)
        assert result.code == "BAD_USER_INPUT", (override, result.body)
        assert result.errors[0]["extensions"]["field"] == field, override
    assert await Event.find({}).count() == 0
    unlimited = await create_event(api, manager, capacity=None, location="Zurich")
    assert unlimited["capacity"] is None


async def test_edit_and_cancel(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    event = await published_event(api, manager, capacity=3)
    edited = await api.gql(
        UPDATE,
        {"id": event["id"], "i": {"title": "Investor day 2", "capacity": 5}},
        token=manager.token,
    )
    assert (edited.ok()["updateEvent"]["title"], edited.ok()["updateEvent"]["capacity"]) == (
        "Investor day 2",
        5,
    )
    unlimited = await api.gql(
        UPDATE, {"id": event["id"], "i": {"capacity": None}}, token=manager.token
    )
    assert unlimited.ok()["updateEvent"]["capacity"] is None
    kept = await api.gql(UPDATE, {"id": event["id"], "i": {"title": "T"}}, token=manager.token)
    assert kept.ok()["updateEvent"]["capacity"] is None
    backwards = await api.gql(
        UPDATE, {"id": event["id"], "i": {"endsAt": soon(1)}}, token=manager.token
    )
    assert (backwards.code, backwards.errors[0]["extensions"]["field"]) == (
        "BAD_USER_INPUT",
        "endsAt",
    )
    denied = await api.gql(UPDATE, {"id": event["id"], "i": {"title": "x"}}, token=investor.token)
    assert denied.code == "FORBIDDEN"
    cancelled = (await api.gql(CANCEL_EVENT, {"id": event["id"]}, token=manager.token)).ok()
    assert cancelled["cancelEvent"]["status"] == "CANCELLED"
    assert (await event_of(api, investor, event["id"]))["status"] == "CANCELLED"
    twice = await api.gql(CANCEL_EVENT, {"id": event["id"]}, token=manager.token)
    assert twice.code == "CONFLICT"
    late_edit = await api.gql(UPDATE, {"id": event["id"], "i": {"title": "x"}}, token=manager.token)
    assert late_edit.code == "CONFLICT"
    assert (await api.gql(PUBLISH, {"id": event["id"]}, token=manager.token)).code == "CONFLICT"
    assert await AuditEntry.find({"action": "event.cancel"}).count() == 1


async def test_list_orders_by_start_then_id_and_pages(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    same_start = soon(3)
    titles_by_start = [("C", soon(9)), ("A", soon(1)), ("B1", same_start), ("B2", same_start)]
    for title, starts_at in titles_by_start:
        await published_event(api, manager, title=title, startsAt=starts_at, endsAt=soon(12))
    await create_event(api, manager, title="Draft", startsAt=soon(2), endsAt=soon(2, 1))
    seen, after = [], None
    while True:
        page = (await api.gql(LIST, {"first": 2, "after": after}, token=investor.token)).ok()
        seen += [e["node"]["title"] for e in page["events"]["edges"]]
        if not page["events"]["pageInfo"]["hasNextPage"]:
            break
        after = page["events"]["pageInfo"]["endCursor"]
    assert seen == ["A", "B1", "B2", "C"]
    staff = (await api.gql(LIST, {"first": 10}, token=manager.token)).ok()["events"]["edges"]
    assert [e["node"]["title"] for e in staff] == ["A", "Draft", "B1", "B2", "C"]
    forged = await api.gql(LIST, {"after": after[:-2] + "xx"}, token=investor.token)
    assert forged.code == "BAD_USER_INPUT"
    too_many = await api.gql(LIST, {"first": 1000}, token=investor.token)
    assert too_many.code == "BAD_USER_INPUT"
    foreign = (await api.gql(LIST, {}, token=world("globex", "investor").token)).ok()
    assert foreign["events"]["edges"] == []


async def test_upcoming_filter_uses_the_end_time(api, world, runtime, monkeypatch):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    await published_event(api, manager, title="Soon", startsAt=soon(1), endsAt=soon(1, 2))
    await published_event(api, manager, title="Later", startsAt=soon(5), endsAt=soon(5, 2))
    clock = runtime.services.clock
    monkeypatch.setattr(runtime.services, "clock", lambda: clock() + timedelta(days=3))

    async def titles(upcoming):
        result = await api.gql(LIST, {"upcoming": upcoming}, token=investor.token)
        return [e["node"]["title"] for e in result.ok()["events"]["edges"]]

    assert await titles(True) == ["Later"]
    assert await titles(False) == ["Soon"]
    assert await titles(None) == ["Soon", "Later"]
