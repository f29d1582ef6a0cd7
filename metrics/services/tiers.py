"""Recompute value tiers (``recompute_value_tiers``); the CLV per customer and the tier rules are
in ``metrics.selectors.tiers``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, ValueTier
from metrics.selectors.tiers import tiers_sql


@dataclass(frozen=True)
class TierCounts:
    changed: int
    a: int
    b: int
    c: int
    none: int


def recompute_value_tiers(*, as_of: dt.datetime | None = None) -> TierCounts:
    """Recompute every customer's value tier (nightly; ``manage.py recompute_value_tiers``).

    One set-based UPDATE through ``customers.services.set_value_tiers`` (only changed rows are
    written, so a second run changes nothing), then one count per tier for the report.
    """
    sql, params = tiers_sql(as_of=as_of or timezone.now())
    changed = customer_services.set_value_tiers(tiers_sql=sql, params=params)
    counts = Customer.objects.aggregate(
        a=Count("pk", filter=Q(value_tier=ValueTier.A)),
        b=Count("pk", filter=Q(value_tier=ValueTier.B)),
        c=Count("pk", filter=Q(value_tier=ValueTier.C)),
        none=Count("pk", filter=Q(value_tier="")),
    )
    return TierCounts(changed=changed, **counts)
