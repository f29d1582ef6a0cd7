"""Sales KPIs of KPI.md: conversion, sales, growth, retention, churn, new customers,
acquisition rate, CAC, CLV, repurchase, win rate, sales cycle, first response, follow-ups.

Each function takes ``(period, scope)`` and returns a ``KpiValue`` (``value=None`` — "no data"
— where the denominator is zero; the numerator and denominator are still given). Percentages
and averages are rounded to two decimals.

Additive parts (sums and counts) come from ``metrics.selectors.rollups.totals`` (roll-up rows for closed
days, live rows for today). Non-additive parts are computed from raw rows with indexed queries,
and each docstring says which. How a scope cuts raw rows (decisions):

- event figures follow the roll-up's attribution (``metrics.selectors.rollups``): a follow-up belongs to
  who logged it, a deal to its owner, a claim to the rep who took the lead; the team is that
  person's team; the pool is the customer's pool (else its home pool); the channel is the
  customer's ``source``;
- customer-state figures (retention, churn, repurchase) belong to the customer's current owner
  and team (``Customer.owner``/``team``), pool (else home pool) and source.
"""

# ruff: noqa: S608, RUF001, RUF002
# S608: the SQL is built from model table names and fixed fragments; every value is a parameter.
# RUF001, RUF002: the formulas of KPI.md are written with their own signs (times, divided by, minus).

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Collection
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.db_routers import read_connection
from customers.models import CampaignSpend, Customer, Deal, FollowUp, Role, User
from metrics import figures_cache
from metrics.kpis import KpiValue, Unit, kpi, stats
from metrics.periods import Grain, Period, Scope, ScopeKind, company_zone, local_today, start_of_day
from metrics.selectors import rollups
from public_pool.models import PoolEvent

HUNDRED = Decimal(100)
CENT = Decimal("0.01")
FOLLOWUP_MEASURES = [f"followups_{kind}" for kind in ("call", "visit", "email", "meeting", "message")]


def _t(model: type[models.Model]) -> str:
    return model._meta.db_table


def rounded(value: Decimal | float | int) -> Decimal:
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(numerator: Decimal | int, denominator: Decimal | int, *, scale: Decimal = HUNDRED) -> KpiValue:
    """``numerator ÷ denominator × scale``, or "no data" (with both parts) when the denominator is 0."""
    if not denominator:
        return KpiValue(None, numerator=numerator, denominator=denominator)
    return KpiValue(
        rounded(Decimal(numerator) * scale / Decimal(denominator)),
        numerator=numerator,
        denominator=denominator,
    )


def _bound(moment: dt.datetime) -> object:
    return connection.ops.adapt_datetimefield_value(moment)


def _seconds_between(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def actor_condition(scope: Scope, params: dict[str, Any], *, rep: str, team: str, customer: str = "c") -> str:
    """SQL condition for event rows: ``rep``/``team`` are the attributed person's columns."""
    return _condition(scope, params, rep=rep, team=team, customer=customer)


def event_joins(scope: Scope, *, customer: str, person: str, needs_customer: bool = False) -> str:
    """The joins an event query needs for its scope: the customer (``c``) for a pool or a
    channel, the person (``u``) for a team; none for the company or a rep, so that those read
    only the event rows (index ``..._by_at``/``..._stage_closed``) without a probe per row."""
    joins = []
    if needs_customer or scope.kind in (ScopeKind.POOL, ScopeKind.CHANNEL):
        joins.append(f"JOIN {_t(Customer)} c ON c.id = {customer}")
    if scope.kind is ScopeKind.TEAM:
        joins.append(f"JOIN {_t(User)} u ON u.id = {person}")
    return " ".join(joins)


def customer_condition(scope: Scope, params: dict[str, Any], *, customer: str = "c") -> str:
    """SQL condition for customer-state rows: the customer's current owner and team."""
    return _condition(
        scope, params, rep=f"{customer}.owner_id", team=f"{customer}.team_id", customer=customer
    )


def _condition(scope: Scope, params: dict[str, Any], *, rep: str, team: str, customer: str) -> str:
    if scope.kind is ScopeKind.COMPANY:
        return "1 = 1"
    column = {
        ScopeKind.REP: rep,
        ScopeKind.TEAM: team,
        ScopeKind.POOL: f"COALESCE({customer}.pool_id, {customer}.home_pool_id)",
        ScopeKind.CHANNEL: f"{customer}.source",
    }[scope.kind]
    params["scope_key"] = scope.key
    return f"{column} = %(scope_key)s"


def fetch_one(sql: str, params: dict[str, Any]) -> tuple:
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def bucket_case(column: str, buckets: list[Period], params: dict[str, Any]) -> str:
    """SQL for the index of the bucket (of consecutive ``buckets``) that ``column`` falls in;
    portable (a ``CASE`` over the buckets' end moments), so trend tables group in the database
    with the very SQL of the KPI."""
    parts = []
    for index, bucket in enumerate(buckets):
        params[f"bucket_end{index}"] = _bound(bucket.bounds()[1])
        parts.append(f"WHEN {column} < %(bucket_end{index})s THEN {index}")
    return "CASE " + " ".join(parts) + " END"


# --- conversion and sales ------------------------------------------------------------------------


def _worked_from(*, period: Period, scope: Scope, params: dict[str, Any]) -> str:
    """Follow-ups in the period by the scope's people (``FROM`` and ``WHERE``)."""
    lo, hi = period.bounds()
    params.update(lo=_bound(lo), hi=_bound(hi))
    where = actor_condition(scope, params, rep="f.by_id", team="u.team_id")
    return f"""FROM {_t(FollowUp)} f {event_joins(scope, customer="f.customer_id", person="f.by_id")}
            WHERE f.at >= %(lo)s AND f.at < %(hi)s AND {where}"""


def _worked_sql(*, period: Period, scope: Scope, params: dict[str, Any], key: str) -> str:
    """Distinct customers followed up in the period by the scope's people, per ``key``."""
    return f"""SELECT {key} AS k, COUNT(DISTINCT f.customer_id)
            {_worked_from(period=period, scope=scope, params=params)} GROUP BY 1"""


def _worked_ids_by_day(*, period: Period, scope: Scope) -> dict[dt.date, tuple[int, ...]]:
    """The customers worked on each day of the period (one grouped query): the current
    period's per-day inputs of :func:`worked_customers`. Today's come from today's (person,
    customer) pairs, read once per page (:func:`_worked_pairs_by_day`)."""
    if period.start >= local_today():
        return {
            day: tuple(sorted({customer for _rep, customer in pairs}))
            for day, pairs in _worked_pairs_by_day(period=period, scope=scope).items()
        }
    params: dict[str, Any] = {}
    day = rollups.local_day_sql("f.at", params, period.start)
    found: dict[dt.date, list[int]] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {day}, f.customer_id {_worked_from(period=period, scope=scope, params=params)}",
            params,
        )
        for value, customer in cursor.fetchall():
            found.setdefault(rollups.as_day(value), []).append(int(customer))
    return {key: tuple(ids) for key, ids in found.items()}


