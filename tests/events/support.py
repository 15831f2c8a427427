"""Shortcuts for the events tests: GraphQL documents and an event in a given state (a
crowd of investors with tokens: ``tests.support.domain.crowd``)."""

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.conftest import Member

EVENT_FIELDS = "id title status startsAt endsAt capacity registeredCount waitlistCount"
REG_FIELDS = "id status checkInCode checkedInAt event { id } user { email }"
CREATE = f"mutation($i: CreateEventInput!) {{ createEvent(input: $i) {{ {EVENT_FIELDS} }} }}"
UPDATE = (
    "mutation($id: ID!, $i: UpdateEventInput!) { updateEvent(id: $id, input: $i) "
    f"{{ {EVENT_FIELDS} }} }}"
)
PUBLISH = f"mutation($id: ID!) {{ publishEvent(id: $id) {{ {EVENT_FIELDS} }} }}"
CANCEL_EVENT = f"mutation($id: ID!) {{ cancelEvent(id: $id) {{ {EVENT_FIELDS} }} }}"
EVENT = f"query($id: ID!) {{ event(id: $id) {{ {EVENT_FIELDS} }} }}"
LIST = (
    "query($first: Int, $after: String, $upcoming: Boolean) { events(first: $first, "
    "after: $after, upcoming: $upcoming) { edges { cursor node { id title } } "
    "pageInfo { hasNextPage endCursor } } }"
)
REGISTER = f"mutation($id: ID!) {{ registerForEvent(eventId: $id) {{ {REG_FIELDS} }} }}"
CANCEL = f"mutation($id: ID!) {{ cancelRegistration(registrationId: $id) {{ {REG_FIELDS} }} }}"
CHECK_IN = (
    "mutation($id: ID!, $code: String!) { checkIn(registrationId: $id, code: $code) "
    f"{{ {REG_FIELDS} }} }}"
)
MINE = f"{{ myRegistrations {{ {REG_FIELDS} }} }}"
ATTENDEES = (
    "query($id: ID!, $s: RegistrationStatus) { eventAttendees(eventId: $id, status: $s) "
    f"{{ {REG_FIELDS} }} }}"
)


def soon(days: float = 7, hours: float = 0) -> str:
    return (datetime.now(UTC) + timedelta(days=days, hours=hours)).isoformat()


def event_input(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Investor day",
        "startsAt": soon(7),
        "endsAt": soon(7, 2),
        "description": "Annual meeting",
        **overrides,
    }


async def create_event(api, member: Member, **overrides: Any) -> dict[str, Any]:
    result = await api.gql(CREATE, {"i": event_input(**overrides)}, token=member.token)
    event: dict[str, Any] = result.ok()["createEvent"]
    return event


async def published_event(api, member: Member, **overrides: Any) -> dict[str, Any]:
    event = await create_event(api, member, **overrides)
    published: dict[str, Any] = (
        await api.gql(PUBLISH, {"id": event["id"]}, token=member.token)
    ).ok()["publishEvent"]
    return published


async def register(api, member: Member, event_id: str) -> dict[str, Any]:
    result = await api.gql(REGISTER, {"id": event_id}, token=member.token)
    registration: dict[str, Any] = result.ok()["registerForEvent"]
    return registration


async def event_of(api, member: Member, event_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await api.gql(EVENT, {"id": event_id}, token=member.token)).ok()[
        "event"
    ]
    return found
