"""Pool KPIs (KPI.md): pool conversion, time to claim, claim rate, stale stock, recycle rate.

All of them read the append-only pool log (``public_pool.PoolEvent``) and the customer rows
directly, with indexed queries: they are cohort, median or stock figures that the additive
daily roll-ups cannot give (a median of medians is not a median, a stock is not a sum of days).

Decisions where KPI.md is silent:

- "Claimed" means *taken from a pool by a rep*: a ``claim`` or a manager's ``assign`` event
  (``public_pool.models.TAKE_KINDS``). Both move a lead from the pool into the sales process;
  ``detail`` splits them (``claims``, ``assigns``).
- Scopes: a rep is the taker (``to_owner``; for recycling the loser, ``from_owner``), a team
  is the taker's current team, a pool is the pool taken from (for recycling, the pool the
  customer was sent to), a channel is the customer's ``source``.
- Pool conversion and claim rate count take *events* (a lead taken twice is two cohort
  members, one per claim); recycle rate counts distinct *customers*, as KPI.md words it.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Extract
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Deal, DealStage
from metrics.kpis import NO_DATA, KpiValue, Unit, kpi
from metrics.periods import Period, Scope, ScopeKind
from public_pool.models import TAKE_KINDS, PoolEvent, PoolEventKind

_TAKERS = frozenset({ScopeKind.COMPANY, ScopeKind.TEAM, ScopeKind.REP, ScopeKind.POOL, ScopeKind.CHANNEL})
# Stock figures belong to pools; a rep or team holds no pool stock.
_STOCK = frozenset({ScopeKind.COMPANY, ScopeKind.POOL, ScopeKind.CHANNEL})

HUNDRED = Decimal(100)


def _percent(numerator: int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * HUNDRED / Decimal(denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)


def _hours(value: float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"), ROUND_HALF_UP)


# --- Scope filters on the pool log ------------------------------------------------------------


def _take_filter(scope: Scope) -> Q:
    """Take events (claim/assign out of a pool) of the scope."""
    match = Q(kind__in=TAKE_KINDS, from_pool__isnull=False)
    if scope.kind is ScopeKind.REP:
        match &= Q(to_owner_id=scope.key)
    elif scope.kind is ScopeKind.TEAM:
        match &= Q(to_owner__team_id=scope.key)
    elif scope.kind is ScopeKind.POOL:
        match &= Q(from_pool_id=scope.key)
    elif scope.kind is ScopeKind.CHANNEL:
        match &= Q(customer__source=scope.key)
    return match


def _recycle_filter(scope: Scope) -> Q:
    match = Q(kind=PoolEventKind.RECYCLE)
    if scope.kind is ScopeKind.REP:
        match &= Q(from_owner_id=scope.key)
    elif scope.kind is ScopeKind.TEAM:
        match &= Q(from_owner__team_id=scope.key)
    elif scope.kind is ScopeKind.POOL:
        match &= Q(to_pool_id=scope.key)
    elif scope.kind is ScopeKind.CHANNEL:
        match &= Q(customer__source=scope.key)
    return match


def _pool_side(scope: Scope, side: str) -> Q:
    """Events that put a customer into (``side="to"``) or took one out of (``"from"``) the
    scope's pools."""
    if scope.kind is ScopeKind.POOL:
        return Q(**{f"{side}_pool_id": scope.key})
    match = Q(**{f"{side}_pool__isnull": False})
    if scope.kind is ScopeKind.CHANNEL:
        match &= Q(customer__source=scope.key)
    return match


def _pooled_customers(scope: Scope) -> QuerySet[Customer]:
    customers = Customer.objects.filter(pool__isnull=False)
    if scope.kind is ScopeKind.POOL:
        customers = customers.filter(pool_id=scope.object_id)
    elif scope.kind is ScopeKind.CHANNEL:
        customers = customers.filter(source=scope.key)
    return customers


def takes(*, period: Period, scope: Scope) -> QuerySet[PoolEvent]:
    """The claim cohort: take events of the scope in the period (index ``poolevent_kind_at``)."""
    start, end = period.bounds()
    return PoolEvent.objects.filter(_take_filter(scope), at__gte=start, at__lt=end)


# --- Pool conversion --------------------------------------------------------------------------


