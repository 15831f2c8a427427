"""Events: the catalogue, places and waitlists, registrations and check-in, join links,
iCalendar."""
