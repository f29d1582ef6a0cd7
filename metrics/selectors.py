"""Reads the dashboards need beyond the KPI registry and the roll-ups: which scopes a user may
pick, the deal funnel, the per-rep leaderboard, churn flags and at-risk customers in a scope.

Visibility follows ``customers.selectors``: a rep sees only their own figures, a manager the
teams from ``managed_team_ids`` (the teams they manage plus their own) and the people in them,
an admin everything. ``visible_scope`` is the one gate: a scope outside that is a 404 (we do
not confirm that a team or a person exists).

Scope of raw rows (decision, the same as the roll-ups attribute them): a deal belongs to its
owner and the owner's team; a follow-up to the person who logged it (``by``) and their team;
a pool event to the rep it handed the customer to (``to_owner``).

Every function here runs a fixed number of aggregate queries whatever the period length or
the number of reps: grouping happens in the database, Python only reshapes the grouped rows.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce, TruncMonth, TruncWeek
from django.http import Http404
from django.utils import timezone

from customers import selectors as customer_selectors
from customers.models import Customer, Deal, DealStage, FollowUp, Role, Team, User
from metrics import churn, figures_cache, rollups
from metrics.kpis import pool as pool_kpis
from metrics.periods import Grain, Period, Scope, ScopeKind, company_zone
from public_pool import selectors as pool_selectors
from public_pool.models import TAKE_KINDS, PoolEvent

# --- scopes ------------------------------------------------------------------------------------

DASHBOARD_SCOPE_KINDS = (ScopeKind.COMPANY, ScopeKind.TEAM, ScopeKind.REP)


@dataclass(frozen=True)
class ScopeChoices:
    """What the scope picker offers ``user``: the company (admins), teams and people."""

    company: bool
    teams: list[Team]
    reps: list[User]


def scope_choices(*, user: User) -> ScopeChoices:
    """Two queries for managers and admins (teams, people), none for reps."""
    if user.is_admin:
        teams = list(Team.objects.order_by("name"))
        reps = list(User.objects.filter(is_active=True).exclude(role=Role.ADMIN).order_by("username"))
        return ScopeChoices(company=True, teams=teams, reps=reps)
    if user.role == Role.MANAGER:
        team_ids = customer_selectors.managed_team_ids(user)
        teams = list(Team.objects.filter(pk__in=team_ids).order_by("name"))
        reps = list(customer_selectors.reps_visible_to(user))
        return ScopeChoices(company=False, teams=teams, reps=reps)
    return ScopeChoices(company=False, teams=[], reps=[user])


def default_scope(*, user: User) -> Scope:
    """Admins start on the company, managers on their own team (or the first they manage),
    reps on themselves."""
    if user.is_admin:
        return Scope.company()
    if user.role == Role.MANAGER:
        team_ids = customer_selectors.managed_team_ids(user)
        if user.team_id in team_ids:
            return Scope.team(user.team_id)
        if team_ids:
            return Scope.team(team_ids[0])
    return Scope.rep(user.pk)


def visible_scope(*, user: User, kind: str, key: int | None) -> Scope:
    """The scope ``user`` asked for, or Http404 when it is not theirs to see.

    Admins: the company, any team, any active person. Managers: their teams and the people in
    them (and themselves). Reps: only themselves.
    """
    if kind == ScopeKind.COMPANY and key is None:
        if user.is_admin:
            return Scope.company()
        raise Http404
    if key is None:
        raise Http404
    if kind == ScopeKind.TEAM:
        if user.is_admin:
            if Team.objects.filter(pk=key).exists():
                return Scope.team(key)
        elif user.role == Role.MANAGER and key in customer_selectors.managed_team_ids(user):
            return Scope.team(key)
        raise Http404
    if kind == ScopeKind.REP:
        if key == user.pk or customer_selectors.reps_visible_to(user).filter(pk=key).exists():
            return Scope.rep(key)
        raise Http404
    raise Http404


def scope_team_ids(scope: Scope) -> list[int] | None:
    """Teams whose reps a leaderboard lists: None for the whole company."""
    if scope.kind is ScopeKind.TEAM:
        return [scope.object_id]
    return None


def scope_label(*, scope: Scope) -> str:
    """A name for the heading: the team's or the person's name (one query), or ''."""
    if scope.kind is ScopeKind.TEAM:
        return Team.objects.filter(pk=scope.object_id).values_list("name", flat=True).first() or ""
    if scope.kind is ScopeKind.REP:
        person = User.objects.filter(pk=scope.object_id).first()
        return str(person) if person else ""
    return ""


def _owner_filter(scope: Scope, *, prefix: str) -> Q:
    """Rows whose person (``prefix``: ``owner``, ``by``, ``to_owner``) is in the scope."""
    if scope.kind is ScopeKind.TEAM:
        return Q(**{f"{prefix}__team_id": scope.key})
    if scope.kind is ScopeKind.REP:
        return Q(**{f"{prefix}_id": scope.key})
    return Q()


# --- aggregates --------------------------------------------------------------------------------


class Percentile(Aggregate):
    """PostgreSQL ``percentile_cont(fraction) WITHIN GROUP (ORDER BY expression)``."""

    function = "percentile_cont"
    name = "Percentile"
    output_field = FloatField()
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"

    def __init__(self, expression: object, *, fraction: float = 0.5, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class EpochSeconds(Func):
    """Seconds in an interval (``EXTRACT(EPOCH FROM interval)``) as a float."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