def worked_customers(*, period: Period, scope: Scope) -> int:
    """Distinct customers with at least one follow-up in the period by the scope's people
    (raw rows: ``followup_at`` / ``followup_by_at`` index range) — the conversion denominator.
    For a period that includes today: the union of each day's customers, the closed days' from
    the cache (``figures_cache.inputs_by_day``), today's live."""
    if period.contains_today():
        return len(set().union(*_worked_days(period=period, scope=scope)))
    params: dict[str, Any] = {}
    row = fetch_one(_worked_sql(period=period, scope=scope, params=params, key="0"), params)
    return int(row[1]) if row else 0


def worked_customers_per_rep(*, period: Period, scope: Scope) -> dict[int, int]:
    """:func:`worked_customers` for each person of the scope who followed someone up (the
    leaderboard's conversion denominator); one grouped query. For a period that includes today,
    from each day's (person, customer) pairs: the closed days' from the cache, today's live."""
    if period.contains_today():
        days = figures_cache.inputs_by_day(
            name="worked_customers_per_rep",
            period=period,
            scope=scope,
            fetch=lambda span: _worked_pairs_by_day(period=span, scope=scope),
        )
        # the distinct (person, customer) pairs of the days, counted per person (in C: a set
        # union and a Counter over the pairs' first items, not a set per person built in Python)
        return dict(Counter(map(itemgetter(0), set().union(*days))))
    params: dict[str, Any] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(_worked_sql(period=period, scope=scope, params=params, key="f.by_id"), params)
        return {int(rep): int(count) for rep, count in cursor.fetchall()}


def _worked_pairs_by_day(*, period: Period, scope: Scope) -> dict[dt.date, tuple[tuple[int, int], ...]]:
    """The (person, customer) pairs of the follow-ups on each day of the period (one grouped
    query); today's are read once per page (``rollups.memoised``) for the leaderboard's and the
    KPI's customers worked alike."""

    def read() -> dict[dt.date, tuple[tuple[int, int], ...]]:
        params: dict[str, Any] = {}
        day = rollups.local_day_sql("f.at", params, period.start)
        found: dict[dt.date, list[tuple[int, int]]] = {}
        with read_connection().cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT {day}, f.by_id, f.customer_id {_worked_from(period=period, scope=scope, params=params)}",
                params,
            )
            for value, rep, customer in cursor.fetchall():
                found.setdefault(rollups.as_day(value), []).append((int(rep), int(customer)))
        return {key: tuple(pairs) for key, pairs in found.items()}

    if period.start >= local_today():
        return rollups.memoised(("worked_pairs", period, scope), read)
    return read()


def _worked_days(*, period: Period, scope: Scope) -> list[tuple[int, ...]]:
    """The customers worked on each day of a period that includes today, from its first day
    through today: the closed days' from the cache, today's live."""
    return figures_cache.inputs_by_day(
        name="worked_customers",
        period=period,
        scope=scope,
        fetch=lambda span: _worked_ids_by_day(period=span, scope=scope),
    )


def worked_customers_by_bucket(*, period: Period, scope: Scope, buckets: list[Period]) -> dict[dt.date, int]:
    """:func:`worked_customers` per bucket (consecutive periods covering ``period``), keyed by
    each bucket's first day; one grouped query (the conversion trend's denominators). For a
    period that includes today, the union of each bucket's days from :func:`_worked_days` (the
    same cached days as the KPI)."""
    if period.contains_today():
        starts = [bucket.start for bucket in buckets]
        worked: dict[dt.date, set[int]] = {}
        for offset, ids in enumerate(_worked_days(period=period, scope=scope)):
            day = period.start + dt.timedelta(days=offset)
            bucket = buckets[bisect.bisect_right(starts, day) - 1].start
            worked.setdefault(bucket, set()).update(ids)
        return {start: len(ids) for start, ids in worked.items() if ids}
    params: dict[str, Any] = {}
    key = bucket_case("f.at", buckets, params)
    with read_connection().cursor() as cursor:
        cursor.execute(_worked_sql(period=period, scope=scope, params=params, key=key), params)
        return {buckets[int(index)].start: int(count) for index, count in cursor.fetchall()}


def values_by_day(sql: str, params: Any) -> dict[dt.date, tuple[float | None, ...]]:
    """Column ``v`` of ``sql`` grouped by its column ``day`` (a day per :func:`rollups.local_day_sql`)."""
    found: dict[dt.date, list[float | None]] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT t.day, t.v FROM ({sql}) t", params)
        for day, value in cursor.fetchall():
            found.setdefault(rollups.as_day(day), []).append(None if value is None else float(value))
    return {day: tuple(values) for day, values in found.items()}


def conversion(new: int, worked: int) -> KpiValue:
    """Customer conversion: new customers ÷ customers worked × 100 % (KPI, trend, leaderboard)."""
    return ratio(new, worked)


@kpi(
    code="customer_conversion",
    label=_("Customer conversion rate"),
    unit=Unit.PERCENT,
    description=_(
        "Customers whose first won deal falls in the period ÷ customers worked in the period (owned, with at least one follow-up)."
    ),
)
def customer_conversion(*, period: Period, scope: Scope) -> KpiValue:
    """Customers whose first won deal falls in the period ÷ customers worked (owned, with at
    least one follow-up) in the period × 100 %.

    Numerator: ``new_customers`` from the roll-ups (attributed to the owner of the first won
    deal). Denominator (distinct, so not additive): raw follow-ups of the period.
    """
    new = rollups.totals(period=period, scope=scope, measures=["new_customers"])["new_customers"]
    return conversion(int(new), worked_customers(period=period, scope=scope))


@kpi(
    code="sales",
    label=_("Sales"),
    unit=Unit.MONEY,
    description=_("The sum of won deal amounts, by the day the deal was won."),
)
def sales(*, period: Period, scope: Scope) -> KpiValue:
    """Sum of won deal amounts, by the day the deal was won (roll-ups: ``won_amount``)."""
    figures = rollups.totals(period=period, scope=scope, measures=["won_amount", "deals_won"])
    return KpiValue(figures["won_amount"], detail={"deals_won": figures["deals_won"]})


@kpi(
    code="sales_growth",
    label=_("Sales growth"),
    unit=Unit.PERCENT,
    description=_("(Sales this period − sales last period) ÷ sales last period."),
)
def sales_growth(*, period: Period, scope: Scope) -> KpiValue:
    """(sales this period − sales last period) ÷ sales last period × 100 %; "no data" when last
    period sold nothing. Last period is ``period.previous()``. Roll-ups only."""
    current = rollups.totals(period=period, scope=scope, measures=["won_amount"])["won_amount"]
    previous = closed_totals(period=period.previous(), scope=scope, measures=["won_amount"])["won_amount"]
    result = ratio(current - previous, previous)
    return KpiValue(
        result.value,
        numerator=result.numerator,
        denominator=result.denominator,
        detail={"current": current, "previous": previous},
    )


# The sums of a closed period (the previous period beside a current one), from the figures cache.
closed_totals = figures_cache.cached_for_closed_period(rollups.totals)


# --- the customer base ---------------------------------------------------------------------------


def _retention_counts(*, period: Period, scope: Scope) -> tuple[int, int]:
    """(paying at period start, of those: a won deal within the activity window before the
    period end). Raw rows: customers by ``cust_first_won``, deals by ``deal_customer_stage``.
    Read once for retention and churn within ``rollups.shared_reads``. For a period that
    includes today, counted from :func:`current_stock`."""
    if period.contains_today():
        return rollups.memoised(
            ("retention_counts", period, scope), lambda: _current_retention_counts(period=period, scope=scope)
        )
    return rollups.memoised(
        ("retention_counts", period, scope), lambda: _read_retention_counts(period=period, scope=scope)
    )


def _current_retention_counts(*, period: Period, scope: Scope) -> tuple[int, int]:
    start, end = (_micros(moment) for moment in period.bounds())
    window_start = end - _micros_of(dt.timedelta(days=settings.METRICS_RETENTION_WINDOW_DAYS))
    paying = active = 0
    for first_won, _won, last_won in current_stock(period=period, scope=scope).values():
        if first_won is not None and first_won < start:
            paying += 1
            active += last_won is not None and last_won >= window_start
    return paying, active


# --- the customer stock of a current period ------------------------------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# One customer of the stock: (first won deal, won deals before the period end, the last of them),
# moments in microseconds since the epoch (small in the cache); a customer with no won deal and
# no first win is not in the stock.
StockRow = tuple[int | None, int, int | None]


def _micros_of(span: dt.timedelta) -> int:
    return span // dt.timedelta(microseconds=1)


def _micros(moment: dt.datetime | str) -> int:
    return _micros_of(_moment(moment) - _EPOCH)


def _stock_row(first_won: dt.datetime | str | None, won: int, last_won: dt.datetime | str | None) -> StockRow:
    return (
        None if first_won is None else _micros(first_won),
        int(won),
        None if last_won is None else _micros(last_won),
    )


def current_stock(*, period: Period, scope: Scope) -> dict[int, StockRow]:
    """The scope's paying customers as at the end of a period that includes today (the
    stock behind repurchase, retention and churn, and the acquisition rate): each customer of
    the scope (current owner, team, pool or channel, as ``customer_condition``) with a first
    win or a won deal before the period end, as ``{id: StockRow}``.

    Read once a day per scope and period end and kept in the cache
    (``figures_cache.stock_with_changes``); each request reads live only the customers whose
    row can have changed since 00:00 — a deal of theirs changed today (``deal_updated``: a win,
    a reopened or edited deal; winning also sets the first win), or, for a team, a rep or a
    pool, a pool event today that moved them into or out of the scope (``poolevent_*_at``).
    For a channel, or a pool (whose home pool can be re-matched), every customer updated
    today. Once per request within ``rollups.shared_reads``."""
    _start, end = period.bounds()

    def fetch() -> dict[int, StockRow]:
        params: dict[str, Any] = {"end": _bound(end)}
        where = customer_condition(scope, params)
        with read_connection().cursor() as cursor:
            cursor.execute(
                f"""SELECT c.id, c.first_won_at, COUNT(d.id), MAX(d.closed_at)
                    FROM {_t(Customer)} c LEFT JOIN {_t(Deal)} d ON d.customer_id = c.id
                         AND d.stage = 'won' AND d.closed_at < %(end)s
                    WHERE {where} AND (c.first_won_at IS NOT NULL OR d.id IS NOT NULL)
                    GROUP BY c.id, c.first_won_at""",
                params,
            )
            return {int(pk): _stock_row(first, won, last) for pk, first, won, last in cursor.fetchall()}

    def changed(since: dt.datetime, _kept: Collection[int]) -> list[tuple[int, StockRow | None]]:
        params: dict[str, Any] = {"end": _bound(end), "since": _bound(since)}
        inside = customer_condition(scope, params)
        deals = f"SELECT d.customer_id FROM {_t(Deal)} d WHERE d.updated_at >= %(since)s"
        if scope.kind in (ScopeKind.TEAM, ScopeKind.REP):
            # only the scope's customers: one that left the scope today is in a pool event below
            deals += f""" AND d.customer_id IN (SELECT c2.id FROM {_t(Customer)} c2
                          WHERE {customer_condition(scope, params, customer="c2")})"""
        touched = [deals]
        events = f"SELECT e.customer_id FROM {_t(PoolEvent)} e"
        if scope.kind is ScopeKind.TEAM:
            touched.append(
                f"""{events} JOIN {_t(User)} u ON u.id IN (e.from_owner_id, e.to_owner_id)
                    WHERE e.at >= %(since)s AND u.team_id = %(scope_key)s"""
            )
        elif scope.kind is ScopeKind.REP:
            touched.append(
                f"""{events} WHERE e.at >= %(since)s
                    AND (e.from_owner_id = %(scope_key)s OR e.to_owner_id = %(scope_key)s)"""
            )
        elif scope.kind is ScopeKind.POOL:
            touched.append(
                f"""{events} WHERE e.at >= %(since)s
                    AND (e.from_pool_id = %(scope_key)s OR e.to_pool_id = %(scope_key)s)"""
            )
        if scope.kind in (ScopeKind.POOL, ScopeKind.CHANNEL):
            touched.append(f"SELECT c3.id FROM {_t(Customer)} c3 WHERE c3.updated_at >= %(since)s")
        with read_connection().cursor() as cursor:
            cursor.execute(
                f"""SELECT c.id, CASE WHEN {inside} THEN 1 ELSE 0 END, c.first_won_at, COUNT(d.id),
                           MAX(d.closed_at)
                    FROM {_t(Customer)} c LEFT JOIN {_t(Deal)} d ON d.customer_id = c.id
                         AND d.stage = 'won' AND d.closed_at < %(end)s
                    WHERE c.id IN ({" UNION ".join(touched)})
                    GROUP BY c.id""",
                params,
            )
            return [
                (
                    int(pk),
                    _stock_row(first, won, last) if inside and (first is not None or won) else None,
                )
                for pk, inside, first, won, last in cursor.fetchall()
            ]

    return rollups.memoised(
        ("current_stock", end, scope),
        lambda: figures_cache.stock_with_changes(
            name="customer_stock", key=end, scope=scope, fetch=fetch, changed=changed
        ),
    )


def _read_retention_counts(*, period: Period, scope: Scope) -> tuple[int, int]:
    start, end = period.bounds()
    window = dt.timedelta(days=settings.METRICS_RETENTION_WINDOW_DAYS)
    params: dict[str, Any] = {
        "start": _bound(start),
        "end": _bound(end),
        "window_start": _bound(end - window),
    }
    where = customer_condition(scope, params)
    paying, active = fetch_one(
        f"""SELECT COUNT(*),
                   COUNT(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM {_t(Deal)} d WHERE d.customer_id = c.id AND d.stage = 'won'
                       AND d.closed_at >= %(window_start)s AND d.closed_at < %(end)s))
            FROM {_t(Customer)} c WHERE c.first_won_at < %(start)s AND {where}""",
        params,
    )
    return int(paying or 0), int(active or 0)


@kpi(
    code="retention",
    label=_("Retention rate"),
    unit=Unit.PERCENT,
    description=_(
        "Paying customers at the period start who won a deal within the activity window (365 days) before the period end ÷ paying customers at the period start."
    ),
)
def retention(*, period: Period, scope: Scope) -> KpiValue:
    """Paying customers active at period end ÷ paying customers at period start × 100 %.

    Paying at start: first won deal before the period starts. Active: among those, a won deal
    within ``METRICS_RETENTION_WINDOW_DAYS`` (365) before the period end. Non-additive: raw
    customer and deal rows, scoped by the customer's current owner.
    """
    paying, active = _retention_counts(period=period, scope=scope)
    return ratio(active, paying)


@kpi(
    code="churn",
    label=_("Churn rate"),
    unit=Unit.PERCENT,
    higher_is_better=False,
    description=_("100 % − retention rate."),
)
def churn(*, period: Period, scope: Scope) -> KpiValue:
    """100 % − retention rate: paying customers at period start with no won deal within the
    activity window before the period end ÷ paying customers at period start (as retention)."""
    paying, active = _retention_counts(period=period, scope=scope)
    return ratio(paying - active, paying)


@kpi(
    code="new_customers",
    label=_("New customers"),
    unit=Unit.COUNT,
    description=_("Customers whose first won deal falls in the period, by acquisition channel."),
)
def new_customers(*, period: Period, scope: Scope) -> KpiValue:
    """Customers whose first won deal falls in the period; ``detail["by_channel"]`` splits them
    by acquisition channel. Roll-ups only."""
    by_channel = rollups.grouped(period=period, scope=scope, dimension="channel", measures=["new_customers"])
    counts = {str(channel): values["new_customers"] for channel, values in by_channel.items()}
    return KpiValue(sum(counts.values()), detail={"by_channel": {k: v for k, v in counts.items() if v}})


@kpi(
    code="acquisition_rate",
    label=_("Acquisition rate"),
    unit=Unit.PERCENT,
    description=_("New customers in the period ÷ paying customers at the period end."),
)
def acquisition_rate(*, period: Period, scope: Scope) -> KpiValue:
    """New customers in the period ÷ customers at period end × 100 %.

    "Customers" are paying customers, as "new customers" are (first won deal before the period
    end), so the rate is the share of the paying base at the period end won in this period.
    Both counts in one indexed query over ``cust_first_won`` (the base since the beginning is
    not a sum worth reading from a year of roll-up rows); a customer-state figure, so scoped
    by the customer's current owner (the ``new_customers`` KPI follows the first won deal's
    owner: the two differ only for customers that changed hands since).
    """
    start, end = period.bounds()
    if period.contains_today():  # from the stock kept this morning and today's changes
        lo, hi = _micros(start), _micros(end)
        firsts = [first for first, _won, _last in current_stock(period=period, scope=scope).values()]
        in_base = [first for first in firsts if first is not None and first < hi]
        return ratio(sum(1 for first in in_base if first >= lo), len(in_base))
    params: dict[str, Any] = {"start": _bound(start), "end": _bound(end)}
    where = customer_condition(scope, params)
    new, base = fetch_one(
        f"""SELECT COUNT(*) FILTER (WHERE c.first_won_at >= %(start)s), COUNT(*)
            FROM {_t(Customer)} c WHERE c.first_won_at < %(end)s AND {where}""",
        params,
    )
    return ratio(int(new or 0), int(base or 0))


def overlap_days(period: Period, start: dt.date, end: dt.date) -> int:
    """Days of ``[start, end)`` inside ``period``."""
    return max(0, (min(period.end, end) - max(period.start, start)).days)


def prorated(
    monthly: Decimal, *, month: dt.date, period: Period, active_from: dt.date | None = None
) -> Decimal:
    """The part of a month's amount that falls in ``period``: ``monthly`` × the days of the
    month inside the period (and on or after ``active_from``) ÷ the days of the month. The one
    proration of costs: campaign spend, labour and other cost, in the CAC KPI and every table."""
    following = Period.preset(Grain.MONTH, containing=month)
    days = overlap_days(period, max(following.start, active_from or following.start), following.end)
    return monthly * days / following.days if days else Decimal(0)


def _months_of(period: Period) -> list[dt.date]:
    return [bucket.start.replace(day=1) for bucket in period.split(Grain.MONTH)]


def marketing_spend(
    *, period: Period, by: str | None = None, channel: str | None = None
) -> dict[object, Decimal]:
    """Campaign spend in the period (``CampaignSpend`` rows, one per campaign and month,
    :func:`prorated`), in total (key None), per campaign id (``by="campaign"``) or per channel
    (``by="channel"``); ``channel`` narrows to one channel's campaigns. One query over the few
    rows of the months that overlap the period."""
    rows: list[tuple[int, str, dt.date, Decimal]] = rollups.memoised(
        ("campaign_spend", period),  # one read per page for the CAC KPI and each channel's
        lambda: list(
            CampaignSpend.objects.filter(month__gte=period.start.replace(day=1), month__lt=period.end)
            .order_by("month", "pk")
            .values_list("campaign_id", "campaign__channel", "month", "amount")
        ),
    )
    totals: dict[object, Decimal] = {}
    for campaign_id, campaign_channel, month, amount in rows:
        if channel is not None and campaign_channel != channel:
            continue
        key = {"campaign": campaign_id, "channel": campaign_channel}.get(by or "")
        totals[key] = totals.get(key, Decimal(0)) + prorated(amount, month=month, period=period)
    return totals


def labour_cost(*, period: Period) -> Decimal:
    """``METRICS_CAC_LABOUR_COST_PER_REP_MONTH`` for each sales rep, :func:`prorated` month by
    month over the days of the period the rep was active: from the day they joined
    (``date_joined``, company time zone). Deactivated reps are left out (no leaving date is
    stored)."""
    monthly = Decimal(str(settings.METRICS_CAC_LABOUR_COST_PER_REP_MONTH))
    if not monthly:
        return Decimal(0)
    _start, end = period.bounds()
    joined = User.objects.filter(role=Role.REP, is_active=True, date_joined__lt=end).values_list(
        "date_joined", flat=True
    )
    total = Decimal(0)
    for moment in joined:
        first_day = timezone.localtime(moment, company_zone()).date()
        for month in _months_of(period):
            total += prorated(monthly, month=month, period=period, active_from=first_day)
    return total


def other_cost(*, period: Period) -> Decimal:
    """``METRICS_CAC_OTHER_COST_PER_MONTH``, :func:`prorated` month by month over the period."""
    monthly = Decimal(str(settings.METRICS_CAC_OTHER_COST_PER_MONTH))
    return sum((prorated(monthly, month=m, period=period) for m in _months_of(period)), Decimal(0))


def _new_customers_of(*, period: Period, scope: Scope) -> int:
    """CAC's denominator for the company or one channel, from one read of the company's new
    customers per channel (``rollups.grouped``, only the new-customer rows), kept within
    ``shared_reads`` — so the CAC-by-channel table reads it once for all its channels, and a
    channel's live part never scans today's follow-ups or pool events for the channel's
    customers."""
    per_channel: dict[object, int] = rollups.memoised(
        ("new_customers_by_channel", period), lambda: _new_customers_by_channel(period)
    )
    if scope.kind is ScopeKind.CHANNEL:
        return per_channel.get(scope.key, 0)
    return sum(per_channel.values())


def _new_customers_by_channel(period: Period) -> dict[object, int]:
    """The company's new customers per acquisition channel: the roll-ups' ``new_customers`` by
    ``channel``. For a period that includes today, the closed days from the roll-ups and today
    counted straight from ``first_won_at`` by ``source`` (index ``cust_first_won``) — the same
    rows the roll-up counts, without its per-customer look-up of the first deal's owner, which
    a count per channel does not need."""
    today = local_today()
    counts: dict[object, int] = {}
    closed = Period(period.start, today) if period.contains_today() and period.start < today else None
    if closed is not None or not period.contains_today():
        grouped = _closed_grouped(
            period=closed or period, scope=Scope.company(), dimension="channel", measures=["new_customers"]
        )
        counts = {channel: int(values["new_customers"]) for channel, values in grouped.items()}
    if period.contains_today():
        lo, hi = start_of_day(today), period.bounds()[1]
        for channel, count in (
            Customer.objects.filter(first_won_at__gte=lo, first_won_at__lt=hi)
            .order_by()
            .values_list("source")
            .annotate(n=models.Count("*"))  # COUNT(*): read from the index alone (cust_first_won)
        ):
            counts[channel] = counts.get(channel, 0) + count
    return counts


@kpi(
    code="cac",
    description=_(
        "(Marketing spend + labour cost + other cost) in the period ÷ new customers in the period; each month's cost counts by the share of its days inside the period."
    ),
    label=_("Customer acquisition cost"),
    unit=Unit.MONEY,
    higher_is_better=False,
    scopes=frozenset({ScopeKind.COMPANY, ScopeKind.CHANNEL}),
    not_applicable=_("Costs are entered for the company and per channel, not per team, rep or pool."),
)
def cac(*, period: Period, scope: Scope) -> KpiValue:
    """(marketing spend + labour cost + other cost) in the period ÷ new customers in the period.

    Every cost is prorated by days the same way (:func:`prorated`): a month's amount × the days
    of that month inside the period ÷ the days of the month. Marketing spend: campaign spend
    (:func:`marketing_spend`), for a channel only that channel's campaigns. Labour
    (:func:`labour_cost`, each rep only from the day they joined) and other cost
    (:func:`other_cost`) belong to no channel: company scope only. The "CAC by channel" table
    is this KPI for each channel scope.
    """
    channel = str(scope.key) if scope.kind is ScopeKind.CHANNEL else None
    marketing = sum(marketing_spend(period=period, channel=channel).values(), Decimal(0))
    labour = other = Decimal(0)
    if scope.kind is ScopeKind.COMPANY:
        labour, other = labour_cost(period=period), other_cost(period=period)
    cost = rounded(marketing + labour + other)
    new = _new_customers_of(period=period, scope=scope)
    result = ratio(cost, new, scale=Decimal(1))
    return KpiValue(
        result.value,
        numerator=cost,
        denominator=new,
        detail={"marketing": rounded(marketing), "labour": rounded(labour), "other": rounded(other)},
    )


