"""Pool KPIs (KPI.md): pool conversion, time to claim, claim rate, stale stock, recycle rate.

All of them read the append-only pool log (``public_pool.PoolEvent``) and the customer rows
directly, with indexed queries: they are cohort, median or stock figures that the additive
daily roll-ups cannot give (a median of medians is not a median, a stock is not a sum of days).

Decisions where KPI.md is silent:

- "Claimed" means *taken from a pool by a rep*: a ``claim`` or a manager's ``assign`` event
  (``public_pool.models.TAKE_KINDS``). Both move a lead from the pool into the sales process;
  ``detail`` splits them (``claims``, ``assigns``).
- Scopes: a rep is the taker (``to_owner``), a team is the taker's current team, a pool is
  the pool taken from, a channel is the customer's ``source``.
- Pool conversion and recycle rate are shares of one cohort, the distinct leads taken in
  the period (``cohorts``), so both lie in 0–100 %; claim rate counts take *events* against
  the pool's stock and entries.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Extract, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, Deal, DealStage
from metrics import figures_cache
from metrics.kpis import NO_DATA, KpiValue, Unit, kpi, stats
from metrics.periods import Period, Scope, ScopeKind, company_zone
from metrics.selectors import rollups
from public_pool.models import TAKE_KINDS, PoolEvent, PoolEventKind

_TAKERS = frozenset({ScopeKind.COMPANY, ScopeKind.TEAM, ScopeKind.REP, ScopeKind.POOL, ScopeKind.CHANNEL})
# Stock figures belong to pools; a rep or team holds no pool stock.
_STOCK = frozenset({ScopeKind.COMPANY, ScopeKind.POOL, ScopeKind.CHANNEL})
_NOT_STOCK = _("A pool's stock of leads belongs to the pool, not to a team or a rep.")

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


# --- The take cohort: pool conversion and recycle rate ------------------------------------------

# Events that end an owner's hold on a customer: it went back to a pool, to another owner, or
# (defensively) was taken again.
OWNERSHIP_ENDS = [
    PoolEventKind.RELEASE,
    PoolEventKind.RECYCLE,
    PoolEventKind.TRANSFER,
    PoolEventKind.CLAIM,
    PoolEventKind.ASSIGN,
]


@dataclass(frozen=True, slots=True)
class CohortFigures:
    """One take cohort (the leads taken from a pool in a period or a bucket of it)."""

    start: dt.date
    leads: int  # distinct leads taken
    converted: int  # of them: won by the rep who took them, within the window
    recycled: int  # of them: recycled from the rep who took them, within the window
    still_open: int  # of them: a take whose window has not closed yet
    open_unconverted: int
    claims: int  # take events: claims
    takes: int  # take events: claims and assignments

    def conversion(self) -> KpiValue:
        return _cohort_share(self.converted, self)

    def recycling(self) -> KpiValue:
        return _cohort_share(self.recycled, self)


def _cohort_share(part: int, cohort: CohortFigures) -> KpiValue:
    if not cohort.leads:
        return NO_DATA
    return KpiValue(
        _percent(part, cohort.leads),
        numerator=part,
        denominator=cohort.leads,
        detail={
            "open": cohort.still_open,
            "open_unconverted": cohort.open_unconverted,
            "window_days": settings.METRICS_POOL_CONVERSION_DAYS,
            "claims": cohort.claims,
            "assigns": cohort.takes - cohort.claims,
        },
    )


def cohorts(*, period: Period, scope: Scope, buckets: list[Period] | None = None) -> list[CohortFigures]:
    """The take cohort of ``period`` (or of each of ``buckets``, consecutive periods covering
    it; buckets without takes are left out), in one grouped query: the one implementation of
    pool conversion and recycle rate, which the KPIs and the cohort table read.

    A take (claim or assignment out of a pool, ``takes``) *converts* when the customer has a
    deal won at or after the take and at most N days after it
    (``METRICS_POOL_CONVERSION_DAYS``) while the taker still owned it: no release, recycle,
    transfer or new take of the customer between the take and the win. It *is recycled* when
    the customer's ownership by the taker ended with a ``recycle`` event from the taker at
    most N days after the take. A lead counts once per cohort (distinct customers); it is
    converted (recycled) when one of its takes in the cohort is. So both shares lie in 0–100 %,
    and a win by a later owner counts for that owner's own take only.

    A period that includes today is counted from its takes' rows instead
    (:func:`current_take_rows`: the closed days' from the cache, only the leads that moved
    today read live), with the same counts.
    """
    buckets = buckets or [period]
    if period.contains_today():
        return _current_cohorts(period=period, scope=scope, buckets=buckets)
    open_since = timezone.now() - dt.timedelta(days=settings.METRICS_POOL_CONVERSION_DAYS)
    rows = (
        _evaluated(takes(period=period, scope=scope))
        .annotate(
            bucket=Case(
                *[When(at__lt=bucket.bounds()[1], then=Value(i)) for i, bucket in enumerate(buckets)],
                output_field=IntegerField(),
            )
        )
        .values("bucket")
        .annotate(
            leads=Count("customer_id", distinct=True),
            converted=Count("customer_id", distinct=True, filter=Q(is_won=True)),
            recycled=Count("customer_id", distinct=True, filter=Q(is_recycled=True)),
            still_open=Count("customer_id", distinct=True, filter=Q(at__gt=open_since)),
            open_unconverted=Count("customer_id", distinct=True, filter=Q(at__gt=open_since, is_won=False)),
            claims=Count("pk", filter=Q(kind=PoolEventKind.CLAIM)),
            takes=Count("pk"),
        )
        .order_by("bucket")
    )
    return [
        CohortFigures(
            start=buckets[row["bucket"]].start,
            leads=row["leads"],
            converted=row["converted"],
            recycled=row["recycled"],
            still_open=row["still_open"],
            open_unconverted=row["open_unconverted"],
            claims=row["claims"],
            takes=row["takes"],
        )
        for row in rows
    ]


def _evaluated(takes: QuerySet[PoolEvent]) -> QuerySet[PoolEvent]:
    """``takes`` with each take's outcome: ``is_won`` (the taker won the lead within the window
    while still holding it) and ``is_recycled`` (the hold ended with a recycle from the taker
    within the window), as :func:`cohorts` defines them."""
    window = dt.timedelta(days=settings.METRICS_POOL_CONVERSION_DAYS)
    # The event that ended the taker's hold, found once per take by one probe of the
    # customer's log (``poolevent_customer_at``): its moment, kind and the owner it left.
    hold_end = PoolEvent.objects.filter(
        customer_id=OuterRef("customer_id"), kind__in=OWNERSHIP_ENDS, at__gt=OuterRef("at")
    ).order_by("at", "pk")
    won = Deal.objects.filter(
        customer_id=OuterRef("customer_id"),
        stage=DealStage.WON,
        closed_at__gte=OuterRef("at"),
        closed_at__lte=OuterRef("at") + window,
        # before the hold ended (no end yet: any time in the window)
        closed_at__lt=Coalesce(OuterRef("end_at"), OuterRef("at") + window + dt.timedelta(seconds=1)),
    )
    recycled = Q(end_kind=PoolEventKind.RECYCLE, end_from=F("to_owner_id"), end_at__lte=F("at") + window)
    return (
        takes.alias(
            end_at=Subquery(hold_end.values("at")[:1]),
            end_kind=Subquery(hold_end.values("kind")[:1]),
            end_from=Subquery(hold_end.values("from_owner_id")[:1]),
        )
        .alias(is_won=Exists(won))
        .alias(is_recycled=Case(When(recycled, then=Value(True)), default=Value(False)))
    )


# One take of the current period: (id, customer id, kind, moment, won, recycled), as of when read.
TakeRow = tuple[int, int, str, dt.datetime, bool, bool]


def _take_rows(takes: QuerySet[PoolEvent]) -> list[TakeRow]:
    return [
        (pk, customer, kind, at, bool(is_won), bool(is_recycled))
        for pk, customer, kind, at, is_won, is_recycled in _evaluated(takes)
        .annotate(won=F("is_won"), recycled=F("is_recycled"))
        .values_list("pk", "customer_id", "kind", "at", "won", "recycled")
    ]


def current_take_rows(*, period: Period, scope: Scope) -> list[TakeRow]:
    """The takes of a period that includes today with their outcome so far: the closed days'
    from the cache, re-read live only for the leads with a pool event or a won deal since
    today's first moment (``figures_cache.rows_with_changes``). A take's outcome can change
    only through such an event: its hold ends with a pool event, it converts with a won deal;
    a window that closes without either leaves it as it was."""
    zone = company_zone()

    def by_day(span: Period) -> dict[dt.date, tuple[TakeRow, ...]]:
        found: dict[dt.date, list[TakeRow]] = {}
        for row in _take_rows(takes(period=span, scope=scope)):
            found.setdefault(timezone.localtime(row[3], zone).date(), []).append(row)
        return {day: tuple(rows) for day, rows in found.items()}

    def changed(since: dt.datetime) -> list[TakeRow]:
        # one probe per take of the lead's log and won deals (``poolevent_customer_at``,
        # ``deal_customer_stage``), not a read of every lead that moved today
        moved = PoolEvent.objects.filter(customer_id=OuterRef("customer_id"), at__gte=since)
        won = Deal.objects.filter(
            customer_id=OuterRef("customer_id"), stage=DealStage.WON, closed_at__gte=since
        )
        return _take_rows(takes(period=period, scope=scope).filter(Exists(moved) | Exists(won)))

    return rollups.memoised(
        ("pool_takes", period, scope),
        lambda: figures_cache.rows_with_changes(
            name="pool_takes", period=period, scope=scope, fetch=by_day, changed=changed
        ),
    )


def _current_cohorts(*, period: Period, scope: Scope, buckets: list[Period]) -> list[CohortFigures]:
    """:func:`cohorts` of a period that includes today, from :func:`current_take_rows`: the same
    distinct counts per bucket, taken in Python over the rows."""
    open_since = timezone.now() - dt.timedelta(days=settings.METRICS_POOL_CONVERSION_DAYS)
    ends = [bucket.bounds()[1] for bucket in buckets]
    grouped: dict[int, list[TakeRow]] = {}
    for row in current_take_rows(period=period, scope=scope):
        grouped.setdefault(bisect.bisect_right(ends, row[3]), []).append(row)
    figures = []
    for index in sorted(grouped):
        rows = grouped[index]

        def leads(*, where: Callable[[TakeRow], bool], of: list[TakeRow] = rows) -> int:
            return len({row[1] for row in of if where(row)})

        figures.append(
            CohortFigures(
                start=buckets[index].start,
                leads=leads(where=lambda row: True),
                converted=leads(where=lambda row: row[4]),
                recycled=leads(where=lambda row: row[5]),
                still_open=leads(where=lambda row: row[3] > open_since),
                open_unconverted=leads(where=lambda row: row[3] > open_since and not row[4]),
                claims=sum(1 for row in rows if row[2] == PoolEventKind.CLAIM),
                takes=len(rows),
            )
        )
    return figures


def _cohort(*, period: Period, scope: Scope) -> CohortFigures | None:
    found = cohorts(period=period, scope=scope)
    return found[0] if found else None


@kpi(
    code="pool_conversion",
    label=_("Pool conversion rate"),
    unit=Unit.PERCENT,
    scopes=_TAKERS,
    description=_(
        "Of the leads taken from a pool in the period, the share that the rep who took them won "
        "within N days, while still owning them."
    ),
)
def pool_conversion(*, period: Period, scope: Scope) -> KpiValue:
    """Of the distinct leads taken from a pool in the period (the cohort), the share the taker
    won within ``METRICS_POOL_CONVERSION_DAYS`` (see :func:`cohorts`). ``detail["open"]``:
    leads whose window has not closed yet — a recent cohort's rate can still rise."""
    cohort = _cohort(period=period, scope=scope)
    return cohort.conversion() if cohort else NO_DATA