def _median_per(
    rows: QuerySet, *, key: str, later: str, earlier: str, unit_seconds: float
) -> dict[int, float]:
    """The median of ``later - earlier`` (in units of ``unit_seconds``) per ``key``, in one query.

    PostgreSQL aggregates in SQL (``percentile_cont``); other databases — the SQLite demo only,
    with a few hundred rows — get the rows and take the same interpolated median in Python."""
    if connection.vendor == "postgresql":
        return dict(
            rows.values(key)
            .annotate(value=Percentile(EpochSeconds(F(later) - F(earlier)) / unit_seconds))
            .order_by()
            .values_list(key, "value")
        )
    groups: dict[int, list[float]] = {}
    for group, late, early in rows.order_by().values_list(key, later, earlier):
        if late is not None and early is not None:
            groups.setdefault(group, []).append((late - early).total_seconds() / unit_seconds)
    return {group: statistics.median(values) for group, values in groups.items()}


# --- funnel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FunnelStage:
    stage: str
    label: str
    count: int
    amount: Decimal
    reached: int | None  # deals now at this stage or further (None for "lost")


@figures_cache.cached_for_closed_period(per_language=True)
def deal_funnel(*, period: Period, scope: Scope) -> list[FunnelStage]:
    """Deals created in the period in the scope, by the stage they are at now; one query.

    No stage history is stored, so a deal counts in the stage it is in today. ``reached`` is
    the funnel: deals at this stage or a later open stage, or won. Lost deals are listed but
    are in no ``reached`` figure beyond the first stage (where they were lost is not known),
    so ``reached`` of the first stage is every deal created.
    """
    start, end = period.bounds()
    rows = (
        Deal.objects.filter(_owner_filter(scope, prefix="owner"), created_at__gte=start, created_at__lt=end)
        .values("stage")
        .annotate(count=Count("pk"), amount=Sum("amount"))
        .order_by()
    )
    totals = {row["stage"]: (row["count"], row["amount"] or Decimal(0)) for row in rows}
    progression = [*DealStage.open_stages(), DealStage.WON]
    everyone = sum(count for count, _amount in totals.values())
    stages = []
    for index, stage in enumerate(progression):
        count, amount = totals.get(stage, (0, Decimal(0)))
        further = sum(totals.get(later, (0, 0))[0] for later in progression[index:])
        stages.append(
            FunnelStage(
                stage=stage,
                label=str(DealStage(stage).label),
                count=count,
                amount=amount,
                reached=everyone if index == 0 else further,
            )
        )
    count, amount = totals.get(DealStage.LOST, (0, Decimal(0)))
    stages.append(
        FunnelStage(
            stage=DealStage.LOST, label=str(DealStage.LOST.label), count=count, amount=amount, reached=None
        )
    )
    return stages


# --- worked customers per bucket (the conversion trend's denominator) --------------------------


def worked_customers(*, period: Period, scope: Scope) -> int:
    """Distinct customers with a follow-up by someone in the scope in the period; one query."""
    start, end = period.bounds()
    return FollowUp.objects.filter(_owner_filter(scope, prefix="by"), at__gte=start, at__lt=end).aggregate(
        worked=Count("customer_id", distinct=True)
    )["worked"]