@kpi(
    code="pool_conversion",
    label=_("Pool conversion rate"),
    unit=Unit.PERCENT,
    scopes=_TAKERS,
    description=_(
        "Share of leads taken from a pool in the period with a deal won within N days of the claim."
    ),
)
def pool_conversion(*, period: Period, scope: Scope) -> KpiValue:
    """Claims in the period (the cohort) with a won deal of the customer closed at or after the
    claim and at most N days after it (``METRICS_POOL_CONVERSION_DAYS``; a win exactly N days
    after the claim counts). ``detail["open"]``: cohort members whose window has not closed
    yet (claim + N days is after now) — a recent cohort's rate can still rise;
    ``detail["open_unconverted"]``: those of them not converted yet. One query.
    """
    window = dt.timedelta(days=settings.METRICS_POOL_CONVERSION_DAYS)
    now = timezone.now()
    won = Deal.objects.filter(
        customer_id=OuterRef("customer_id"),
        stage=DealStage.WON,
        closed_at__gte=OuterRef("at"),
        closed_at__lte=OuterRef("at") + window,
    )
    figures = (
        takes(period=period, scope=scope)
        .alias(is_converted=Exists(won))
        .aggregate(
            cohort=Count("pk"),
            converted=Count("pk", filter=Q(is_converted=True)),
            open=Count("pk", filter=Q(at__gt=now - window)),
            open_unconverted=Count("pk", filter=Q(at__gt=now - window, is_converted=False)),
            claims=Count("pk", filter=Q(kind=PoolEventKind.CLAIM)),
        )
    )
    cohort, converted = figures["cohort"], figures["converted"]
    if not cohort:
        return NO_DATA
    return KpiValue(
        _percent(converted, cohort),
        numerator=converted,
        denominator=cohort,
        detail={
            "open": figures["open"],
            "open_unconverted": figures["open_unconverted"],
            "window_days": settings.METRICS_POOL_CONVERSION_DAYS,
            "claims": figures["claims"],
            "assigns": cohort - figures["claims"],
        },
    )


# --- Time to claim ----------------------------------------------------------------------------


def _percentiles(queryset: QuerySet, column: str, fractions: list[float]) -> tuple[list[float | None], int]:
    """``percentile_cont`` of one column of ``queryset`` (NULLs ignored) and the non-null count,
    in one statement (PostgreSQL)."""
    sql, params = queryset.values(column).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT percentile_cont(%s::float8[]) WITHIN GROUP (ORDER BY t."{column}"), '  # noqa: S608
            f'count(t."{column}") FROM ({sql}) t',
            [fractions, *params],
        )
        values, count = cursor.fetchone()
    return list(values or [None] * len(fractions)), count


def _interpolate(data: list[float], fraction: float) -> float | None:
    if not data:
        return None
    position = fraction * (len(data) - 1)
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


@kpi(
    code="time_to_claim",
    label=_("Time to claim"),
    unit=Unit.HOURS,
    higher_is_better=False,
    scopes=_TAKERS,
    description=_("Median hours from entering a pool to being claimed; p90 beside it."),
)
def time_to_claim(*, period: Period, scope: Scope) -> KpiValue:
    """Median (value) and p90 (``detail["p90"]``) hours of claimed at - entered pool at, over the
    take events of the period. Entered pool at: the latest earlier event of the customer that
    put it into a pool (``to_pool`` set: create, import, release, recycle, move). Takes without
    such an event (history loaded around the log) are left out; ``detail["claims"]`` is the
    number measured. One statement: ``percentile_cont`` over a correlated index probe
    (``poolevent_customer_at``) per take.
    """
    entered = (
        PoolEvent.objects.filter(customer_id=OuterRef("customer_id"), to_pool__isnull=False)
        .filter(Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    waits = takes(period=period, scope=scope).annotate(entered_at=Subquery(entered))
    fractions = [0.5, 0.9]
    if connection.vendor == "postgresql":
        hours = (
            Extract(ExpressionWrapper(F("at") - F("entered_at"), output_field=DurationField()), "epoch")
            / 3600.0
        )
        (median, p90), count = _percentiles(waits.annotate(wait_hours=hours), "wait_hours", fractions)
    else:
        # SQLite (the embedded demo) has neither ordered-set aggregates nor epoch extraction from
        # an interval: the few waits of a demo are interpolated the same way in Python.
        data = sorted(
            (claimed - entered).total_seconds() / 3600
            for claimed, entered in waits.values_list("at", "entered_at")
            if entered is not None
        )
        (median, p90), count = [_interpolate(data, fraction) for fraction in fractions], len(data)
    if not count:
        return NO_DATA
    return KpiValue(_hours(median), detail={"p90": _hours(p90), "claims": count})


# --- Claim rate -------------------------------------------------------------------------------


@kpi(
    code="claim_rate",
    label=_("Pool claim rate"),
    unit=Unit.PERCENT,
    scopes=_STOCK,
    description=_("Leads taken from the pool ÷ (leads in the pool at the start + leads that entered)."),
)
def claim_rate(*, period: Period, scope: Scope) -> KpiValue:
    """Takes in the period ÷ (leads pooled at the period start + pool entries during it).

    The stock at the start is not stored: it is today's pooled count rolled back through the
    log, ``pooled now - entries since start + exits since start`` (exits: any event with
    ``from_pool``), so the cost is the events since the start, not the whole log. Two queries.
    Every take leaves the pool a lead that was in it at the start or entered during the
    period, so the rate is at most 100 %.
    """
    start, end = period.bounds()
    entered, left = _pool_side(scope, "to"), _pool_side(scope, "from")
    flows = PoolEvent.objects.filter(at__gte=start).aggregate(
        entries_since=Count("pk", filter=entered),
        exits_since=Count("pk", filter=left),
        entries=Count("pk", filter=entered & Q(at__lt=end)),
        taken=Count("pk", filter=_take_filter(scope) & Q(at__lt=end)),
    )
    pooled_now = _pooled_customers(scope).count()
    at_start = pooled_now - flows["entries_since"] + flows["exits_since"]
    denominator = at_start + flows["entries"]
    if denominator <= 0:
        return NO_DATA
    return KpiValue(
        _percent(flows["taken"], denominator),
        numerator=flows["taken"],
        denominator=denominator,
        detail={"pooled_at_start": at_start, "entered": flows["entries"]},
    )


# --- Stale stock ------------------------------------------------------------------------------


def stale_leads(*, scope: Scope, days: int | None = None) -> QuerySet[Customer]:
    """Leads in a pool for more than ``days`` (default ``METRICS_STALE_POOL_DAYS``) without being
    claimed, longest-waiting first (index ``cust_pool_pooled``). Pool and channel scopes narrow
    it; callers narrow it further to the pools the viewer may see
    (``public_pool.selectors``) and paginate."""
    days = settings.METRICS_STALE_POOL_DAYS if days is None else days
    cutoff = timezone.now() - dt.timedelta(days=days)
    return (
        _pooled_customers(scope)
        .filter(pooled_at__lt=cutoff)
        .select_related("pool")
        .order_by("pooled_at", "id")
    )


@kpi(
    code="stale_stock",
    label=_("Stale pool stock"),
    unit=Unit.COUNT,
    higher_is_better=False,
    scopes=_STOCK,
    description=_("Leads in a pool for more than N days without being claimed."),
)
def stale_stock(*, period: Period, scope: Scope) -> KpiValue:
    """The count of leads pooled more than ``METRICS_STALE_POOL_DAYS`` days without a claim, at
    the end of the period. For a period that has not ended yet it is today's count (the
    :func:`stale_leads` list); for a past one it is rebuilt from the log: customers whose last
    event before the period end put them into a pool more than N days before that end. That
    rebuild reads each customer's latest event (index ``poolevent_customer_at``), so it costs
    a pass over the log; dashboards show it for the current and previous period only.
    """
    days = settings.METRICS_STALE_POOL_DAYS
    _start, end = period.bounds()
    if end > timezone.now():
        return KpiValue(stale_leads(scope=scope, days=days).count(), detail={"days": days})
    latest = PoolEvent.objects.filter(customer_id=OuterRef("pk"), at__lt=end).order_by("-at", "-pk")
    customers = Customer.objects.all()
    if scope.kind is ScopeKind.CHANNEL:
        customers = customers.filter(source=scope.key)
    pool_match = Q(last_pool=scope.key) if scope.kind is ScopeKind.POOL else Q(last_pool__isnull=False)
    count = (
        customers.alias(
            last_pool=Subquery(latest.values("to_pool_id")[:1]),
            last_at=Subquery(latest.values("at")[:1]),
        )
        .filter(pool_match, last_at__lt=end - dt.timedelta(days=days))
        .count()
    )
    return KpiValue(count, detail={"days": days})


# --- Recycle rate -----------------------------------------------------------------------------


@kpi(
    code="recycle_rate",
    label=_("Recycle rate"),
    unit=Unit.PERCENT,
    higher_is_better=False,
    scopes=_TAKERS,
    description=_("Customers recycled in the period ÷ customers claimed in the period."),
)
def recycle_rate(*, period: Period, scope: Scope) -> KpiValue:
    """Distinct customers recycled in the period ÷ distinct customers taken from a pool in it
    (the recycled ones may have been claimed earlier, so it can exceed 100 %). One query."""
    start, end = period.bounds()
    figures = PoolEvent.objects.filter(at__gte=start, at__lt=end).aggregate(
        recycled=Count("customer_id", distinct=True, filter=_recycle_filter(scope)),
        taken=Count("customer_id", distinct=True, filter=_take_filter(scope)),
    )
    if not figures["taken"]:
        return NO_DATA
    return KpiValue(
        _percent(figures["recycled"], figures["taken"]),
        numerator=figures["recycled"],
        denominator=figures["taken"],
    )
