"""Events and registrations: the types, queries and mutations."""

from datetime import datetime

import strawberry

from models import events as models
from models.permissions import Can
from models.users import STAFF_ROLES
from resolvers.core.pagination import DEFAULT_PAGE_SIZE
from resolvers.events import catalog as events
from resolvers.events import join_links as event_links
from resolvers.events import registrations as event_registrations
from schema.core.context import Info
from schema.core.dates import BoundedDates
from schema.core.domains import Domain
from schema.core.loaders import loaders
from schema.core.permissions import Allowed, IsAuthenticated
from schema.core.relay import Connection, to_connection
from schema.users import User

EventStatus = models.EventStatus
RegistrationStatus = models.RegistrationStatus
strawberry.enum(EventStatus)
strawberry.enum(RegistrationStatus)


def _is_staff(info: Info) -> bool:
    return info.context.require_principal().role in STAFF_ROLES


async def _own_registration(info: Info, event_id: str) -> models.Registration | None:
    principal = info.context.require_principal()
    return await loaders(info).event_registrations.load(f"{event_id}:{principal.user_id}")


@strawberry.type
class Event:
    id: strawberry.ID
    title: str
    description: str
    location: str | None
    is_virtual: bool
    status: EventStatus
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = strawberry.field(description="null: unlimited")
    registered_count: int = strawberry.field(description="Places taken (incl. checked in)")
    waitlist_count: int
    created_at: datetime
    published_at: datetime | None
    cancelled_at: datetime | None
    model: strawberry.Private[models.Event]

    @classmethod
    def from_model(cls, doc: models.Event) -> "Event":
        return cls(
            id=strawberry.ID(str(doc.id)),
            title=doc.title,
            description=doc.description,
            location=doc.location,
            is_virtual=doc.is_virtual,
            status=doc.status,
            starts_at=doc.starts_at,
            ends_at=doc.ends_at,
            capacity=doc.capacity,
            registered_count=doc.registered_count,
            waitlist_count=doc.waitlist_count,
            created_at=doc.created_at,
            published_at=doc.published_at,
            cancelled_at=doc.cancelled_at,
            model=doc,
        )

    @strawberry.field(description="The virtual room's address: ADMIN/MANAGER only, else null")
    def room_url(self, info: Info) -> str | None:
        return self.model.room_url if _is_staff(info) else None

    @strawberry.field(description="The caller's registration for this event, if any")
    async def my_registration(self, info: Info) -> "Registration | None":
        found = await _own_registration(info, str(self.id))
        return None if found is None else Registration.from_model(found)

    @strawberry.field(
        description="A signed link to the virtual room, valid for a few minutes, for a "
        "registrant holding a place and for ADMIN/MANAGER; null otherwise. Relative to "
        "the API's origin."
    )
    async def join_url(self, info: Info) -> str | None:
        if not self.model.is_virtual or not self.model.room_url:
            return None
        registration = await _own_registration(info, str(self.id))
        return event_links.join_url(info.context, self.model, registration)

    @strawberry.field(description="Path of the iCalendar download (needs the Bearer token)")
    def ics_url(self) -> str:
        return f"/events/{self.id}.ics"


@strawberry.type
class Registration:
    id: strawberry.ID
    status: str = strawberry.field(description="REGISTERED | WAITLISTED | CANCELLED | CHECKED_IN")
    checked_in_at: datetime | None
    queued_at: datetime
    cancelled_at: datetime | None
    created_at: datetime
    model: strawberry.Private[models.Registration]

    @classmethod
    def from_model(cls, doc: models.Registration) -> "Registration":
        return cls(
            id=strawberry.ID(str(doc.id)),
            status=doc.status.value,
            checked_in_at=doc.checked_in_at,
            queued_at=doc.queued_at,
            cancelled_at=doc.cancelled_at,
            created_at=doc.created_at,
            model=doc,
        )

    @strawberry.field(description="Visible to the registrant and to ADMIN/MANAGER only")
    def check_in_code(self, info: Info) -> str | None:
        principal = info.context.require_principal()
        if principal.user_id == self.model.user_id or principal.role in STAFF_ROLES:
            return self.model.check_in_code
        return None

    @strawberry.field
    async def event(self, info: Info) -> Event:
        doc = await loaders(info).events.load(str(self.model.event_id))
        assert doc is not None
        return Event.from_model(doc)

    @strawberry.field
    async def user(self, info: Info) -> User:
        doc = await loaders(info).users.load(str(self.model.user_id))
        assert doc is not None
        return User.from_model(doc)


