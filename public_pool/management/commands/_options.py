"""Shared argument parsing for the pool commands."""

from datetime import datetime

from django.core.management.base import CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime


def parse_as_of(value: str | None) -> datetime | None:
    """``2025-03-01``, ``2025-03-01T08:00`` or with an offset; naive values are in settings.TIME_ZONE."""
    if not value:
        return None
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"Not a date or time: {value!r} (use e.g. 2025-03-01T08:00).")
        moment = datetime(day.year, day.month, day.day)  # noqa: DTZ001 -- made aware just below
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment
