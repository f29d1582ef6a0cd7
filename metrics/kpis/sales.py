"""Sales KPIs of KPI.md: conversion, sales, growth, retention, churn, new customers,
acquisition rate, CAC, CLV, repurchase, win rate, sales cycle, first response, follow-ups.

Each function takes ``(period, scope)`` and returns a ``KpiValue`` (``value=None`` — "no data"
— where the denominator is zero; the numerator and denominator are still given). Percentages
and averages are rounded to two decimals.

Additive parts (sums and counts) come from ``metrics.rollups.totals`` (roll-up rows for closed
days, live rows for today). Non-additive parts are computed from raw rows with indexed queries,
and each docstring says which. How a scope cuts raw rows (decisions):

- event figures follow the roll-up's attribution (``metrics.rollups``): a follow-up belongs to
  who logged it, a deal to its owner, a claim to the rep who took the lead; the team is that
  person's team; the pool is the customer's pool (else its home pool); the channel is the
  customer's ``source``;
- customer-state figures (retention, churn, repurchase) belong to the customer's current owner
  and team (``Customer.owner``/``team``), pool (else home pool) and source.
"""

# ruff: noqa: S608, RUF002
# S608: the SQL is built from model table names and fixed fragments; every value is a parameter.
# RUF002: the formulas of KPI.md are written with their own signs (times, divided by, minus).

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from customers.models import CampaignSpend, Customer, Deal, FollowUp, Role, User
from metrics import rollups
from metrics.kpis import KpiValue, Unit, kpi
from metrics.periods import Grain, Period, Scope, ScopeKind
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
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def distribution(values_sql: str, params: dict[str, Any]) -> tuple[int, int, Decimal | None, Decimal | None]:
    """(rows, non-null values, median, p90) of the column ``v`` of ``values_sql`` in one query.

    Median as ``percentile_cont(0.5)`` (the mean of the two middle values for an even count);
    p90 by nearest rank (the ⌈0.9·n⌉-th value). Written with window functions so that the
    same SQL runs on SQLite.
    """
    sql = f"""
        WITH vals AS ({values_sql}),
        ranked AS (SELECT v, ROW_NUMBER() OVER (ORDER BY v) AS rn, COUNT(*) OVER () AS n
                   FROM vals WHERE v IS NOT NULL)
        SELECT (SELECT COUNT(*) FROM vals), MAX(n),
               AVG(v) FILTER (WHERE rn = (n + 1) / 2 OR rn = (n + 2) / 2),
               MAX(v) FILTER (WHERE rn = (9 * n + 9) / 10)
        FROM ranked"""
    rows, count, median, p90 = fetch_one(sql, params)
    if not count:
        return int(rows or 0), 0, None, None
    return int(rows), int(count), rounded(median), rounded(p90)


# --- conversion and sales ------------------------------------------------------------------------


def worked_customers(*, period: Period, scope: Scope) -> int:
    """Distinct customers with at least one follow-up in the period by the scope's people
    (raw rows: ``followup_at`` / ``followup_by_at`` index range)."""
    lo, hi = period.bounds()
    params: dict[str, Any] = {"lo": _bound(lo), "hi": _bound(hi)}
    where = actor_condition(scope, params, rep="f.by_id", team="u.team_id")
    (count,) = fetch_one(
        f"""SELECT COUNT(DISTINCT f.customer_id) FROM {_t(FollowUp)} f
            {event_joins(scope, customer="f.customer_id", person="f.by_id")}
            WHERE f.at >= %(lo)s AND f.at < %(hi)s AND {where}""",
        params,
    )
    return int(count or 0)


@kpi(code="customer_conversion", label=_("Customer conversion rate"), unit=Unit.PERCENT)
def customer_conversion(*, period: Period, scope: Scope) -> KpiValue:
    """Customers whose first won deal falls in the period ÷ customers worked (owned, with at
    least one follow-up) in the period × 100 %.

    Numerator: ``new_customers`` from the roll-ups (attributed to the owner of the first won
    deal). Denominator (distinct, so not additive): raw follow-ups of the period.
    """
    new = rollups.totals(period=period, scope=scope, measures=["new_customers"])["new_customers"]
    return ratio(new, worked_customers(period=period, scope=scope))


@kpi(code="sales", label=_("Sales"), unit=Unit.MONEY)
def sales(*, period: Period, scope: Scope) -> KpiValue:
    """Sum of won deal amounts, by the day the deal was won (roll-ups: ``won_amount``)."""
    figures = rollups.totals(period=period, scope=scope, measures=["won_amount", "deals_won"])
    return KpiValue(figures["won_amount"], detail={"deals_won": figures["deals_won"]})


@kpi(code="sales_growth", label=_("Sales growth"), unit=Unit.PERCENT)
def sales_growth(*, period: Period, scope: Scope) -> KpiValue:
    """(sales this period − sales last period) ÷ sales last period × 100 %; "no data" when last
    period sold nothing. Last period is ``period.previous()``. Roll-ups only."""
    current = rollups.totals(period=period, scope=scope, measures=["won_amount"])["won_amount"]
    previous = rollups.totals(period=period.previous(), scope=scope, measures=["won_amount"])["won_amount"]
    result = ratio(current - previous, previous)
    return KpiValue(
        result.value,
        numerator=result.numerator,
        denominator=result.denominator,
        detail={"current": current, "previous": previous},
    )


# --- the customer base ---------------------------------------------------------------------------


def _retention_counts(*, period: Period, scope: Scope) -> tuple[int, int]:
    """(paying at period start, of those: a won deal within the activity window before the
    period end). Raw rows: customers by ``cust_first_won``, deals by ``deal_customer_stage``."""
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


@kpi(code="retention", label=_("Retention rate"), unit=Unit.PERCENT)
def retention(*, period: Period, scope: Scope) -> KpiValue:
    """Paying customers active at period end ÷ paying customers at period start × 100 %.

    Paying at start: first won deal before the period starts. Active: among those, a won deal
    within ``METRICS_RETENTION_WINDOW_DAYS`` (365) before the period end. Non-additive: raw
    customer and deal rows, scoped by the customer's current owner.
    """
    paying, active = _retention_counts(period=period, scope=scope)
    return ratio(active, paying)


@kpi(code="churn", label=_("Churn rate"), unit=Unit.PERCENT, higher_is_better=False)
def churn(*, period: Period, scope: Scope) -> KpiValue:
    """100 % − retention rate: paying customers at period start with no won deal within the
    activity window before the period end ÷ paying customers at period start (as retention)."""
    paying, active = _retention_counts(period=period, scope=scope)
    return ratio(paying - active, paying)


@kpi(code="new_customers", label=_("New customers"), unit=Unit.COUNT)
def new_customers(*, period: Period, scope: Scope) -> KpiValue:
    """Customers whose first won deal falls in the period; ``detail["by_channel"]`` splits them
    by acquisition channel. Roll-ups only."""
    by_channel = rollups.grouped(period=period, scope=scope, dimension="channel", measures=["new_customers"])
    counts = {str(channel): values["new_customers"] for channel, values in by_channel.items()}
    return KpiValue(sum(counts.values()), detail={"by_channel": {k: v for k, v in counts.items() if v}})


@kpi(code="acquisition_rate", label=_("Acquisition rate"), unit=Unit.PERCENT)
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
    params: dict[str, Any] = {"start": _bound(start), "end": _bound(end)}
    where = customer_condition(scope, params)
    new, base = fetch_one(
        f"""SELECT COUNT(*) FILTER (WHERE c.first_won_at >= %(start)s), COUNT(*)
            FROM {_t(Customer)} c WHERE c.first_won_at < %(end)s AND {where}""",
        params,
    )
    return ratio(int(new or 0), int(base or 0))


def _months(period: Period) -> Decimal:
    return Decimal(period.days) * 12 / Decimal(365)