@strawberry.input
class CreateEventInput(BoundedDates):
    title: str
    starts_at: datetime
    ends_at: datetime
    capacity: int | None = strawberry.field(default=None, description="null: unlimited")
    description: str | None = None
    location: str | None = None
    is_virtual: bool | None = None
    room_url: str | None = strawberry.field(default=None, description="https URL")


@strawberry.input
class UpdateEventInput(BoundedDates):
    title: str | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    capacity: int | None = strawberry.field(
        default=strawberry.UNSET, description="Omit to keep; null: unlimited"
    )
    description: str | None = None
    location: str | None = None
    is_virtual: bool | None = None
    room_url: str | None = strawberry.field(default=None, description='https URL; "" removes')


def _fields(data: CreateEventInput | UpdateEventInput) -> events.EventFields:
    return events.EventFields(
        title=data.title,
        starts_at=data.starts_at,
        ends_at=data.ends_at,
        description=data.description,
        location=data.location,
        is_virtual=data.is_virtual,
        room_url=data.room_url,
        capacity=None if data.capacity is strawberry.UNSET else data.capacity,
        set_capacity=data.capacity is not strawberry.UNSET,
    )


@strawberry.type
class EventQueries:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="By start time; investors see published (and cancelled) events only",
    )
    async def events(
        self,
        info: Info,
        first: int | None = DEFAULT_PAGE_SIZE,
        after: str | None = None,
        upcoming: bool | None = None,
    ) -> Connection[Event]:
        page = await events.page(info.context, first, after, upcoming)
        return to_connection(page, Event.from_model)

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def event(self, info: Info, id: strawberry.ID) -> Event | None:
        return Event.from_model(await events.get(info.context, id))

    @strawberry.field(permission_classes=[IsAuthenticated])
    async def my_registrations(self, info: Info) -> list[Registration]:
        found = await event_registrations.mine(info.context)
        return [Registration.from_model(r) for r in found]

    @strawberry.field(permission_classes=[Allowed(Can.MANAGE_EVENTS)], description="In queue order")
    async def event_attendees(
        self, info: Info, event_id: strawberry.ID, status: RegistrationStatus | None = None
    ) -> list[Registration]:
        found = await event_registrations.attendees(info.context, event_id, status)
        return [Registration.from_model(r) for r in found]


@strawberry.type
class EventMutations:
    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_EVENTS)], description="Created unpublished"
    )
    async def create_event(self, info: Info, input: CreateEventInput) -> Event:
        return Event.from_model(await events.create(info.context, _fields(input)))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_EVENTS)])
    async def update_event(self, info: Info, id: strawberry.ID, input: UpdateEventInput) -> Event:
        return Event.from_model(await events.update(info.context, id, _fields(input)))

    @strawberry.mutation(permission_classes=[Allowed(Can.MANAGE_EVENTS)])
    async def publish_event(self, info: Info, id: strawberry.ID) -> Event:
        return Event.from_model(await events.publish(info.context, id))

    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_EVENTS)],
        description="Cancels its open registrations too",
    )
    async def cancel_event(self, info: Info, id: strawberry.ID) -> Event:
        return Event.from_model(await events.cancel(info.context, id))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="REGISTERED, or WAITLISTED when full"
    )
    async def register_for_event(self, info: Info, event_id: strawberry.ID) -> Registration:
        return Registration.from_model(await event_registrations.register(info.context, event_id))

    @strawberry.mutation(
        permission_classes=[IsAuthenticated], description="The registrant, or ADMIN/MANAGER"
    )
    async def cancel_registration(self, info: Info, registration_id: strawberry.ID) -> Registration:
        return Registration.from_model(
            await event_registrations.cancel(info.context, registration_id)
        )

    @strawberry.mutation(
        permission_classes=[Allowed(Can.MANAGE_EVENTS)], description="With the registrant's code"
    )
    async def check_in(self, info: Info, registration_id: strawberry.ID, code: str) -> Registration:
        return Registration.from_model(
            await event_registrations.check_in(info.context, registration_id, code)
        )


DOMAIN = Domain(queries=EventQueries, mutations=EventMutations)