@figures_cache.cached_for_closed_period
def worked_customers_by_bucket(*, period: Period, scope: Scope, grain: Grain) -> dict[dt.date, int]:
    """Distinct customers followed up by someone in the scope, per bucket of ``period.split(grain)``
    (keyed by the bucket's first day); one grouped query, truncated in the company time zone."""
    start, end = period.bounds()
    trunc = TruncMonth if grain is Grain.MONTH else TruncWeek
    rows = (
        FollowUp.objects.filter(_owner_filter(scope, prefix="by"), at__gte=start, at__lt=end)
        .annotate(bucket=trunc("at", tzinfo=company_zone()))
        .values("bucket")
        .annotate(worked=Count("customer_id", distinct=True))
        .order_by()
    )
    worked: dict[dt.date, int] = {}
    for row in rows:
        worked[max(_local_date(row["bucket"]), period.start)] = row["worked"]
    return worked


# --- pool conversion by claim cohort -----------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    start: dt.date  # first day of the claim bucket (clipped to the period)
    claimed: int
    converted: int
    still_open: int  # claims whose conversion window has not closed yet

    @property
    def rate(self) -> Decimal | None:
        return Decimal(self.converted) * 100 / self.claimed if self.claimed else None


@figures_cache.cached_for_closed_period
def pool_conversion_by_cohort(*, period: Period, scope: Scope, grain: Grain) -> list[Cohort]:
    """The pool conversion KPI (``metrics.kpis.pool.pool_conversion``: a take from a pool counts
    as converted when the customer has a deal won within ``METRICS_POOL_CONVERSION_DAYS`` of it)
    per claim cohort, a bucket of ``period.split(grain)``; one grouped query over the same
    cohort queryset (``pool.takes``). Buckets without claims are left out."""
    window = dt.timedelta(days=settings.METRICS_POOL_CONVERSION_DAYS)
    won = Deal.objects.filter(
        customer_id=OuterRef("customer_id"),
        stage=DealStage.WON,
        closed_at__gte=OuterRef("at"),
        closed_at__lte=OuterRef("at") + window,
    )
    trunc = TruncMonth if grain is Grain.MONTH else TruncWeek
    open_since = timezone.now() - window
    rows = (
        pool_kpis.takes(period=period, scope=scope)
        .alias(is_won=Exists(won))
        .annotate(bucket=trunc("at", tzinfo=company_zone()))
        .values("bucket")
        .annotate(
            claimed=Count("pk"),
            converted=Count("pk", filter=Q(is_won=True)),
            still_open=Count("pk", filter=Q(at__gt=open_since)),
        )
        .order_by("bucket")
    )
    return [
        Cohort(
            start=max(_local_date(row["bucket"]), period.start),
            claimed=row["claimed"],
            converted=row["converted"],
            still_open=row["still_open"],
        )
        for row in rows
    ]


def stale_leads_visible(*, user: User, limit: int) -> list[Customer]:
    """The longest-waiting stale pool leads (``metrics.kpis.pool.stale_leads``) in the pools
    ``user`` may use."""
    # The pool ids as a list, not a subquery: with a literal list the planner reads the
    # ``cust_pooled_since`` index in order and stops at ``limit`` (0.3 ms at a million
    # customers, against 400 ms for a nested loop over the pools).
    pool_ids = list(pool_selectors.pools_for_user(user).values_list("pk", flat=True))
    leads = pool_kpis.stale_leads(scope=Scope.company()).filter(pool_id__in=pool_ids)
    return list(leads[:limit])


def _local_date(value: dt.date | dt.datetime) -> dt.date:
    return value.astimezone(company_zone()).date() if isinstance(value, dt.datetime) else value


# --- leaderboard -------------------------------------------------------------------------------

FOLLOWUP_MEASURES = (
    "followups_call",
    "followups_visit",
    "followups_email",
    "followups_meeting",
    "followups_message",
)
LEADERBOARD_MEASURES = ("deals_won", "won_amount", "new_customers", *FOLLOWUP_MEASURES)


@dataclass(frozen=True)
class LeaderRow:
    rep: User
    deals_won: int
    revenue: Decimal
    followups: dict[str, int]
    worked: int
    new_customers: int
    first_response_hours: float | None
    sales_cycle_days: float | None
    conversion: Decimal | None = field(default=None)

    @property
    def followups_total(self) -> int:
        return sum(self.followups.values())


def leaderboard_people(*, scope: Scope) -> QuerySet[User]:
    """The people a company or team leaderboard lists: active members of the team(s), admins
    excluded (they sell nothing)."""
    people = User.objects.filter(is_active=True).exclude(role=Role.ADMIN)
    if scope.kind is ScopeKind.TEAM:
        people = people.filter(team_id=scope.object_id)
    elif scope.kind is ScopeKind.REP:
        people = people.filter(pk=scope.object_id)
    return people.order_by("username")


