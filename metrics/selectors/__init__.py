"""Every read of the metrics app. This module: the reads the dashboards need beyond the KPI
registry and the roll-ups: which scopes a user may
pick, the deal funnel, the per-rep leaderboard, churn flags and at-risk customers in a scope.

Visibility follows ``customers.selectors``: a rep sees only their own figures, a manager the
teams from ``managed_team_ids`` (the teams they manage plus their own) and the people in them,
an admin everything. ``visible_scope`` is the one gate: a scope outside that is a 404 (we do
not confirm that a team or a person exists).

Scope of raw rows (decision, the same as the roll-ups attribute them): a deal belongs to its
owner and the owner's team; a follow-up to the person who logged it (``by``) and their team;
a pool event to the rep it handed the customer to (``to_owner``).

Submodules by subdomain: ``rollups`` (reading the daily roll-ups, and the SQL the roll-up
service writes them with), ``churn``, ``tiers``, ``surveys``, ``scorecard``. Writes are in
``metrics.services``.

Every function here runs a fixed number of aggregate queries whatever the period length or
the number of reps: grouping happens in the database, Python only reshapes the grouped rows.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    Q,
    QuerySet,
    Sum,
)
from django.http import Http404

from crm_site.db_routers import read_connection
from customers import selectors as customer_selectors
from customers.models import Customer, Deal, DealStage, Role, Team, User
from metrics import figures_cache
from metrics.kpis import pool as pool_kpis
from metrics.kpis import sales as sales_kpis
from metrics.periods import Period, Scope, ScopeKind, company_zone
from metrics.selectors import churn, rollups
from public_pool import selectors as pool_selectors

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
    """Deals created in the period in the scope, by the stage they are at now; one query (for a
    period that includes today, :func:`_current_funnel_totals`).

    No stage history is stored, so a deal counts in the stage it is in today. ``reached`` is
    the funnel: deals at this stage or a later open stage, or won. Lost deals are listed but
    are in no ``reached`` figure beyond the first stage (where they were lost is not known),
    so ``reached`` of the first stage is every deal created.
    """
    start, end = period.bounds()
    if period.contains_today():
        totals = _current_funnel_totals(period=period, scope=scope)
    else:
        rows = (
            Deal.objects.filter(
                _owner_filter(scope, prefix="owner"), created_at__gte=start, created_at__lt=end
            )
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


def _current_funnel_totals(*, period: Period, scope: Scope) -> dict[str, tuple[int, Decimal]]:
    """(count, amount) per stage of the deals created in a period that includes today, for
    :func:`deal_funnel`: each deal's stage and amount as read at the first request of the day,
    kept in the cache (``figures_cache.stock_with_changes``), with the deals changed since 00:00
    — those created today among them — read again live through ``deal_updated`` (which also
    holds their owner and creation moment, so the deals of other people are passed over in the
    index), in one statement with those of the kept deals that changed today (gone to someone
    outside a team or a rep: out of the scope)."""
    start, end = period.bounds()
    in_period = Q(created_at__gte=start, created_at__lt=end)
    mine = _owner_filter(scope, prefix="owner")

    def fetch() -> dict[int, tuple[str, Decimal]]:
        rows = Deal.objects.filter(mine, in_period).order_by().values_list("pk", "stage", "amount")
        return {pk: (stage, amount) for pk, stage, amount in rows}

    def changed(since: dt.datetime, kept: Collection[int]) -> list[tuple[int, tuple[str, Decimal] | None]]:
        # One statement: the ids from ``deal_updated`` alone (it holds the owner and creation
        # moment), then only those deals from the table. For a team or a rep, the deals changed
        # today are the scope's and, of the others, only those kept this morning (one of them
        # changed hands today: out of the scope) — not every other person's deal changed today.
        bound = connection.ops.adapt_datetimefield_value
        params: dict[str, Any] = {
            "start": bound(start),
            "end": bound(end),
            "since": bound(since),
            "key": scope.key if scope.kind in (ScopeKind.TEAM, ScopeKind.REP) else None,
        }
        deal, user = Deal._meta.db_table, User._meta.db_table

        def in_scope(alias: str) -> str:
            if scope.kind is ScopeKind.TEAM:
                return (
                    f"EXISTS (SELECT 1 FROM {user} u WHERE u.id = {alias}.owner_id AND u.team_id = %(key)s)"  # noqa: S608
                )
            if scope.kind is ScopeKind.REP:
                return f"{alias}.owner_id = %(key)s"
            return "1 = 1"

        wanted = in_scope("t")
        if scope.kind in (ScopeKind.TEAM, ScopeKind.REP) and kept:
            wanted = f"({wanted} OR t.id IN {_id_list(sorted(kept), params)})"
        with read_connection().cursor() as cursor:
            cursor.execute(  # table names and fixed fragments; every value is a parameter
                f"""SELECT d.id, d.stage, d.amount, CASE WHEN {in_scope("d")} THEN 1 ELSE 0 END
                    FROM {deal} d WHERE d.id IN (
                        SELECT t.id FROM {deal} t
                        WHERE t.updated_at >= %(since)s AND t.created_at >= %(start)s
                          AND t.created_at < %(end)s AND {wanted})""",  # noqa: S608
                params,
            )
            amount_field = Deal._meta.get_field("amount")
            return [
                (pk, (stage, amount_field.to_python(amount)) if is_mine else None)
                for pk, stage, amount, is_mine in cursor.fetchall()
            ]

    deals = figures_cache.stock_with_changes(
        name="funnel_deals", key=period, scope=scope, fetch=fetch, changed=changed
    )
    totals: dict[str, tuple[int, Decimal]] = {}
    for stage, amount in deals.values():
        count, total = totals.get(stage, (0, Decimal(0)))
        totals[stage] = (count + 1, total + amount)
    return totals


def _id_list(ids: list[int], params: dict[str, Any]) -> str:
    """SQL for the set of ``ids`` as one parameter: a PostgreSQL array (thousands of ids as
    separate parameters cost milliseconds to parse and plan), a JSON array on SQLite."""
    if connection.vendor == "postgresql":
        params["ids"] = "{" + ",".join(str(int(pk)) for pk in ids) + "}"
        return "(SELECT unnest(%(ids)s::bigint[]))"
    params["ids"] = json.dumps([int(pk) for pk in ids])
    return "(SELECT value FROM json_each(%(ids)s))"


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
    first_response_hours: Decimal | float | int | None
    sales_cycle_days: Decimal | float | int | None
    conversion: Decimal | float | int | None = field(default=None)

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

    A fixed number of queries whatever the period or the number of people: the people;
    ``rollups.by_rep`` for deals won, revenue, new customers and follow-ups by kind; and the
    per-rep forms of the KPI functions themselves (``metrics.kpis.sales``): customers worked
    (``worked_customers_per_rep``), first response (``first_response_per_rep``) and sales cycle
    (``sales_cycle_per_rep``) — the very SQL and interpolated median of the KPIs, grouped by
    person. Conversion per person is ``sales.conversion`` of their new customers and customers
    worked, as the KPI computes it for a rep scope.
    """
    people = list(leaderboard_people(scope=scope))
    if not people:
        return []
    figures = rollups.by_rep(
        period=period, team_ids=scope_team_ids(scope), measures=list(LEADERBOARD_MEASURES)
    )
    worked = sales_kpis.worked_customers_per_rep(period=period, scope=scope)
    first_response = sales_kpis.first_response_per_rep(period=period, scope=scope)
    sales_cycle = sales_kpis.sales_cycle_per_rep(period=period, scope=scope)
    rows = []
    for person in people:
        own = figures.get(person.pk, {})
        new_customers = int(own.get("new_customers") or 0)
        person_worked = worked.get(person.pk, 0)
        response, cycle = first_response.get(person.pk), sales_cycle.get(person.pk)
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
                first_response_hours=response.value if response else None,
                sales_cycle_days=cycle.value if cycle else None,
                conversion=sales_kpis.conversion(new_customers, person_worked).value,
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
    """``metrics.selectors.churn.churn_flags_for`` (which applies the owner/manager/admin rule), narrowed to
    the customers owned by people in the scope, newest first."""
    return (
        churn.churn_flags_for(user=user)
        .filter(_owner_filter(scope, prefix="customer__owner"))
        .select_related("customer", "customer__owner")
        .order_by("-flagged_at", "-pk")
    )