# A closed period's sums per dimension (the closed days of a current period), from the cache.
_closed_grouped = figures_cache.cached_for_closed_period(rollups.grouped)


def _won_sql(*, period: Period, scope: Scope, params: dict[str, Any], select: str) -> str:
    lo, hi = period.bounds()
    params.update(lo=_bound(lo), hi=_bound(hi))
    where = actor_condition(scope, params, rep="d.owner_id", team="u.team_id")
    return f"""SELECT {select} FROM {_t(Deal)} d
            {event_joins(scope, customer="d.customer_id", person="d.owner_id")}
            WHERE d.stage = 'won' AND d.closed_at >= %(lo)s AND d.closed_at < %(hi)s AND {where}"""


@figures_cache.cached_for_closed_period
def _won_by_buyer(*, period: Period, scope: Scope) -> tuple[frozenset[int], Decimal, int]:
    """(the buyers, won amount, deals won) of the deals won in the period: a closed span's are
    kept in the cache, like any closed period's figure."""
    params: dict[str, Any] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(
            _won_sql(
                period=period,
                scope=scope,
                params=params,
                select="d.customer_id, COALESCE(SUM(d.amount), 0), COUNT(*)",
            )
            + " GROUP BY d.customer_id",
            params,
        )
        rows = cursor.fetchall()
    amount = sum((Decimal(str(value)) for _pk, value, _n in rows), Decimal(0))
    return frozenset(int(pk) for pk, _value, _n in rows), amount, sum(int(n) for _pk, _v, n in rows)


def _won_in(*, period: Period, scope: Scope) -> tuple[int, Decimal, int]:
    """(distinct buyers, won amount, deals won) of the deals won in the period, in one read of the
    raw rows (``deal_stage_closed``). For a period that includes today, the closed days' buyers
    and sums come from the cache (``_won_by_buyer``: once a day, as a closed period) and
    today's are read live; the buyers are the union of both."""
    today = local_today()
    if period.contains_today() and period.start < today:
        buyers, amount, deals = _won_by_buyer(period=Period(period.start, today), scope=scope)
        today_buyers, today_amount, today_deals = _won_by_buyer(period=Period(today, period.end), scope=scope)
        return len(buyers | today_buyers), amount + today_amount, deals + today_deals
    params: dict[str, Any] = {}
    buyers, amount, deals = fetch_one(
        _won_sql(
            period=period,
            scope=scope,
            params=params,
            select="COUNT(DISTINCT d.customer_id), COALESCE(SUM(d.amount), 0), COUNT(*)",
        ),
        params,
    )
    return int(buyers or 0), Decimal(str(amount or 0)), int(deals or 0)


@kpi(
    code="clv",
    label=_("Customer lifetime value"),
    unit=Unit.MONEY,
    description=_(
        "Average deal amount × purchases per year × expected lifespan in years × gross margin, over the year before the period end."
    ),
)
def clv(*, period: Period, scope: Scope) -> KpiValue:
    """Average deal amount × purchases per year × expected lifespan in years × gross margin,
    as at the end of the period, over the year that ends there.

    The year, not the period: annualising a week's or a month's sales would swing the figure
    by the luck of a single deal (one 12,000 deal in a month read as 146,000 a year), and a
    manager comparing this month with last month wants the same yardstick. So, over the 365
    days before the period end: average deal amount = won amount ÷ deals won; purchases per
    year = deals won ÷ buyers; CLV = won amount ÷ buyers × lifespan × margin
    (``METRICS_CLV_LIFESPAN_YEARS``, ``METRICS_CLV_GROSS_MARGIN``), all three from one read of
    the raw won deals (buyers are distinct, so not additive). Per channel: scope ``channel``. The per-customer
    figure behind value tiers is ``metrics.services.tiers``.
    """
    year = Period(period.end - dt.timedelta(days=365), period.end)
    buyers, amount, deals = _won_in(period=year, scope=scope)
    amount = amount.quantize(Decimal("0.01"))
    if not buyers:
        return KpiValue(None, numerator=amount, denominator=0)
    margin = Decimal(str(settings.METRICS_CLV_GROSS_MARGIN))
    factor = Decimal(str(settings.METRICS_CLV_LIFESPAN_YEARS)) * margin
    return KpiValue(
        rounded(amount / buyers * factor),
        numerator=amount,
        denominator=buyers,
        detail={
            "average_deal": rounded(amount / deals),
            "purchases_per_year": rounded(Decimal(deals) / buyers),
            "window_start": year.start,
        },
    )


@kpi(
    code="repurchase",
    label=_("Repurchase rate"),
    unit=Unit.PERCENT,
    description=_("Paying customers with two or more won deals ÷ paying customers."),
)
def repurchase(*, period: Period, scope: Scope) -> KpiValue:
    """Paying customers with two or more won deals ÷ paying customers × 100 %, as at the period
    end (deals won before it). Non-additive: raw won deals grouped per customer
    (``deal_stage_closed``), scoped by the customer's current owner. For a period that includes
    today, counted from :func:`current_stock`."""
    if period.contains_today():
        stock = current_stock(period=period, scope=scope).values()
        return ratio(
            sum(1 for _first, won, _last in stock if won >= 2), sum(1 for _f, won, _l in stock if won)
        )
    _start, end = period.bounds()
    params: dict[str, Any] = {"end": _bound(end)}
    where = customer_condition(scope, params)
    paying, repeat = fetch_one(
        f"""SELECT COUNT(*), COUNT(*) FILTER (WHERE n >= 2) FROM (
                SELECT d.customer_id, COUNT(*) AS n FROM {_t(Deal)} d
                JOIN {_t(Customer)} c ON c.id = d.customer_id
                WHERE d.stage = 'won' AND d.closed_at < %(end)s AND {where}
                GROUP BY d.customer_id) per_customer""",
        params,
    )
    return ratio(int(repeat or 0), int(paying or 0))


