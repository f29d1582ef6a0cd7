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
from decimal import Decimal

from django.db import connection
from django.db.models import Min

from customers.demo.context import SeedContext
from customers.models import Customer, Deal, FollowUp, Role, User
from metrics.models import DailyRollup, RollupDay
from metrics.models.scorecard import DEFAULT_SCORECARD_CAP
from metrics.periods import company_zone, local_today
from metrics.selectors.scorecard import TargetScope, quarter_of
from metrics.services import rollups as rollups_services
from metrics.services import scorecard as scorecard_services
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


# Company-wide quarterly targets (KPI.md units) and the scorecard's weights, so the targets and
# scorecard pages show figures. Money and counts scale with the number of seeded customers.
SCORECARD_WEIGHTS = {"sales": 40, "win_rate": 20, "followups": 20, "new_customers": 10, "recycle_rate": 10}


def _demo_targets(customers: int) -> dict[str, Decimal]:
    return {
        "sales": Decimal(max(customers, 1) * 500),
        "win_rate": Decimal(30),
        "followups": Decimal(max(customers // 2, 1)),
        "new_customers": Decimal(max(customers // 12, 1)),
        "recycle_rate": Decimal(10),
        "sales_cycle": Decimal(45),
        "nps": Decimal(30),
        "claim_rate": Decimal(20),
    }


def seed_scorecard(ctx: SeedContext) -> None:
    """Targets for this quarter and the last, for everyone, and the scorecard weights (through
    ``metrics.services.scorecard``, as an admin would set them)."""
    admin = User.objects.filter(pk=ctx.admin_id).first() if ctx.admin_id else None
    admin = admin or User.objects.filter(role=Role.ADMIN).order_by("pk").first()
    if admin is None:
        return
    today = local_today()
    this_quarter = quarter_of(today).start
    last_quarter = quarter_of(this_quarter - dt.timedelta(days=1)).start
    targets = _demo_targets(Customer.objects.count())
    for quarter in (last_quarter, this_quarter):
        scorecard_services.set_kpi_targets(
            actor=admin, quarter=quarter, target_scope=TargetScope(), targets=dict(targets)
        )
    scorecard_services.update_scorecard(
        actor=admin,
        weights={code: Decimal(weight) for code, weight in SCORECARD_WEIGHTS.items()},
        cap=DEFAULT_SCORECARD_CAP,
    )
    ctx.counted("KPI targets", 2 * len(targets))
