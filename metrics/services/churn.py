"""Write churn flags (``flag_churn_risk``); the rules are in ``metrics.selectors.churn``'s
docstring."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer, Deal, DealStage, Feedback, FollowUp
from metrics.models import ChurnFlag, ChurnReason
from metrics.periods import company_zone
from metrics.selectors.churn import _LOCK_KEY, date_param, days_between_sql, local_date_sql, table_sql


def _insert_flags(*, as_of: dt.datetime) -> None:
    """One INSERT … SELECT of every (customer, reason) pair that holds at ``as_of``, upserting on
    the unique pair: a persisting flag gets its new figures and ``checked_at`` and keeps
    ``flagged_at``. Runs on PostgreSQL and on SQLite (the embedded demo's beat runs it too):
    medians are ROW_NUMBER/COUNT windows rather than ``percentile_cont``, and the two
    dialect-specific bits (local date of a timestamp, days between dates) come from helpers."""
    customers, deals, feedback, followups = (
        table_sql(Customer),
        table_sql(Deal),
        table_sql(Feedback),
        table_sql(FollowUp),
    )
    now = connection.ops.adapt_datetimefield_value(as_of)
    today = date_param(timezone.localdate(as_of, company_zone()))
    lookback = connection.ops.adapt_datetimefield_value(
        as_of - dt.timedelta(days=settings.METRICS_CHURN_NPS_LOOKBACK_DAYS)
    )
    purchase_day, purchase_day_params = local_date_sql("d.closed_at", [])
    last_touch, last_touch_params = local_date_sql(
        f"COALESCE((SELECT MAX(fu.at) FROM {followups} fu WHERE fu.customer_id = c.id AND fu.at <= %s), "  # noqa: S608
        "c.claimed_at, c.created_at)",
        [now],
    )
    factor = Decimal(str(settings.METRICS_CHURN_INTERVAL_FACTOR))
    sql = f"""
        INSERT INTO {table_sql(ChurnFlag)}
            (customer_id, reason, days, interval_days, nps, answered_at, flagged_at, checked_at)
        WITH purchase_days AS (
            SELECT DISTINCT d.customer_id, {purchase_day} AS day
            FROM {deals} d JOIN {customers} c ON c.id = d.customer_id
            WHERE d.stage = %s AND d.closed_at <= %s AND c.owner_id IS NOT NULL
        ),
        intervals AS (
            SELECT customer_id,
                {days_between_sql("day", "LAG(day) OVER (PARTITION BY customer_id ORDER BY day)")} AS gap
            FROM purchase_days
        ),
        ranked AS (
            SELECT customer_id, gap,
                ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY gap) AS position,
                COUNT(*) OVER (PARTITION BY customer_id) AS intervals
            FROM intervals WHERE gap IS NOT NULL
        ),
        medians AS (
            SELECT customer_id, AVG(gap) AS median FROM ranked
            WHERE position IN ((intervals + 1) / 2, (intervals + 2) / 2)
            GROUP BY customer_id
        ),
        gaps AS (
            SELECT m.customer_id, m.median, {days_between_sql("%s", "MAX(p.day)")} AS since
            FROM medians m JOIN purchase_days p ON p.customer_id = m.customer_id
            GROUP BY m.customer_id, m.median
        ),
        detractors AS (
            SELECT f.customer_id, f.nps, f.at,
                ROW_NUMBER() OVER (PARTITION BY f.customer_id ORDER BY f.at DESC, f.id DESC) AS position
            FROM {feedback} f JOIN {customers} c ON c.id = f.customer_id
            WHERE f.nps <= 6 AND f.at > %s AND f.at <= %s
                AND c.owner_id IS NOT NULL AND c.first_won_at <= %s
        ),
        quiet AS (
            SELECT c.id AS customer_id, {days_between_sql("%s", last_touch)} AS since
            FROM {customers} c
            WHERE c.owner_id IS NOT NULL AND c.first_won_at <= %s
        )
        SELECT customer_id, %s, since, median, NULL, NULL, %s, %s FROM gaps WHERE since > %s * median
        UNION ALL
        SELECT customer_id, %s, NULL, NULL, nps, at, %s, %s FROM detractors WHERE position = 1
        UNION ALL
        SELECT customer_id, %s, since, NULL, NULL, NULL, %s, %s FROM quiet WHERE since >= %s
        ON CONFLICT (customer_id, reason) DO UPDATE SET
            days = excluded.days, interval_days = excluded.interval_days, nps = excluded.nps,
            answered_at = excluded.answered_at, checked_at = excluded.checked_at
    """  # noqa: S608 -- table names from model metadata, every value a parameter
    params = [
        *purchase_day_params,
        DealStage.WON,
        now,
        today,  # gaps
        lookback,  # detractors
        now,
        now,
        today,  # quiet
        *last_touch_params,
        now,
        ChurnReason.PURCHASE_GAP.value,
        now,
        now,
        factor,
        ChurnReason.DETRACTOR.value,
        now,
        now,
        ChurnReason.FOLLOWUPS_STOPPED.value,
        now,
        now,
        settings.METRICS_CHURN_NO_FOLLOWUP_DAYS,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@transaction.atomic
def flag_churn_risk(*, as_of: dt.datetime | None = None) -> int:
    """Replace the current churn flags with those that hold at ``as_of`` (default now); return
    how many flags are current.

    Idempotent and set-based: one INSERT … SELECT … ON CONFLICT upserts every flag that holds
    (a persisting flag keeps ``flagged_at``, gets fresh figures and ``checked_at``), then one
    DELETE removes the flags this run did not confirm. Two runs at once queue on an advisory
    lock (PostgreSQL; SQLite serialises writers anyway), so neither sees the other's half.
    """
    as_of = as_of or timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
    _insert_flags(as_of=as_of)
    ChurnFlag.objects.exclude(checked_at=as_of).delete()
    return ChurnFlag.objects.count()