# --- the sales process ---------------------------------------------------------------------------


@kpi(
    code="win_rate",
    label=_("Win rate"),
    unit=Unit.PERCENT,
    description=_("Deals won ÷ (won + lost), of the deals closed in the period."),
)
def win_rate(*, period: Period, scope: Scope) -> KpiValue:
    """Deals won ÷ (won + lost), deals closed in the period × 100 %. Roll-ups only."""
    figures = rollups.totals(period=period, scope=scope, measures=["deals_won", "deals_lost"])
    return ratio(figures["deals_won"], figures["deals_won"] + figures["deals_lost"])


def _sales_cycle_sql(*, period: Period, scope: Scope, params: dict[str, Any], by_day: bool = False) -> str:
    lo, hi = period.bounds()
    params.update(lo=_bound(lo), hi=_bound(hi))
    where = actor_condition(scope, params, rep="d.owner_id", team="u.team_id")
    started = f"""COALESCE((SELECT MAX(e.at) FROM {_t(PoolEvent)} e WHERE e.customer_id = d.customer_id
                   AND e.kind IN ('claim', 'assign') AND e.at <= d.closed_at), c.created_at)"""
    day = f", {rollups.local_day_sql('d.closed_at', params, period.start)} AS day" if by_day else ""
    return f"""SELECT d.owner_id AS k, {_seconds_between("d.closed_at", started)} / 86400.0 AS v{day}
        FROM {_t(Deal)} d {event_joins(scope, customer="d.customer_id", person="d.owner_id", needs_customer=True)}
        WHERE d.stage = 'won' AND d.closed_at >= %(lo)s AND d.closed_at < %(hi)s AND {where}"""


def _cycles_per_rep_by_day(
    *, period: Period, scope: Scope
) -> dict[dt.date, tuple[tuple[int, float | None], ...]]:
    """The (owner, cycle) of each deal won on each day of the period (one query); today's are
    read once per page (``rollups.memoised``) for the KPI and the leaderboard alike."""

    def read() -> dict[dt.date, tuple[tuple[int, float | None], ...]]:
        params: dict[str, Any] = {}
        sql = _sales_cycle_sql(period=period, scope=scope, params=params, by_day=True)
        found: dict[dt.date, list[tuple[int, float | None]]] = {}
        with read_connection().cursor() as cursor:
            cursor.execute(f"SELECT t.day, t.k, t.v FROM ({sql}) t", params)
            for day, rep, value in cursor.fetchall():
                found.setdefault(rollups.as_day(day), []).append(
                    (int(rep), None if value is None else float(value))
                )
        return {key: tuple(pairs) for key, pairs in found.items()}

    if period.start >= local_today():
        return rollups.memoised(("sales_cycles", period, scope), read)
    return read()


def _sales_cycle_value(summary: stats.Summary) -> KpiValue:
    if not summary.count:
        return KpiValue(None, denominator=0, detail={"p90": None, "deals": 0})
    return KpiValue(
        summary.median, denominator=summary.count, detail={"p90": summary.p90, "deals": summary.count}
    )


@kpi(
    code="sales_cycle",
    label=_("Sales cycle"),
    unit=Unit.DAYS,
    higher_is_better=False,
    description=_(
        "Median days from the claim (or the customer's creation) to the won deal, for deals won in the period."
    ),
)
def sales_cycle(*, period: Period, scope: Scope) -> KpiValue:
    """Median days from claim (or creation) to won, over deals won in the period; p90 in
    ``detail`` (both interpolated, ``metrics.kpis.stats``). The start is the customer's latest
    claim or assignment at or before the win (the pool log), else the customer's creation.
    Non-additive: raw deals (``deal_stage_closed``) with an indexed look-up in the log
    (``poolevent_customer_at``). For a period that includes today, the closed days' cycles come
    from the cache (``figures_cache.inputs_by_day``) and today's are read live."""
    if period.contains_today():

        def cycles_by_day(span: Period) -> dict[dt.date, tuple[float | None, ...]]:
            if span.start >= local_today():  # today's: from the owners' cycles, read once per page
                return {
                    day: tuple(value for _rep, value in pairs)
                    for day, pairs in _cycles_per_rep_by_day(period=span, scope=scope).items()
                }
            params: dict[str, Any] = {}
            return values_by_day(
                _sales_cycle_sql(period=span, scope=scope, params=params, by_day=True), params
            )

        days = figures_cache.inputs_by_day(
            name="sales_cycle", period=period, scope=scope, fetch=cycles_by_day
        )
        return _sales_cycle_value(stats.summarise_values([v for day in days for v in day]))
    params: dict[str, Any] = {}
    return _sales_cycle_value(
        stats.summarise(_sales_cycle_sql(period=period, scope=scope, params=params), params)
    )


def sales_cycle_per_rep(*, period: Period, scope: Scope) -> dict[int, KpiValue]:
    """:func:`sales_cycle` for each deal owner of the scope (the leaderboard); one query. For a
    period that includes today, from each day's (owner, cycle) pairs, as :func:`sales_cycle`."""
    if period.contains_today():
        days = figures_cache.inputs_by_day(
            name="sales_cycle_per_rep",
            period=period,
            scope=scope,
            fetch=lambda span: _cycles_per_rep_by_day(period=span, scope=scope),
        )
        per_rep: dict[int, list[float | None]] = {}
        for pairs in days:
            for rep, value in pairs:
                per_rep.setdefault(rep, []).append(value)
        return {rep: _sales_cycle_value(stats.summarise_values(values)) for rep, values in per_rep.items()}
    params: dict[str, Any] = {}
    groups = stats.summarise_by(_sales_cycle_sql(period=period, scope=scope, params=params), params)
    return {int(rep): _sales_cycle_value(summary) for rep, summary in groups.items()}


