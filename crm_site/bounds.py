"""The range of dates and moments any input may name (API.md, "Answers": no input answers a 5xx).

Python's dates end at year 9999 and a period, a quarter or a time-zone shift past either end
overflows; the database's ranges differ again. Every date, datetime, period and quarter a
request carries is checked against ``EARLIEST_DAY``–``LATEST_DAY`` before anything computes
with it, so an odd value answers 400 with a message saying the range, never an OverflowError.
"""

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

EARLIEST_DAY = dt.date(2000, 1, 1)
LATEST_DAY = dt.date(2999, 12, 31)


def day_in_range(day: dt.date) -> bool:
    """Whether ``day`` (or the calendar day of a datetime, as written) lies in the range."""
    if isinstance(day, dt.datetime):
        day = day.date()
    return EARLIEST_DAY <= day <= LATEST_DAY


@deconstructible
class DayRangeValidator:
    """A form or serializer validator for ``DateField`` and ``DateTimeField`` values."""

    message = _("Enter a date between %(earliest)s and %(latest)s.")
    code = "date_out_of_range"

    def __call__(self, value: Any) -> None:
        if value is not None and not day_in_range(value):
            raise ValidationError(
                self.message,
                code=self.code,
                params={"earliest": EARLIEST_DAY.isoformat(), "latest": LATEST_DAY.isoformat()},
            )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DayRangeValidator)

    def __hash__(self) -> int:
        return hash(DayRangeValidator)


def out_of_range_message() -> str:
    """The message of ``DayRangeValidator``, for code that checks a parsed value by hand."""
    return str(DayRangeValidator.message % {"earliest": EARLIEST_DAY, "latest": LATEST_DAY})
