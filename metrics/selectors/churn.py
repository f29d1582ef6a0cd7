"""Churn early warning (KPI.md, "Churn early warning"): the nightly job and the list selector.

``flag_churn_risk`` flags *paying* customers (a won deal at or before the run) that are
*owned* (the warning goes to an owner and their manager; a pooled lead has nobody to warn),
for each reason that holds at ``as_of``:

- ``purchase_gap``: no won deal for longer than 1.5 x (``METRICS_CHURN_INTERVAL_FACTOR``) the
  customer's own median interval between purchases. A purchase is a calendar day (company time
  zone) with at least one won deal, so three deals signed on one day are one purchase, not two
  zero-day intervals. It needs two purchase days; the gap is today - the last purchase day, in
  days, and must be strictly longer than the factor x median.
- ``detractor``: an NPS answer of 0–6 within the last ``METRICS_CHURN_NPS_LOOKBACK_DAYS`` days
  (the latest such answer is shown). A later promoter answer does not clear it: KPI.md asks
  for "a detractor NPS answer", and the flag ends when the answer leaves the look-back.
- ``followups_stopped``: ``METRICS_CHURN_NO_FOLLOWUP_DAYS`` or more calendar days since the last
  follow-up (since the customer was taken, when it has none).

Each reason is a separate flag, so one customer may carry up to three."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import connection, models
from django.db.models import QuerySet

from customers import selectors as customer_selectors
from customers.models import User
from metrics.models import ChurnFlag

# Any constant: the advisory lock that serialises two runs of the job (two beat processes, a
# manual run during a scheduled one).
_LOCK_KEY = 0x43485552  # "CHUR"


def local_date_sql(sql: str, params: list[object]) -> tuple[str, list[object]]:
    """SQL for the company-time-zone calendar date of a timestamp expression."""
    cast, cast_params = connection.ops.datetime_cast_date_sql(sql, tuple(params), settings.TIME_ZONE)
    return cast, list(cast_params)


def days_between_sql(later: str, earlier: str) -> str:
    """Whole days from one date expression to another."""
    if connection.vendor == "postgresql":
        return f"({later} - {earlier})"
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


def table_sql(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def date_param(value: dt.date) -> object:
    return value if connection.vendor == "postgresql" else value.isoformat()


def churn_flags_for(*, user: User) -> QuerySet[ChurnFlag]:
    """Current churn flags of the customers ``user`` may see (``customers_visible_to``: a rep
    their own, a manager their teams', an admin all), newest first, with customer and owner
    loaded for the list. Callers paginate."""
    visible = customer_selectors.customers_visible_to(user).filter(owner__isnull=False)
    return (
        ChurnFlag.objects.filter(customer__in=visible.values("pk"))
        .select_related("customer", "customer__owner", "customer__team")
        .order_by("-flagged_at", "customer_id", "reason")
    )
