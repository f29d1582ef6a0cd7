"""The weighted quarterly scorecard (KPI.md, "Weighted scorecard"): its settings and its score.

    score = Σ weight_k * min(achievement_k, cap)        achievement_k = actual_k ÷ target_k
                                                        (target_k ÷ actual_k when lower is better)

over the KPIs an admin chose (``ScorecardWeight``, weights in percent summing to 100), for one
rep or team and one quarter; the score is in points, 100 = every target met, at most the cap.

Decisions where the issue is silent:

- Targets apply to the scope they name. A rep's target is their own row, else the company-wide
  default ("everyone"); a team's target is the team's row, else the default. A team target is
  the team's figure, never a rep's fallback: for additive KPIs (sales, follow-ups) a team's
  total and one rep's share are different numbers.
- ``targets_for`` answers the targets of the quarter that contains the period's first day,
  unscaled: a month compared with a quarterly sales target is the caller's choice to pro-rate.
- Targets are positive (a zero target has no ratio). An achievement never goes below 0 (a
  negative NPS or sales growth scores 0), and a lower-is-better KPI whose actual is 0 (no
  churn, no cost) reaches the cap.
- A chosen KPI with no data (zero denominator, or a KPI code no module registers) or without a
  target scores 0 points and is marked (``ScorecardRow.missing``), so its weight still counts:
  missing data never inflates the others.
- Achievements are rounded to 4 decimals, points to 2 (half up), and the total is the sum of
  the rounded points, so the table always adds up.
- Admin edits (targets, weights, cap) serialise on the settings row (``SELECT … FOR UPDATE``),
  so two admins saving at once cannot interleave their delete-and-insert."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from crm_site import bounds
from customers import selectors as customer_selectors
from customers.models import Team, User
from metrics import kpis
from metrics.models import DEFAULT_SCORECARD_CAP, KpiTarget, ScorecardSettings, ScorecardWeight
from metrics.periods import Grain, Period, Scope, ScopeKind

HUNDRED = Decimal(100)


RATIO_PLACES = Decimal("0.0001")


POINT_PLACES = Decimal("0.01")


MISSING_NO_DATA = "no_data"


MISSING_NO_TARGET = "no_target"


MISSING_UNKNOWN_KPI = "unknown_kpi"


MISSING_LABELS: dict[str, Promise] = {
    MISSING_NO_DATA: _("no data"),
    MISSING_NO_TARGET: _("no target"),
    MISSING_UNKNOWN_KPI: _("KPI not available"),
}


def quarter_of(day: dt.date) -> Period:
    return Period.preset(Grain.QUARTER, containing=day)


def is_quarter_start(day: dt.date) -> bool:
    return day.day == 1 and day.month in (1, 4, 7, 10)


def quarter_label(quarter: Period) -> str:
    """``2025-Q1``: the form the pages and CSV use for a quarter."""
    return f"{quarter.start.year}-Q{(quarter.start.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> Period | None:
    """``2025-Q1`` (or ``2025q1``) → that quarter; None when it does not parse or lies outside
    ``crm_site.bounds`` (a quarter of year 9999 would end past Python's last date)."""
    match = _QUARTER.match(text.strip())
    if match is None or not bounds.EARLIEST_DAY.year <= int(match["year"]) <= bounds.LATEST_DAY.year:
        return None
    return quarter_of(dt.date(int(match["year"]), int(match["number"]) * 3 - 2, 1))


_QUARTER = re.compile(r"^(?P<year>\d{4})-?[Qq](?P<number>[1-4])$")


@dataclass(frozen=True, slots=True)
class ScorecardConfig:
    cap: Decimal  # percent, >= 100
    weights: dict[str, Decimal]  # KPI code → percent, in display order


def current_config() -> ScorecardConfig:
    """The cap (default 120 %) and the chosen KPIs with their weights: two queries."""
    cap = ScorecardSettings.objects.filter(pk=1).values_list("cap", flat=True).first()
    weights = dict(ScorecardWeight.objects.order_by("-weight", "kpi").values_list("kpi", "weight"))
    return ScorecardConfig(cap=DEFAULT_SCORECARD_CAP if cap is None else cap, weights=weights)


@dataclass(frozen=True, slots=True)
class TargetScope:
    """Whose targets an admin edits: one rep, one team, or everyone (both None)."""

    rep_id: int | None = None
    team_id: int | None = None

    def __post_init__(self) -> None:
        if self.rep_id is not None and self.team_id is not None:
            raise ValueError("a target is for a rep or a team, not both")

    def rows(self) -> Q:
        return (
            Q(rep_id=self.rep_id, team_id=self.team_id)
            if self.rep_id or self.team_id
            else Q(rep__isnull=True, team__isnull=True)
        )


def stored_targets(*, target_scope: TargetScope, quarter: dt.date) -> dict[str, Decimal]:
    """The targets stored for exactly this scope and quarter (no fallback): the edit form."""
    rows = KpiTarget.objects.filter(target_scope.rows(), quarter=quarter)
    return dict(rows.order_by("kpi").values_list("kpi", "target"))


def targets_for(*, scope: Scope, period: Period) -> dict[str, Decimal]:
    """Each KPI's target for ``scope`` in the quarter containing ``period.start``: the scope's
    own target (a rep's or a team's), else the company-wide default. One query."""
    quarter = quarter_of(period.start).start
    everyone = Q(rep__isnull=True, team__isnull=True)
    if scope.kind is ScopeKind.REP:
        own = Q(rep_id=scope.key)
    elif scope.kind is ScopeKind.TEAM:
        own = Q(team_id=scope.key)
    else:
        own = Q(pk__in=[])
    found: dict[str, Decimal] = {}
    rows = KpiTarget.objects.filter(own | everyone, quarter=quarter).values_list(
        "kpi", "target", "rep_id", "team_id"
    )
    for code, target, rep_id, team_id in rows:
        if rep_id is None and team_id is None:
            found.setdefault(code, target)
        else:
            found[code] = target
    return found


@dataclass(frozen=True, slots=True)
class ScorecardRow:
    code: str
    label: str | Promise
    unit: str  # metrics.kpis.Unit value, "" for an unknown KPI
    higher_is_better: bool
    actual: Decimal | None
    target: Decimal | None
    ratio: Decimal | None  # achievement before the cap (1 = target met); None when missing
    capped: Decimal  # min(ratio, cap) as a fraction; 0 when missing
    weight: Decimal  # percent
    points: Decimal  # weight * capped
    missing: str = ""  # "", MISSING_NO_DATA, MISSING_NO_TARGET or MISSING_UNKNOWN_KPI

    @property
    def missing_label(self) -> str:
        return str(MISSING_LABELS[self.missing]) if self.missing else ""

    @property
    def ratio_percent(self) -> Decimal | None:
        return None if self.ratio is None else (self.ratio * HUNDRED).quantize(POINT_PLACES)

    @property
    def capped_percent(self) -> Decimal:
        return (self.capped * HUNDRED).quantize(POINT_PLACES)


@dataclass(frozen=True, slots=True)
class Scorecard:
    scope: Scope
    quarter: Period
    cap: Decimal  # percent
    rows: list[ScorecardRow]
    total: Decimal  # points: 100 = every target met, at most ``cap``

    @property
    def weights_total(self) -> Decimal:
        return sum((row.weight for row in self.rows), Decimal(0))

    @property
    def is_configured(self) -> bool:
        return self.weights_total == HUNDRED


def achievement(*, actual: Decimal, target: Decimal, higher_is_better: bool, cap: Decimal) -> Decimal:
    """actual ÷ target (target ÷ actual when lower is better), rounded to 4 places, never below
    0; a lower-is-better actual of 0 or less reaches ``cap`` (a fraction, 1.2 for 120 %)."""
    if higher_is_better:
        ratio = actual / target
    elif actual <= 0:
        return cap
    else:
        ratio = target / actual
    return max(ratio, Decimal(0)).quantize(RATIO_PLACES, rounding=ROUND_HALF_UP)


def scorecard(*, scope: Scope, quarter: Period) -> Scorecard:
    """The scorecard of ``scope`` (normally a rep or a team) for ``quarter``.

    Queries: the settings (2), the targets (1), and each chosen KPI once — a constant number
    for a given configuration, whatever the data.
    """
    config = current_config()
    cap = config.cap / HUNDRED
    targets = targets_for(scope=scope, period=quarter)
    registry = kpis.load()
    rows = []
    for code, weight in config.weights.items():
        definition = registry.get(code)
        target = targets.get(code)
        if definition is None:
            rows.append(
                ScorecardRow(
                    code,
                    code,
                    "",
                    True,
                    None,
                    target,
                    None,
                    Decimal(0),
                    weight,
                    Decimal(0),
                    MISSING_UNKNOWN_KPI,
                )
            )
            continue
        value = definition(period=quarter, scope=scope)
        actual = None if value.value is None else Decimal(str(value.value))
        missing = MISSING_NO_DATA if actual is None else MISSING_NO_TARGET if target is None else ""
        ratio = None
        capped = Decimal(0)
        if actual is not None and target is not None:
            ratio = achievement(
                actual=actual, target=target, higher_is_better=definition.higher_is_better, cap=cap
            )
            capped = min(ratio, cap)
        points = (weight * capped).quantize(POINT_PLACES, rounding=ROUND_HALF_UP)
        rows.append(
            ScorecardRow(
                code,
                definition.label,
                str(definition.unit),
                definition.higher_is_better,
                actual,
                target,
                ratio,
                capped,
                weight,
                points,
                missing,
            )
        )
    total = sum((row.points for row in rows), Decimal(0))
    return Scorecard(scope=scope, quarter=quarter, cap=config.cap, rows=rows, total=total)


def teams_visible_to(*, user: User) -> QuerySet[Team]:
    """Teams whose scorecard ``user`` may read: admin all, manager the teams they manage (and
    their own), a rep none."""
    if user.is_admin:
        return Team.objects.order_by("name")
    if user.is_manager:
        return Team.objects.filter(pk__in=customer_selectors.managed_team_ids(user)).order_by("name")
    return Team.objects.none()


def reps_visible_to(*, user: User) -> QuerySet[User]:
    """People whose scorecard ``user`` may read: the visibility rule of customers (a rep only
    themselves)."""
    return customer_selectors.reps_visible_to(user)


def scope_visible_to(*, user: User, scope: Scope) -> bool:
    if scope.kind is ScopeKind.REP:
        return reps_visible_to(user=user).filter(pk=scope.object_id).exists()
    if scope.kind is ScopeKind.TEAM:
        return teams_visible_to(user=user).filter(pk=scope.object_id).exists()
    return user.is_admin