def _first_response_sql(
    *,
    period: Period,
    scope: Scope,
    params: dict[str, Any],
    rows: bool = False,
    since: dt.datetime | None = None,
) -> str:
    """Column ``v``: hours from each take of the period to the taker's first follow-up (NULL
    without one), ``k`` the taker; with ``rows`` also the take's id and moment. ``since``: only
    the takes whose lead was followed up at or after that moment or that were made then (the
    rows the current period reads again live)."""
    lo, hi = period.bounds()
    params.update(lo=_bound(lo), hi=_bound(hi))
    where = actor_condition(scope, params, rep="e.to_owner_id", team="u.team_id")
    if scope.kind is ScopeKind.POOL:
        where = "e.from_pool_id = %(scope_key)s"
    if since is not None:
        params["since"] = _bound(since)
        # a probe of the lead's latest follow-up per take (``followup_customer_at``)
        where += f""" AND (e.at >= %(since)s OR EXISTS (
            SELECT 1 FROM {_t(FollowUp)} f WHERE f.customer_id = e.customer_id AND f.at >= %(since)s))"""
    first = f"""(SELECT MIN(f.at) FROM {_t(FollowUp)} f WHERE f.customer_id = e.customer_id
                 AND f.by_id = e.to_owner_id AND f.at >= e.at)"""
    extra = ", e.id AS id, e.at AS at" if rows else ""
    return f"""SELECT e.to_owner_id AS k, {_seconds_between(first, "e.at")} / 3600.0 AS v{extra}
        FROM {_t(PoolEvent)} e {event_joins(scope, customer="e.customer_id", person="e.to_owner_id")}
        WHERE e.kind IN ('claim', 'assign') AND e.at >= %(lo)s AND e.at < %(hi)s AND {where}"""


def _first_response_value(summary: stats.Summary) -> KpiValue:
    return KpiValue(
        summary.median,
        denominator=summary.count,
        detail={
            "p90": summary.p90,
            "answered": summary.count,
            "without_followup": summary.rows - summary.count,
        },
    )


# One take of the current period: (take id, taker, hours to the first follow-up or None).
ResponseRow = tuple[int, int, float | None]


def current_first_responses(*, period: Period, scope: Scope) -> list[ResponseRow]:
    """The first responses of the takes of a period that includes today, as of now: the closed
    days' from the cache, and live only the takes of today and those whose lead was followed up
    today (``figures_cache.rows_with_changes``) — a take's first follow-up can only appear
    through a follow-up, and a known one cannot be beaten by a later follow-up."""
    zone = company_zone()

    def read(span: Period, since: dt.datetime | None) -> list[tuple[dt.date, ResponseRow]]:
        params: dict[str, Any] = {}
        sql = _first_response_sql(period=span, scope=scope, params=params, rows=True, since=since)
        with read_connection().cursor() as cursor:
            cursor.execute(f"SELECT t.id, t.k, t.v, t.at FROM ({sql}) t", params)
            return [
                (
                    timezone.localtime(_moment(at), zone).date(),
                    (int(pk), int(rep), None if value is None else float(value)),
                )
                for pk, rep, value, at in cursor.fetchall()
            ]

    def by_day(span: Period) -> dict[dt.date, tuple[ResponseRow, ...]]:
        found: dict[dt.date, list[ResponseRow]] = {}
        for day, row in read(span, None):
            found.setdefault(day, []).append(row)
        return {day: tuple(rows) for day, rows in found.items()}

    def changed(since: dt.datetime) -> list[ResponseRow]:
        return [row for _day, row in read(period, since)]

    return rollups.memoised(
        ("first_responses", period, scope),
        lambda: figures_cache.rows_with_changes(
            name="first_responses", period=period, scope=scope, fetch=by_day, changed=changed
        ),
    )


def _moment(value: dt.datetime | str) -> dt.datetime:
    """A moment a raw query answers, made aware: PostgreSQL answers aware datetimes; SQLite
    answers an aggregate of moments as text and a moment column as a naive datetime, both UTC."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@kpi(
    code="first_response",
    label=_("First response time"),
    unit=Unit.HOURS,
    higher_is_better=False,
    description=_("Median hours from a claim or assignment to the taking rep's first follow-up."),
)
def first_response(*, period: Period, scope: Scope) -> KpiValue:
    """Median hours from a claim or assignment out of a pool in the period to the taking rep's
    first follow-up of that customer; p90 and the leads still without a follow-up in
    ``detail`` (interpolated, ``metrics.kpis.stats``). Non-additive: raw claim/assign events
    (``poolevent_kind_at``) and an indexed look-up of the first follow-up
    (``followup_customer_at``). Scope: the rep who took the lead, their team, the pool it
    left, the customer's channel. A period that includes today reads its takes' responses from
    :func:`current_first_responses` (closed days cached, today's changes live)."""
    if period.contains_today():
        rows = current_first_responses(period=period, scope=scope)
        return _first_response_value(stats.summarise_values([value for _pk, _rep, value in rows]))
    params: dict[str, Any] = {}
    summary = stats.summarise(_first_response_sql(period=period, scope=scope, params=params), params)
    return _first_response_value(summary)


def first_response_per_rep(*, period: Period, scope: Scope) -> dict[int, KpiValue]:
    """:func:`first_response` for each rep of the scope who took a lead (the leaderboard)."""
    if period.contains_today():
        per_rep: dict[int, list[float | None]] = {}
        for _pk, rep, value in current_first_responses(period=period, scope=scope):
            per_rep.setdefault(rep, []).append(value)
        return {rep: _first_response_value(stats.summarise_values(values)) for rep, values in per_rep.items()}
    params: dict[str, Any] = {}
    groups = stats.summarise_by(_first_response_sql(period=period, scope=scope, params=params), params)
    return {int(rep): _first_response_value(summary) for rep, summary in groups.items()}


@kpi(
    code="followups",
    label=_("Follow-ups"),
    unit=Unit.COUNT,
    description=_("Follow-ups logged in the period, by type: call, visit, e-mail, meeting, message."),
)
def followups(*, period: Period, scope: Scope) -> KpiValue:
    """Follow-ups logged in the period; ``detail["by_kind"]`` by type (call, visit, e-mail,
    meeting, message). Roll-ups only."""
    figures = rollups.totals(period=period, scope=scope, measures=FOLLOWUP_MEASURES)
    by_kind = {name.removeprefix("followups_"): value for name, value in figures.items()}
    return KpiValue(sum(by_kind.values()), detail={"by_kind": by_kind})