@figures_cache.cached_for_closed_period
def leaderboard(*, period: Period, scope: Scope) -> list[LeaderRow]:
    """One row per person in the scope, best revenue first (then deals won, then name).

    Five queries whatever the period or the number of people: the people; ``rollups.by_rep``
    for deals won, revenue, new customers and follow-ups by kind; distinct worked customers
    per person; median first response per person; median sales cycle per person.

    Conversion per person = new customers (first won deal in the period, attributed by the
    roll-up to the deal's owner) ÷ distinct customers they followed up in the period; "no
    data" (None) when they worked none. First response = median hours from a claim or an
    assignment to them in the period to their first follow-up of that customer afterwards
    (claims never followed up are left out). Sales cycle = median days from the customer's
    latest claim or assignment at or before the win (else its creation) to the win, for deals they
    won in the period. These are ``metrics.kpis.sales``' ``first_response`` and ``sales_cycle``
    grouped by person (the same definitions, same median: ``percentile_cont(0.5)``).
    """
    people = list(leaderboard_people(scope=scope))
    ids = [person.pk for person in people]
    if not ids:
        return []
    start, end = period.bounds()
    team_ids = scope_team_ids(scope)
    figures = rollups.by_rep(period=period, team_ids=team_ids, measures=list(LEADERBOARD_MEASURES))
    worked = dict(
        FollowUp.objects.filter(by_id__in=ids, at__gte=start, at__lt=end)
        .values("by_id")
        .annotate(worked=Count("customer_id", distinct=True))
        .order_by()
        .values_list("by_id", "worked")
    )
    first_followup = (
        FollowUp.objects.filter(
            customer_id=OuterRef("customer_id"), by_id=OuterRef("to_owner_id"), at__gte=OuterRef("at")
        )
        .order_by("at")
        .values("at")[:1]
    )
    first_response = _median_per(
        PoolEvent.objects.filter(kind__in=TAKE_KINDS, to_owner_id__in=ids, at__gte=start, at__lt=end)
        .annotate(first_at=Subquery(first_followup))
        .filter(first_at__isnull=False),
        key="to_owner_id",
        later="first_at",
        earlier="at",
        unit_seconds=3600.0,
    )
    latest_take = (
        PoolEvent.objects.filter(
            customer_id=OuterRef("customer_id"), kind__in=TAKE_KINDS, at__lte=OuterRef("closed_at")
        )
        .order_by("-at")
        .values("at")[:1]
    )
    cycle_start = Coalesce(Subquery(latest_take), F("customer__created_at"))
    sales_cycle = _median_per(
        Deal.objects.filter(
            stage=DealStage.WON, owner_id__in=ids, closed_at__gte=start, closed_at__lt=end
        ).annotate(cycle_start=cycle_start),
        key="owner_id",
        later="closed_at",
        earlier="cycle_start",
        unit_seconds=86400.0,
    )
    rows = []
    for person in people:
        own = figures.get(person.pk, {})
        new_customers = int(own.get("new_customers") or 0)
        person_worked = worked.get(person.pk, 0)
        rows.append(
            LeaderRow(
                rep=person,
                deals_won=int(own.get("deals_won") or 0),
                revenue=Decimal(own.get("won_amount") or 0),
                followups={
                    measure.removeprefix("followups_"): int(own.get(measure) or 0)
                    for measure in FOLLOWUP_MEASURES
                },
                worked=person_worked,
                new_customers=new_customers,
                first_response_hours=first_response.get(person.pk),
                sales_cycle_days=sales_cycle.get(person.pk),
                conversion=(Decimal(new_customers) * 100 / person_worked) if person_worked else None,
            )
        )
    rows.sort(key=lambda row: (-row.revenue, -row.deals_won, row.rep.username))
    return rows


# --- at-risk customers -------------------------------------------------------------------------


def at_risk_customers(*, rep: User, limit: int) -> list[Customer]:
    """The rep's customers closest to being recycled (public_pool's selector), soonest first."""
    return list(pool_selectors.customers_at_risk(user=rep)[:limit])


def days_left(customer: Customer, now: dt.datetime | None = None) -> int | None:
    return pool_selectors.days_left(customer, now)


# --- churn flags -------------------------------------------------------------------------------


def churn_flags_in_scope(*, user: User, scope: Scope) -> QuerySet:
    """``metrics.churn.churn_flags_for`` (which applies the owner/manager/admin rule), narrowed to
    the customers owned by people in the scope, newest first."""
    return (
        churn.churn_flags_for(user=user)
        .filter(_owner_filter(scope, prefix="customer__owner"))
        .select_related("customer", "customer__owner")
        .order_by("-flagged_at", "-pk")
    )