@kpi(
    code="cac",
    label=_("Customer acquisition cost"),
    unit=Unit.MONEY,
    higher_is_better=False,
    scopes=frozenset({ScopeKind.COMPANY, ScopeKind.CHANNEL}),
)
def cac(*, period: Period, scope: Scope) -> KpiValue:
    """(marketing spend + labour cost + other cost) in the period ÷ new customers in the period.

    Marketing spend: ``CampaignSpend`` rows (one per campaign and month) prorated by the days
    of their month inside the period; for a channel, only that channel's campaigns. Labour:
    ``METRICS_CAC_LABOUR_COST_PER_REP_MONTH`` × active reps; other: ``METRICS_CAC_OTHER_COST_PER_MONTH``
    — both per month of 365/12 days, company scope only (they belong to no channel). Team,
    rep and pool scopes have no costs of their own: "no data" there.
    """
    query = CampaignSpend.objects.filter(
        month__lt=period.end, month__gt=period.start - dt.timedelta(days=31)
    ).values_list("month", "amount")
    if scope.kind is ScopeKind.CHANNEL:
        query = query.filter(campaign__channel=scope.key)
    marketing = Decimal(0)
    for month, amount in query:  # a few rows per campaign: months overlapping the period
        following = Period.preset(Grain.MONTH, containing=month)
        overlap = (min(following.end, period.end) - max(following.start, period.start)).days
        if overlap > 0:
            marketing += amount * overlap / following.days
    labour = other = Decimal(0)
    if scope.kind is ScopeKind.COMPANY:
        reps = User.objects.filter(role=Role.REP, is_active=True).count()
        labour = Decimal(str(settings.METRICS_CAC_LABOUR_COST_PER_REP_MONTH)) * reps * _months(period)
        other = Decimal(str(settings.METRICS_CAC_OTHER_COST_PER_MONTH)) * _months(period)
    cost = rounded(marketing + labour + other)
    new = rollups.totals(period=period, scope=scope, measures=["new_customers"])["new_customers"]
    result = ratio(cost, new, scale=Decimal(1))
    return KpiValue(
        result.value,
        numerator=cost,
        denominator=new,
        detail={"marketing": rounded(marketing), "labour": rounded(labour), "other": rounded(other)},
    )


def _won_in(*, period: Period, scope: Scope) -> tuple[int, Decimal, int]:
    """(distinct buyers, won amount, deals won) of the deals won in the period, in one read of the
    raw rows (``deal_stage_closed``)."""
    lo, hi = period.bounds()
    params: dict[str, Any] = {"lo": _bound(lo), "hi": _bound(hi)}
    where = actor_condition(scope, params, rep="d.owner_id", team="u.team_id")
    buyers, amount, deals = fetch_one(
        f"""SELECT COUNT(DISTINCT d.customer_id), COALESCE(SUM(d.amount), 0), COUNT(*) FROM {_t(Deal)} d
            {event_joins(scope, customer="d.customer_id", person="d.owner_id")}
            WHERE d.stage = 'won' AND d.closed_at >= %(lo)s AND d.closed_at < %(hi)s AND {where}""",
        params,
    )
    return int(buyers or 0), Decimal(str(amount or 0)), int(deals or 0)


@kpi(code="clv", label=_("Customer lifetime value"), unit=Unit.MONEY)
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
    figure behind value tiers is ``metrics.tiers``.
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


@kpi(code="repurchase", label=_("Repurchase rate"), unit=Unit.PERCENT)
def repurchase(*, period: Period, scope: Scope) -> KpiValue:
    """Paying customers with two or more won deals ÷ paying customers × 100 %, as at the period
    end (deals won before it). Non-additive: raw won deals grouped per customer
    (``deal_stage_closed``), scoped by the customer's current owner."""
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


