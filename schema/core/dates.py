"""The dates Fidus accepts as input: ``EARLIEST`` to ``LATEST``. Wide enough for any real
business date, and far enough from Python's own limits (years 1 and 9999) that the
arithmetic on them (maturity = deposit + term, day windows, calendar months) cannot
overflow. Outside it: BAD_USER_INPUT naming the field.

Input types with date fields derive from ``BoundedDates`` (checked when the input is
built from the request, before the resolver runs); date arguments go through
``bounded``. tests/security/test_date_bounds.py finds every date input in the schema."""

from datetime import date, datetime
from typing import Any, TypeVar

from strawberry.schema.name_converter import NameConverter

from models.errors import BadUserInput

EARLIEST = date(1900, 1, 1)
LATEST = date(2999, 12, 31)

Day = TypeVar("Day", date, datetime, date | None, datetime | None)
_names = NameConverter()


def bounded(value: Day, field: str) -> Day:
    """``value`` itself when it lies within the accepted range (or is None)."""
    if value is not None:
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST <= day <= LATEST:
            raise BadUserInput(f"{field} must be between {EARLIEST} and {LATEST}", field=field)
    return value


class BoundedDates:
    """For strawberry input types: each Date/DateTime field within the accepted range."""

    def __post_init__(self) -> None:
        definition: Any = type(self).__strawberry_definition__  # type: ignore[attr-defined]
        for field in definition.fields:
            value = getattr(self, field.python_name, None)
            if isinstance(value, date):
                bounded(value, _names.from_field(field))
