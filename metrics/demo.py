"""The metrics step of ``seed_demo``: fill the daily roll-ups for the seeded history.

Registered in ``MetricsConfig.ready`` after the public pool's step, so the pool events are
there. It rolls up every day from the first day of the history through yesterday (or through
the day before ``--as-of``, when the history ends earlier) in one ``rollup_days`` call: one
set-based ``INSERT ... SELECT`` over the seeded tables, inside the seed's transaction. Today is
left to the live computation, as in production.
"""

from __future__ import annotations

import datetime as dt
import time

from django.db import connection
from django.db.models import Min

from customers.demo.context import SeedContext
from customers.models import Customer, Deal, FollowUp
from metrics.models import DailyRollup, RollupDay
from metrics.periods import company_zone, local_today
from metrics.services import rollups as rollups_services
from public_pool.models import PoolEvent


def seed_rollups(ctx: SeedContext) -> None:
    # ``--flush`` empties the CRM's tables but not these (nothing refers to them): a new history
    # must not keep the old one's figures for days it does not cover.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {DailyRollup._meta.db_table}, {RollupDay._meta.db_table}")
    else:
        DailyRollup.objects.all().delete()
        RollupDay.objects.all().delete()
    first = _first_day()
    if first is None:
        return
    last = min(local_today(), dt.date(1970, 1, 1) + dt.timedelta(days=ctx.today)) - dt.timedelta(days=1)
    if last < first:
        return
    if connection.vendor == "postgresql":
        # The tables were just loaded in this transaction: give the planner their sizes.
        with connection.cursor() as cursor:
            for model in (Customer, FollowUp, Deal, PoolEvent):
                cursor.execute(f"ANALYZE {model._meta.db_table}")
    started = time.monotonic()
    rows = rollups_services.rollup_days(since=first, until=last)
    ctx.counted("daily roll-up rows", rows)
    ctx.log(f"  roll-ups {first} … {last}: {time.monotonic() - started:.1f} s")


def _first_day() -> dt.date | None:
    """The first day with any activity (customers are created before anything happens to them)."""
    first = Customer.objects.aggregate(first=Min("created_at"))["first"]
    if first is None:
        return None
    return first.astimezone(company_zone()).date()