@kpi(code="win_rate", label=_("Win rate"), unit=Unit.PERCENT)
def win_rate(*, period: Period, scope: Scope) -> KpiValue:
    """Deals won ÷ (won + lost), deals closed in the period × 100 %. Roll-ups only."""
    figures = rollups.totals(period=period, scope=scope, measures=["deals_won", "deals_lost"])
    return ratio(figures["deals_won"], figures["deals_won"] + figures["deals_lost"])


@kpi(code="sales_cycle", label=_("Sales cycle"), unit=Unit.DAYS, higher_is_better=False)
def sales_cycle(*, period: Period, scope: Scope) -> KpiValue:
    """Median days from claim (or creation) to won, over deals won in the period; p90 in
    ``detail``. The start is the customer's latest claim or assignment at or before the win
    (the pool log), else the customer's creation. Non-additive: raw deals
    (``deal_stage_closed``) with an indexed look-up in the log (``poolevent_customer_at``)."""
    lo, hi = period.bounds()
    params: dict[str, Any] = {"lo": _bound(lo), "hi": _bound(hi)}
    where = actor_condition(scope, params, rep="d.owner_id", team="u.team_id")
    started = f"""COALESCE((SELECT MAX(e.at) FROM {_t(PoolEvent)} e WHERE e.customer_id = d.customer_id
                   AND e.kind IN ('claim', 'assign') AND e.at <= d.closed_at), c.created_at)"""
    values = f"""SELECT {_seconds_between("d.closed_at", started)} / 86400.0 AS v
        FROM {_t(Deal)} d {event_joins(scope, customer="d.customer_id", person="d.owner_id", needs_customer=True)}
        WHERE d.stage = 'won' AND d.closed_at >= %(lo)s AND d.closed_at < %(hi)s AND {where}"""
    _rows, count, median, p90 = distribution(values, params)
    return KpiValue(median, denominator=count, detail={"p90": p90, "deals": count})


@kpi(code="first_response", label=_("First response time"), unit=Unit.HOURS, higher_is_better=False)
def first_response(*, period: Period, scope: Scope) -> KpiValue:
    """Median hours from a claim or assignment in the period to the taking rep's first
    follow-up of that customer; p90 and the leads still without a follow-up in ``detail``.
    Non-additive: raw claim/assign events (``poolevent_kind_at``) and an indexed look-up of
    the first follow-up (``followup_customer_at``). Scope: the rep who took the lead, their
    team, the pool it left, the customer's channel."""
    lo, hi = period.bounds()
    params: dict[str, Any] = {"lo": _bound(lo), "hi": _bound(hi)}
    where = actor_condition(scope, params, rep="e.to_owner_id", team="u.team_id")
    if scope.kind is ScopeKind.POOL:
        where = "e.from_pool_id = %(scope_key)s"
    first = f"""(SELECT MIN(f.at) FROM {_t(FollowUp)} f WHERE f.customer_id = e.customer_id
                 AND f.by_id = e.to_owner_id AND f.at >= e.at)"""
    values = f"""SELECT {_seconds_between(first, "e.at")} / 3600.0 AS v
        FROM {_t(PoolEvent)} e {event_joins(scope, customer="e.customer_id", person="e.to_owner_id")}
        WHERE e.kind IN ('claim', 'assign') AND e.at >= %(lo)s AND e.at < %(hi)s AND {where}"""
    taken, count, median, p90 = distribution(values, params)
    return KpiValue(
        median, denominator=count, detail={"p90": p90, "answered": count, "without_followup": taken - count}
    )


@kpi(code="followups", label=_("Follow-ups"), unit=Unit.COUNT)
def followups(*, period: Period, scope: Scope) -> KpiValue:
    """Follow-ups logged in the period; ``detail["by_kind"]`` by type (call, visit, e-mail,
    meeting, message). Roll-ups only."""
    figures = rollups.totals(period=period, scope=scope, measures=FOLLOWUP_MEASURES)
    by_kind = {name.removeprefix("followups_"): value for name, value in figures.items()}
    return KpiValue(sum(by_kind.values()), detail={"by_kind": by_kind})
