"""Customer lifetime value per customer and the value tiers A/B/C derived from it (KPI.md).

CLV = average won deal amount x purchases per year x expected lifespan in years x gross
margin (``METRICS_CLV_LIFESPAN_YEARS``, ``METRICS_CLV_GROSS_MARGIN``). Purchases per year =
won deals ÷ years since the first won deal, where a customer younger than one year counts as
one year (otherwise a first purchase yesterday would extrapolate to hundreds a year); years
are calendar days in the company time zone ÷ 365. Since average amount x deals = total won
amount, CLV = total won ÷ max(years, 1) x lifespan x margin.

Tiers: with admin thresholds (``ValueTierSettings``, both set) A is CLV ≥ the A threshold and
B is CLV ≥ the B threshold; without, the top 20 % of paying customers by CLV are A, the next
30 % B, the rest C, by ``CUME_DIST`` (customers with equal CLV share a tier; with fewer than
five paying customers nobody is in the top 20 %). Customers with no won deal have no CLV and
no tier (blank). Recycle rules can filter on the tier (``public_pool.RecycleRule.value_tier``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from crm_site.db_routers import read_connection
from customers.models import Deal, DealStage, ValueTier
from metrics.models import ValueTierSettings
from metrics.periods import company_zone
from metrics.selectors.churn import date_param, days_between_sql, local_date_sql, table_sql

TOP_A = 0.2  # share of paying customers in tier A without admin thresholds


TOP_B = 0.5  # ... in A or B


def _greatest(left: str, right: str) -> str:
    return f"GREATEST({left}, {right})" if connection.vendor == "postgresql" else f"MAX({left}, {right})"


def clv_sql(*, as_of: dt.datetime) -> tuple[str, list[Any]]:
    """A SELECT of ``(customer_id, clv)`` for every customer with a won deal by ``as_of``."""
    first_day, first_day_params = local_date_sql("MIN(d.closed_at)", [])
    years = _greatest(days_between_sql("%s", first_day), "365")
    sql = f"""
        SELECT d.customer_id AS customer_id,
            SUM(d.amount) * 365.0 / {years} * %s * %s AS clv
        FROM {table_sql(Deal)} d
        WHERE d.stage = %s AND d.closed_at <= %s
        GROUP BY d.customer_id
    """  # noqa: S608 -- table name from model metadata, values are parameters
    params = [
        date_param(timezone.localdate(as_of, company_zone())),
        *first_day_params,
        Decimal(str(settings.METRICS_CLV_LIFESPAN_YEARS)),
        Decimal(str(settings.METRICS_CLV_GROSS_MARGIN)),
        DealStage.WON.value,
        connection.ops.adapt_datetimefield_value(as_of),
    ]
    return sql, params


def tiers_sql(*, as_of: dt.datetime) -> tuple[str, list[Any]]:
    """A SELECT of ``(customer_id, tier)`` for every paying customer."""
    values, params = clv_sql(as_of=as_of)
    thresholds = ValueTierSettings.objects.order_by("pk").first()
    if thresholds and thresholds.thresholds:
        tier_a, tier_b = thresholds.thresholds
        sql = f"""
            SELECT customer_id, CASE WHEN clv >= %s THEN %s WHEN clv >= %s THEN %s ELSE %s END AS tier
            FROM ({values}) v
        """  # noqa: S608
        return sql, [tier_a, ValueTier.A.value, tier_b, ValueTier.B.value, ValueTier.C.value, *params]
    sql = f"""
        SELECT customer_id, CASE WHEN share <= %s THEN %s WHEN share <= %s THEN %s ELSE %s END AS tier
        FROM (SELECT customer_id, CUME_DIST() OVER (ORDER BY clv DESC) AS share FROM ({values}) v) ranked
    """  # noqa: S608
    return sql, [TOP_A, ValueTier.A.value, TOP_B, ValueTier.B.value, ValueTier.C.value, *params]


def clv_by_customer(*, customer_ids: list[int], as_of: dt.datetime | None = None) -> dict[int, Decimal]:
    """CLV of the given customers (those with a won deal), for a page showing a few of them."""
    if not customer_ids:
        return {}
    values, params = clv_sql(as_of=as_of or timezone.now())
    placeholders = ", ".join(["%s"] * len(customer_ids))
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT customer_id, clv FROM ({values}) v WHERE customer_id IN ({placeholders})",  # noqa: S608
            [*params, *customer_ids],
        )
        return {
            customer_id: Decimal(str(clv)).quantize(Decimal("0.01")) for customer_id, clv in cursor.fetchall()
        }
