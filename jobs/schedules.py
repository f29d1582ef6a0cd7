"""Schedules in words: "every 15 minutes", "daily at 00:30", "weekly on Monday at 08:00".

The usual crontab shapes (every N minutes, hourly, daily, weekly on some days, monthly on a day)
and every interval read as a sentence in the active language; any other crontab shows its five
fields after "custom schedule:" rather than a sentence that might be wrong.
"""

import re
from datetime import datetime, timedelta

from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

_EVERY = re.compile(r"^\*/(\d+)$")
_DAY_NAMES = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() else None


def _crontab_day(value: str) -> int | None:
    """A crontab day of week (0 or 7 = Sunday, or a name) as Django's WEEKDAYS key (0 = Monday)."""
    day = _int(value) if value.isdigit() else _DAY_NAMES.get(value.lower()[:3])
    if day is None or day > 7:
        return None
    return (day - 1) % 7


def _days(value: str) -> list[int] | None:
    days: list[int] = []
    for part in value.split(","):
        if "-" in part:
            first, _sep, last = part.partition("-")
            start, end = _crontab_day(first), _crontab_day(last)
            if start is None or end is None or end < start:
                return None
            days.extend(range(start, end + 1))
        else:
            day = _crontab_day(part)
            if day is None:
                return None
            days.append(day)
    return sorted(set(days))


def describe_crontab(cron: CrontabSchedule) -> str:
    minute, hour, dom, month, dow = (
        str(cron.minute).strip(),
        str(cron.hour).strip(),
        str(cron.day_of_month).strip(),
        str(cron.month_of_year).strip(),
        str(cron.day_of_week).strip(),
    )
    m, h = _int(minute), _int(hour)
    every = _EVERY.match(minute)
    if month == "*" and dom == "*" and dow == "*" and hour == "*":
        if minute == "*":
            return _("every minute")
        if every:
            return _interval(int(every.group(1)), IntervalSchedule.MINUTES)
        if m is not None and m < 60:
            return _("every hour at %(minute)02d minutes past") % {"minute": m}
    if m is not None and h is not None and m < 60 and h < 24 and month == "*":
        time = f"{h:02d}:{m:02d}"
        if dom == "*" and dow == "*":
            return _("daily at %(time)s") % {"time": time}
        days = _days(dow) if dom == "*" else None
        if days == [0, 1, 2, 3, 4]:
            return _("on weekdays at %(time)s") % {"time": time}
        if days:
            names = pgettext("between items of a list", ", ").join(str(WEEKDAYS[d]) for d in days)
            return _("weekly on %(days)s at %(time)s") % {"days": names, "time": time}
        day = _int(dom)
        if dow == "*" and day is not None and 1 <= day <= 31:
            return _("monthly on day %(day)d at %(time)s") % {"day": day, "time": time}
    return _("custom schedule: %(cron)s") % {"cron": f"{minute} {hour} {dom} {month} {dow}"}


def _interval(n: int, period: str) -> str:
    # "every minute", not "every 1 minute" (and 每分钟, not 每 1 分钟: Chinese has one plural form).
    if n == 1:
        ones = {
            IntervalSchedule.DAYS: _("every day"),
            IntervalSchedule.HOURS: _("every hour"),
            IntervalSchedule.MINUTES: _("every minute"),
            IntervalSchedule.SECONDS: _("every second"),
            IntervalSchedule.MICROSECONDS: _("every microsecond"),
        }
        return ones[period]
    texts = {
        IntervalSchedule.DAYS: ngettext("every %(n)d day", "every %(n)d days", n),
        IntervalSchedule.HOURS: ngettext("every %(n)d hour", "every %(n)d hours", n),
        IntervalSchedule.MINUTES: ngettext("every %(n)d minute", "every %(n)d minutes", n),
        IntervalSchedule.SECONDS: ngettext("every %(n)d second", "every %(n)d seconds", n),
        IntervalSchedule.MICROSECONDS: ngettext("every %(n)d microsecond", "every %(n)d microseconds", n),
    }
    return texts[period] % {"n": n}


def describe_interval(interval: IntervalSchedule) -> str:
    return _interval(interval.every, interval.period)


def describe(task: PeriodicTask) -> str:
    """The task's schedule as a sentence (its crontab or interval; others are rare here)."""
    if task.crontab_id:
        return describe_crontab(task.crontab)
    if task.interval_id:
        return describe_interval(task.interval)
    return _("custom schedule")


def next_run(task: PeriodicTask, *, now: datetime) -> datetime | None:
    """When beat will next send the task (``None`` while it is disabled)."""
    if not task.enabled:
        return None
    if task.interval_id:
        step = timedelta(**{task.interval.period: task.interval.every})
        return max(now, task.last_run_at + step) if task.last_run_at else now + step
    if task.crontab_id:
        upcoming = now + task.crontab.schedule.remaining_estimate(now)
        # A crontab fires on a whole minute; the estimate runs a few microseconds behind ``now``.
        return (upcoming + timedelta(seconds=30)).replace(second=0, microsecond=0)
    return None