# --- Time to claim ----------------------------------------------------------------------------


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
    (``poolevent_customer_at``) per take; interpolated (``metrics.kpis.stats``).
    """
    entered = (
        PoolEvent.objects.filter(customer_id=OuterRef("customer_id"), to_pool__isnull=False)
        .filter(Q(at__lt=OuterRef("at")) | Q(at=OuterRef("at"), pk__lt=OuterRef("pk")))
        .order_by("-at", "-pk")
        .values("at")[:1]
    )
    waits = takes(period=period, scope=scope).annotate(entered_at=Subquery(entered))
    if connection.vendor == "postgresql":
        hours = (
            Extract(ExpressionWrapper(F("at") - F("entered_at"), output_field=DurationField()), "epoch")
            / 3600.0
        )
        if period.contains_today():
            # Closed days' waits from the cache, today's live (``figures_cache.inputs_by_day``).
            def waits_by_day(span: Period) -> dict[dt.date, tuple[float | None, ...]]:
                rows = (
                    takes(period=span, scope=scope)
                    .annotate(
                        entered_at=Subquery(entered), v=hours, day=TruncDate("at", tzinfo=company_zone())
                    )
                    .values_list("day", "v")
                )
                found: dict[dt.date, list[float | None]] = {}
                for day, value in rows:
                    found.setdefault(day, []).append(value)
                return {day: tuple(values) for day, values in found.items()}

            days = figures_cache.inputs_by_day(
                name="time_to_claim", period=period, scope=scope, fetch=waits_by_day
            )
            summary = stats.summarise_values([v for day in days for v in day])
        else:
            sql, params = waits.annotate(v=hours).values("v").query.sql_with_params()
            summary = stats.summarise(sql, params)
    else:
        # SQLite (the embedded demo) cannot take an epoch from an interval: the few waits of a
        # demo are summarised by the same interpolation in Python.
        data = sorted(
            (claimed - entered).total_seconds() / 3600
            for claimed, entered in waits.values_list("at", "entered_at")
            if entered is not None
        )
        summary = stats.Summary(
            len(data), len(data), tuple(_hours(stats.interpolate(data, f)) for f in stats.FRACTIONS)
        )
    median, p90, count = summary.median, summary.p90, summary.count
    if not count:
        return NO_DATA
    return KpiValue(median, detail={"p90": p90, "claims": count})


# --- Claim rate -------------------------------------------------------------------------------


@kpi(
    code="claim_rate",
    label=_("Pool claim rate"),
    unit=Unit.PERCENT,
    scopes=_STOCK,
    not_applicable=_NOT_STOCK,
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
    not_applicable=_NOT_STOCK,
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
    description=_(
        "Of the leads taken from a pool in the period, the share that the recycle job took back "
        "from the rep who took them within N days."
    ),
)
def recycle_rate(*, period: Period, scope: Scope) -> KpiValue:
    """Of the distinct leads taken from a pool in the period, the share recycled from the rep
    who took them within N days (see :func:`cohorts`); 0–100 %."""
    cohort = _cohort(period=period, scope=scope)
    return cohort.recycling() if cohort else NO_DATA
