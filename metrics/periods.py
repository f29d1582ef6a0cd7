"""Periods and scopes: the two arguments of every KPI (KPI.md).

A period is a half-open range of calendar days ``[start, end)`` in the company time zone
(``settings.TIME_ZONE``); ``bounds()`` turns it into the aware datetimes a query filters on,
so a follow-up at 23:59 local time on the last day is in and one at 00:00 the day after is out.
A scope says whose figures: the whole company, one team, one rep, one pool or one
acquisition channel (``customers.models.Source``).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def company_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_today() -> dt.date:
    return timezone.localdate(timezone.now(), company_zone())


def start_of_day(day: dt.date) -> dt.datetime:
    """The aware moment a calendar day starts in the company time zone."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=company_zone())


class Grain(StrEnum):
    """How a trend chart buckets a period, and the presets of the period picker."""

    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"


@dataclass(frozen=True, slots=True)
class Period:
    """Calendar days ``[start, end)`` in the company time zone; never empty."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty period {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        """Aware datetimes for ``at >= start AND at < end``."""
        return start_of_day(self.start), start_of_day(self.end)

    def previous(self) -> Period:
        """The period a dashboard compares with: the same calendar unit before this one when
        this is a whole month or quarter, otherwise the same number of days just before."""
        if _is_month_run(self):
            months = _months_between(self.start, self.end)
            return Period(_add_months(self.start, -months), self.start)
        return Period(self.start - dt.timedelta(days=self.days), self.start)

    def contains_today(self) -> bool:
        return self.start <= local_today() < self.end

    def split(self, grain: Grain) -> list[Period]:
        """Consecutive buckets covering the period (the first and last may be partial):
        weeks start on Monday, months and quarters on their first day."""
        buckets, cursor = [], self.start
        while cursor < self.end:
            following = min(_next_boundary(cursor, grain), self.end)
            buckets.append(Period(cursor, following))
            cursor = following
        return buckets

    @classmethod
    def preset(cls, grain: Grain, *, containing: dt.date | None = None) -> Period:
        """The whole day, week, month or quarter that contains ``containing`` (default today)."""
        day = containing or local_today()
        if grain is Grain.DAY:
            return cls(day, day + dt.timedelta(days=1))
        if grain is Grain.WEEK:
            start = day - dt.timedelta(days=day.weekday())
            return cls(start, start + dt.timedelta(days=7))
        if grain is Grain.MONTH:
            start = day.replace(day=1)
            return cls(start, _add_months(start, 1))
        start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
        return cls(start, _add_months(start, 3))

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.last_day.isoformat()}"


WEEKLY_UP_TO_DAYS = 92  # trends default to weeks up to a quarter, months beyond


def preset_period(name: str, *, today: dt.date) -> Period:
    """The period a dashboard preset names (``this_week``, ``last_quarter``, ``this_year`` ...),
    relative to ``today`` (company time zone)."""
    unit, _sep, grain_name = name.partition("_")
    if grain_name == "year":
        year = today.year if unit == "this" else today.year - 1
        return Period(dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
    grain = Grain(grain_name)
    current = Period.preset(grain, containing=today)
    if unit == "this":
        return current
    return Period.preset(grain, containing=current.start - dt.timedelta(days=1))


def default_grain(period: Period) -> Grain:
    """Trend buckets when the user picks none: weeks up to a quarter, months beyond."""
    return Grain.WEEK if period.days <= WEEKLY_UP_TO_DAYS else Grain.MONTH


class ScopeKind(StrEnum):
    COMPANY = "company"
    TEAM = "team"
    REP = "rep"
    POOL = "pool"
    CHANNEL = "channel"


SCOPE_LABELS = {
    ScopeKind.COMPANY: _("Company"),
    ScopeKind.TEAM: _("Team"),
    ScopeKind.REP: _("Sales rep"),
    ScopeKind.POOL: _("Pool"),
    ScopeKind.CHANNEL: _("Channel"),
}


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose figures: ``kind`` and the team, user or pool id, or the ``Source`` value of a
    channel; ``key`` is None exactly for the company."""

    kind: ScopeKind
    key: int | str | None = None

    def __post_init__(self) -> None:
        if (self.kind is ScopeKind.COMPANY) != (self.key is None):
            raise ValueError(f"scope {self.kind} needs {'no' if self.kind is ScopeKind.COMPANY else 'a'} key")

    @property
    def object_id(self) -> int:
        """The team, user or pool id of a team, rep or pool scope."""
        if self.kind in (ScopeKind.COMPANY, ScopeKind.CHANNEL) or self.key is None:
            raise ValueError(f"scope {self.kind} names no team, person or pool")
        return int(self.key)

    @classmethod
    def company(cls) -> Scope:
        return cls(ScopeKind.COMPANY)

    @classmethod
    def team(cls, team_id: int) -> Scope:
        return cls(ScopeKind.TEAM, team_id)

    @classmethod
    def rep(cls, user_id: int) -> Scope:
        return cls(ScopeKind.REP, user_id)

    @classmethod
    def pool(cls, pool_id: int) -> Scope:
        return cls(ScopeKind.POOL, pool_id)

    @classmethod
    def channel(cls, source: str) -> Scope:
        return cls(ScopeKind.CHANNEL, source)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _months_between(start: dt.date, end: dt.date) -> int:
    return (end.year - start.year) * 12 + end.month - start.month


def _is_month_run(period: Period) -> bool:
    return period.start.day == 1 and period.end.day == 1


def _next_boundary(day: dt.date, grain: Grain) -> dt.date:
    if grain is Grain.DAY:
        return day + dt.timedelta(days=1)
    if grain is Grain.WEEK:
        return day + dt.timedelta(days=7 - day.weekday())
    if grain is Grain.MONTH:
        return _add_months(day.replace(day=1), 1)
    quarter_start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return _add_months(quarter_start, 3)
