"""``GET /events/{id}.ics`` (parsed back with icalendar) and the virtual room's signed,
expiring join link."""

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from tests.events.support import (
    CANCEL,
    CANCEL_EVENT,
    create_event,
    published_event,
    register,
)
from tests.support.domain import crowd

ROOM = "https://meet.example.com/room/42?pwd=abc"
JOIN = "query($id: ID!) { event(id: $id) { joinUrl roomUrl myRegistration { status } } }"


async def _ics(api, event_id, token=None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await api.client.get(f"{api.base_url}/events/{event_id}.ics", headers=headers)


async def test_ics_round_trips_through_icalendar(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    starts = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)
    event = await published_event(
        api,
        manager,
        title="Investor day, Zürich",
        description="Agenda; lunch, Q&A",
        location="Bahnhofstrasse 1",
        startsAt="2031-03-04T10:30:00+01:00",
        endsAt="2031-03-04T12:00:00+01:00",
    )
    response = await _ics(api, event["id"], investor.token)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    [entry] = calendar.walk("VEVENT")
    assert str(entry["uid"]) == f"event-{event['id']}@fidus"
    assert entry.decoded("dtstart") == starts
    assert entry.decoded("dtend") == starts + timedelta(minutes=90)
    assert entry.decoded("dtstart").utcoffset() == timedelta(0)
    assert b"DTSTART:20310304T093000Z" in response.content
    assert str(entry["summary"]) == "Investor day, Zürich"
    assert str(entry["description"]) == "Agenda; lunch, Q&A"
    assert str(entry["location"]) == "Bahnhofstrasse 1"
    assert str(entry["status"]) == "CONFIRMED"

    await api.gql(CANCEL_EVENT, {"id": event["id"]}, token=manager.token)
    cancelled = Calendar.from_ical((await _ics(api, event["id"], investor.token)).content)
    [entry] = cancelled.walk("VEVENT")
    assert str(entry["status"]) == "CANCELLED"
    assert entry.decoded("sequence") == 1


async def test_ics_needs_a_token_and_visibility(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    draft = await create_event(api, manager)
    assert (await _ics(api, draft["id"])).status_code == 401
    assert (await _ics(api, draft["id"], "not-a-token")).status_code == 401
    assert (await _ics(api, draft["id"], investor.token)).status_code == 404
    assert (await _ics(api, draft["id"], manager.token)).status_code == 200
    assert (await _ics(api, draft["id"], world("globex", "admin").token)).status_code == 404
    assert (await _ics(api, "not-an-id", manager.token)).status_code == 404


async def _virtual_event(api, world, **overrides):
    return await published_event(
        api, world("acme", "manager"), isVirtual=True, roomUrl=ROOM, **overrides
    )


async def _join_url(api, member, event_id):
    result = await api.gql(JOIN, {"id": event_id}, token=member.token)
    return result.ok()["event"]


async def _follow(api, path):
    return await api.client.get(f"{api.base_url}{path}", follow_redirects=False)


async def test_join_link_for_registrants_holding_a_place_and_staff(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    event = await _virtual_event(api, world, capacity=1)
    before = await _join_url(api, investor, event["id"])
    assert before == {"joinUrl": None, "roomUrl": None, "myRegistration": None}
    registration = await register(api, investor, event["id"])
    mine = await _join_url(api, investor, event["id"])
    assert mine["roomUrl"] is None and mine["myRegistration"]["status"] == "REGISTERED"
    response = await _follow(api, mine["joinUrl"])
    assert response.status_code == 303
    assert response.headers["location"] == ROOM
    staff = await _join_url(api, manager, event["id"])
    assert staff["roomUrl"] == ROOM
    assert (await _follow(api, staff["joinUrl"])).status_code == 303

    [waiting] = await crowd(api, world, 1)
    assert (await register(api, waiting, event["id"]))["status"] == "WAITLISTED"
    assert (await _join_url(api, waiting, event["id"]))["joinUrl"] is None

    # cancelling the registration revokes the link already handed out
    await api.gql(CANCEL, {"id": registration["id"]}, token=investor.token)
    assert (await _follow(api, mine["joinUrl"])).status_code == 403
    promoted = await _join_url(api, waiting, event["id"])
    assert (await _follow(api, promoted["joinUrl"])).status_code == 303


async def test_tampered_and_foreign_links_are_refused(api, world):
    investor = world("acme", "investor")
    event = await _virtual_event(api, world)
    other = await _virtual_event(api, world, title="Other")
    await register(api, investor, event["id"])
    link = (await _join_url(api, investor, event["id"]))["joinUrl"]
    path, token = link.split("?token=")
    body, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert (await _follow(api, f"{path}?token={body}.{flipped}")).status_code == 403
    assert (await _follow(api, f"{path}?token={body[:-3]}xyz.{signature}")).status_code == 403
    assert (await _follow(api, f"{path}?token=")).status_code == 403
    assert (await _follow(api, path)).status_code == 403
    assert (await _follow(api, f"/events/{other['id']}/join?token={token}")).status_code == 403
    assert (await _follow(api, link)).status_code == 303


async def test_join_links_expire(api, world, runtime, monkeypatch, settings):
    investor = world("acme", "investor")
    event = await _virtual_event(api, world)
    await register(api, investor, event["id"])
    link = (await _join_url(api, investor, event["id"]))["joinUrl"]
    assert (await _follow(api, link)).status_code == 303
    clock = runtime.services.clock
    ttl = timedelta(minutes=settings.event_join_link_minutes)
    monkeypatch.setattr(runtime.services, "clock", lambda: clock() + ttl + timedelta(seconds=5))
    assert (await _follow(api, link)).status_code == 403


async def test_no_link_without_a_room_or_once_cancelled(api, world):
    manager, investor = world("acme", "manager"), world("acme", "investor")
    in_person = await published_event(api, manager, location="Zurich")
    await register(api, investor, in_person["id"])
    assert (await _join_url(api, investor, in_person["id"]))["joinUrl"] is None
    event = await _virtual_event(api, world)
    await register(api, investor, event["id"])
    link = (await _join_url(api, investor, event["id"]))["joinUrl"]
    await api.gql(CANCEL_EVENT, {"id": event["id"]}, token=manager.token)
    assert (await _join_url(api, investor, event["id"]))["joinUrl"] is None
    assert (await _follow(api, link)).status_code == 403
