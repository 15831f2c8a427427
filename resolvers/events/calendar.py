"""An event as an iCalendar (RFC 5545) document, built with the ``icalendar`` library."""

from datetime import UTC, datetime

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from models.events import Event, EventStatus

PRODUCT_ID = "-//Fidus//Events//EN"
_STATUS = {
    EventStatus.DRAFT: "TENTATIVE",
    EventStatus.PUBLISHED: "CONFIRMED",
    EventStatus.CANCELLED: "CANCELLED",
}


def uid(event: Event) -> str:
    return f"event-{event.id}@fidus"


def ics(event: Event, now: datetime) -> bytes:
    """One VEVENT with times in UTC; STATUS CANCELLED once the event is cancelled."""
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", uid(event))
    entry.add("dtstamp", now.astimezone(UTC))
    entry.add("dtstart", event.starts_at.astimezone(UTC))
    entry.add("dtend", event.ends_at.astimezone(UTC))
    entry.add("summary", event.title)
    if event.description:
        entry.add("description", event.description)
    if event.location:
        entry.add("location", event.location)
    entry.add("status", _STATUS[event.status])
    entry.add("sequence", event.sequence)
    calendar.add_component(entry)
    content: bytes = calendar.to_ical()
    return content
