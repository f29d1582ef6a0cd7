"""What one dashboard page shows, as tables (``metrics.exports.Table``) and chart data.

``Dashboard`` computes each panel lazily from the selectors, the KPI registry, the roll-ups,
the churn flags, the campaigns and the scorecard targets, so a CSV export builds only its own
table and a page builds each table once. Every panel is a fixed number of queries whatever the
period length or the number of people (see ``metrics.views`` for the budget test).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from crm_site.progress import Progress
from customers.models import FollowUpKind, Role, Source, Team, User
from metrics import campaigns, figures_cache, kpis, selectors
from metrics.exports import Cell, Column, Table, kpi_table
from metrics.kpis import Comparison, KpiValue, Unit
from metrics.kpis import pool as pool_kpis
from metrics.kpis import sales as sales_kpis
from metrics.models import ChurnFlag
from metrics.periods import Grain, Period, Scope, ScopeKind, default_grain, local_today, preset_period
from metrics.selectors import rollups, scorecard

LIST_PAGE_SIZE = 10  # churn warnings, at-risk customers and stale leads per page
POOL_KPIS = ("claim_rate", "time_to_claim", "pool_conversion", "recycle_rate", "stale_stock")
TREND_MEASURES = ("new_customers", "deals_won", "won_amount", *selectors.FOLLOWUP_MEASURES)


# The trend charts' sums, from the roll-ups; a closed period's kept in the figures cache.
trend_series = figures_cache.cached_for_closed_period(rollups.series)


@figures_cache.cached_for_closed_period
def worked_by_bucket(*, period: Period, scope: Scope, grain: Grain) -> dict[dt.date, int]:
    """The conversion KPI's denominator (``sales.worked_customers``) per trend bucket."""
    return sales_kpis.worked_customers_by_bucket(period=period, scope=scope, buckets=period.split(grain))


@figures_cache.cached_for_closed_period
def pool_cohorts(*, period: Period, scope: Scope, grain: Grain) -> list[pool_kpis.CohortFigures]:
    """The pool conversion KPI's cohort (``pool.cohorts``) per trend bucket."""
    return pool_kpis.cohorts(period=period, scope=scope, buckets=period.split(grain))


@figures_cache.cached_for_closed_period(per_language=True)
def cac_by_channel(*, period: Period) -> list[tuple[str, KpiValue]]:
    """The CAC KPI for each acquisition channel with spend or new customers in the period, in
    ``Source`` order: the table reads the KPI, so the two cannot disagree."""
    cac = kpis.load()["cac"]
    rows = []
    for value, label in Source.choices:
        figure = cac(period=period, scope=Scope.channel(value))
        if figure.numerator or figure.denominator:
            rows.append((str(label), figure))
    return rows


@dataclass
class Dashboard:
    """Everything one page shows, computed lazily so an export builds only its own table."""

    user: User
    period: Period
    scope: Scope
    grain: Grain
    query: dict[str, str]

    @property
    def is_rep_scope(self) -> bool:
        return self.scope.kind is ScopeKind.REP

    @property
    def sees_campaigns(self) -> bool:
        return self.user.is_admin or self.user.role == Role.MANAGER

    # KPI overview and pool panel -------------------------------------------------------------

    @cached_property
    def comparisons(self) -> list[Comparison]:
        return kpis.compare(period=self.period, scope=self.scope)

    @cached_property
    def targets(self) -> dict[str, Decimal] | None:
        """The scorecard targets for this scope and period (``scorecard.targets_for``). A rep's
        page always has the target column; other scopes only when some target is set."""
        found = scorecard.targets_for(scope=self.scope, period=self.period)
        return found if found or self.is_rep_scope else None

    def kpis_table(self) -> Table:
        rows = [c for c in self.comparisons if c.definition.code not in POOL_KPIS]
        return kpi_table(
            name="kpis",
            title=_("Key figures") if not self.is_rep_scope else _("My figures against my targets"),
            comparisons=rows,
            targets=self.targets,
        )

    def pool_table(self) -> Table:
        rows = [c for c in self.comparisons if c.definition.code in POOL_KPIS]
        rows.sort(key=lambda c: POOL_KPIS.index(c.definition.code))
        return kpi_table(name="pool", title=_("Pool utilisation"), comparisons=rows)

    def pool_cohorts_table(self) -> Table:
        table = Table(
            name="pool_cohorts",
            title=_("Pool conversion by claim cohort"),
            columns=[
                Column("cohort", _("Claimed from")),
                Column("claimed", _("Leads taken"), numeric=True),
                Column("converted", _("Won within the window"), numeric=True),
                Column("conversion", _("Pool conversion"), numeric=True),
                Column("still_open", _("Window still open"), numeric=True),
            ],
            empty_text=gettext_lazy("No lead was claimed from a pool in this period."),
        )
        for cohort in pool_cohorts(period=self.period, scope=self.scope, grain=self.grain):
            table.rows.append(
                [
                    Cell.label(self.day_label(cohort.start)),
                    Cell.number(cohort.leads),
                    Cell.number(cohort.converted),
                    Cell.kpi(cohort.conversion(), Unit.PERCENT),
                    Cell.number(cohort.still_open),
                ]
            )
        return table

    def stale_table(self) -> Table:
        table = Table(
            name="stale_leads",
            title=_("Longest waiting in the pool"),
            columns=[
                Column("customer", pgettext("a lead in a pool", "Lead")),
                Column("pool", _("Pool")),
                Column("pooled_at", _("In pool since")),
            ],
            empty_text=gettext_lazy("No stale lead in your pools."),
        )
        for lead in selectors.stale_leads_visible(user=self.user, limit=LIST_PAGE_SIZE):
            table.rows.append(
                [
                    Cell.label(lead.name),
                    Cell.label(
                        lead.pool.name if lead.pool else "",
                        link=reverse("public_pool:detail", args=[lead.pool_id]),
                    ),
                    Cell.date(timezone.localtime(lead.pooled_at) if lead.pooled_at else None),
                ]
            )
        return table

    # trends ----------------------------------------------------------------------------------

    @cached_property
    def series(self) -> list[tuple[Period, dict[str, Any]]]:
        return trend_series(period=self.period, scope=self.scope, grain=self.grain, measures=TREND_MEASURES)

    @cached_property
    def worked_by_bucket(self) -> dict[dt.date, int]:
        return worked_by_bucket(period=self.period, scope=self.scope, grain=self.grain)

    def bucket_label(self, bucket: Period) -> str:
        return self.day_label(bucket.start)

    def day_label(self, day: dt.date) -> str:
        """A bucket's name: ``2026-03`` for a month, the first day for a week (or a part)."""
        if self.grain is Grain.MONTH and day.day == 1:
            return day.strftime("%Y-%m")
        return day.isoformat()

    def conversion_trend_table(self) -> Table:
        table = Table(
            name="conversion_trend",
            title=_("Customer conversion"),
            columns=[
                Column("bucket", _("From")),
                Column("new_customers", _("New customers"), numeric=True),
                Column("worked", _("Customers worked"), numeric=True),
                Column("conversion", _("Conversion"), numeric=True),
            ],
        )
        for bucket, values in self.series:
            new = int(values.get("new_customers") or 0)
            worked = self.worked_by_bucket.get(bucket.start, 0)
            table.rows.append(
                [
                    Cell.label(self.bucket_label(bucket)),
                    Cell.number(new),
                    Cell.number(worked),
                    Cell.kpi(sales_kpis.conversion(new, worked), Unit.PERCENT),
                ]
            )
        return table

    def sales_trend_table(self) -> Table:
        table = Table(
            name="sales_trend",
            title=_("Sales"),
            columns=[
                Column("bucket", _("From")),
                Column("deals_won", _("Deals won"), numeric=True),
                Column("sales", _("Sales"), numeric=True),
            ],
        )
        for bucket, values in self.series:
            table.rows.append(
                [
                    Cell.label(self.bucket_label(bucket)),
                    Cell.number(int(values.get("deals_won") or 0)),
                    Cell.number(values.get("won_amount") or 0, decimals=2),
                ]
            )
        return table

    def followup_trend_table(self) -> Table:
        kinds = followup_kind_labels()
        table = Table(
            name="followup_trend",
            title=_("Follow-ups"),
            columns=[Column("bucket", _("From"))]
            + [Column(kind, label, numeric=True) for kind, label in kinds.items()]
            + [Column("total", _("Total"), numeric=True)],
        )
        for bucket, values in self.series:
            counts = [int(values.get(f"followups_{kind}") or 0) for kind in kinds]
            table.rows.append(
                [Cell.label(self.bucket_label(bucket))]
                + [Cell.number(n) for n in counts]
                + [Cell.number(sum(counts))]
            )
        return table

    # funnel ----------------------------------------------------------------------------------

    @cached_property
    def funnel(self) -> list[selectors.FunnelStage]:
        return selectors.deal_funnel(period=self.period, scope=self.scope)

    def funnel_table(self) -> Table:
        table = Table(
            name="funnel",
            title=_("Sales funnel"),
            columns=[
                Column("stage", _("Stage")),
                Column("count", _("Deals at this stage now"), numeric=True),
                Column("reached", _("Reached this stage"), numeric=True),
                Column("amount", _("Amount"), numeric=True),
            ],
        )
        for stage in self.funnel:
            table.rows.append(
                [
                    Cell.label(stage.label),
                    Cell.number(stage.count),
                    Cell.number(stage.reached) if stage.reached is not None else Cell.label("–"),
                    Cell.number(stage.amount, decimals=2),
                ]
            )
        return table

    # leaderboard -----------------------------------------------------------------------------

    @cached_property
    def leaderboard(self) -> list[selectors.LeaderRow]:
        return selectors.leaderboard(period=self.period, scope=self.scope)

    def leaderboard_table(self, rows: list[selectors.LeaderRow] | None = None, *, offset: int = 0) -> Table:
        kinds = followup_kind_labels()
        table = Table(
            name="leaderboard",
            title=_("Leaderboard"),
            columns=[
                Column("rank", _("Rank"), numeric=True),
                Column("rep", _("Sales rep")),
                Column("deals_won", _("Deals won"), numeric=True),
                Column("revenue", _("Revenue"), numeric=True),
            ]
            + [Column(f"followups_{kind}", label, numeric=True) for kind, label in kinds.items()]
            + [
                Column("conversion", _("Conversion"), numeric=True),
                Column("first_response", _("First response"), numeric=True),
                Column("sales_cycle", _("Sales cycle"), numeric=True),
            ],
        )
        for rank, row in enumerate(self.leaderboard if rows is None else rows, start=offset + 1):
            link = self.url(scope=ScopeKind.REP.value, id=str(row.rep.pk))
            table.rows.append(
                [
                    Cell.number(rank),
                    Cell.label(str(row.rep), link=link),
                    Cell.number(row.deals_won),
                    Cell.number(row.revenue, decimals=2),
                ]
                + [Cell.number(row.followups[kind]) for kind in kinds]
                + [
                    Cell.kpi(row.conversion, Unit.PERCENT),
                    Cell.kpi(row.first_response_hours, Unit.HOURS),
                    Cell.kpi(row.sales_cycle_days, Unit.DAYS),
                ]
            )
        return table

    # churn and at-risk -----------------------------------------------------------------------

    def churn_flags(self) -> QuerySet[ChurnFlag]:
        return selectors.churn_flags_in_scope(user=self.user, scope=self.scope)

    def churn_table(self, flags: list[ChurnFlag] | None = None) -> Table:
        table = Table(
            name="churn",
            title=_("Churn warnings"),
            columns=[
                Column("customer", _("Customer")),
                Column("owner", _("Owner")),
                Column("reason", _("Reason")),
                Column("details", _("Details")),
                Column("flagged_at", _("Flagged since")),
            ],
            empty_text=gettext_lazy("No customer is flagged."),
        )
        for flag in self.churn_flags() if flags is None else flags:
            table.rows.append(
                [
                    Cell.label(flag.customer.name, link=reverse("customers:detail", args=[flag.customer_id])),
                    Cell.label(str(flag.customer.owner or "")),
                    Cell.label(flag.get_reason_display()),
                    Cell.label(flag.message),
                    Cell.date(timezone.localtime(flag.flagged_at)),
                ]
            )
        return table

    @cached_property
    def scoped_rep(self) -> User | None:
        if not self.is_rep_scope:
            return None
        return self.user if self.scope.key == self.user.pk else User.objects.get(pk=self.scope.object_id)

    def at_risk_table(self) -> Table:
        table = Table(
            name="at_risk",
            title=_("Customers about to be recycled"),
            columns=[
                Column("customer", _("Customer")),
                Column("recycle_due", _("Recycle due")),
                Column("days_left", _("Days left"), numeric=True),
            ],
            empty_text=gettext_lazy("No customer is due to be recycled."),
        )
        now = timezone.now()
        rep = self.scoped_rep  # the table is built for a rep's scope only
        at_risk = selectors.at_risk_customers(rep=rep, limit=LIST_PAGE_SIZE) if rep is not None else []
        for customer in at_risk:
            table.rows.append(
                [
                    Cell.label(customer.name, link=reverse("customers:detail", args=[customer.pk])),
                    Cell.date(timezone.localtime(customer.recycle_due_at)),
                    Cell.number(selectors.days_left(customer, now)),
                ]
            )
        return table

    # campaigns -------------------------------------------------------------------------------

    def campaigns_table(self) -> Table:
        table = Table(
            name="campaigns",
            title=_("Campaign effectiveness"),
            columns=[
                Column("campaign", _("Campaign")),
                Column("participants", _("Participants"), numeric=True),
                Column("leads", _("Leads"), numeric=True),
                Column("new_customers", _("New customers"), numeric=True),
                Column("sales", _("Attributed sales"), numeric=True),
                Column("spend", _("Spend"), numeric=True),
                Column("budget", _("Budget"), numeric=True),
                Column("goal_attainment", _("Lead goal attainment"), numeric=True),
                Column("sales_attainment", _("Sales goal attainment"), numeric=True),
                Column("budget_execution", _("Budget execution"), numeric=True),
                Column("roi", _("ROI"), numeric=True),
                Column("cac", _("CAC"), numeric=True),
            ],
            empty_text=gettext_lazy("No campaign ran in this period."),
        )
        for row in campaigns.effectiveness(period=self.period):
            table.rows.append(
                [
                    Cell.label(str(row.campaign)),
                    Cell.number(row.participants),
                    Cell.number(row.leads),
                    Cell.number(row.new_customers),
                    Cell.number(row.sales, decimals=2),
                    Cell.number(row.spend, decimals=2),
                    Cell.number(row.budget, decimals=2),
                    Cell.kpi(row.goal_attainment, Unit.PERCENT),
                    Cell.kpi(row.sales_attainment, Unit.PERCENT),
                    Cell.kpi(row.budget_execution, Unit.PERCENT),
                    Cell.kpi(row.roi, Unit.PERCENT),
                    Cell.number(row.cac, decimals=2),
                ]
            )
        return table

    def cac_table(self) -> Table:
        table = Table(
            name="cac_by_channel",
            title=_("Customer acquisition cost by channel"),
            columns=[
                Column("channel", _("Channel")),
                Column("new_customers", _("New customers"), numeric=True),
                Column("spend", _("Spend"), numeric=True),
                Column("cac", _("CAC"), numeric=True),
            ],
        )
        for label, value in cac_by_channel(period=self.period):
            table.rows.append(
                [
                    Cell.label(label),
                    Cell.number(value.denominator),
                    Cell.number(value.numerator, decimals=2),
                    Cell.kpi(value, Unit.MONEY),
                ]
            )
        return table

    # plumbing --------------------------------------------------------------------------------

    def table_builders(self) -> dict[str, Callable[[], Table]]:
        """The tables this scope's page shows, by ``?table=`` name."""
        builders: dict[str, Callable[[], Table]] = {
            "kpis": self.kpis_table,
            "conversion_trend": self.conversion_trend_table,
            "sales_trend": self.sales_trend_table,
            "followup_trend": self.followup_trend_table,
            "funnel": self.funnel_table,
            "pool": self.pool_table,
            "pool_cohorts": self.pool_cohorts_table,
            "churn": self.churn_table,
        }
        if self.is_rep_scope:
            builders["at_risk"] = self.at_risk_table
        else:
            builders["leaderboard"] = self.leaderboard_table
        if self.sees_campaigns and not self.is_rep_scope:
            builders["stale_leads"] = self.stale_table
            builders["campaigns"] = self.campaigns_table
            builders["cac_by_channel"] = self.cac_table
        return builders

    def url(self, **changes: str) -> str:
        query = {**self.query, **changes}
        return "?" + urlencode({key: value for key, value in query.items() if value})

    def csv_filename(self, table: str) -> str:
        return f"{table}_{self.period.start.isoformat()}_{self.period.last_day.isoformat()}.csv"


def followup_kind_labels() -> dict[str, str]:
    return {kind.value: str(kind.label) for kind in FollowUpKind}


def chart_data(board: Dashboard, tables: dict[str, Table]) -> dict[str, Any]:
    """What ``static/js/dashboard.js`` draws, read from the same tables the page lists under
    each chart (so a chart and its table cannot disagree). Numbers are the CSV values."""

    def column(table: Table, key: str) -> list[float | None]:
        index = [c.key for c in table.columns].index(key)
        values = []
        for row in table.rows:
            cell = row[index]
            values.append(float(cell.csv) if _is_number(cell.csv) else None)
        return values

    def labels(table: Table) -> list[str]:
        return [row[0].text for row in table.rows]

    conversion, sales, followups = tables["conversion_trend"], tables["sales_trend"], tables["followup_trend"]
    kinds = followup_kind_labels()
    funnel_rows = [stage for stage in board.funnel if stage.reached is not None]
    return {
        "conversion": {
            "labels": labels(conversion),
            "series": [
                {"name": str(_("Conversion")), "type": "line", "data": column(conversion, "conversion")}
            ],
            "unit": "%",
        },
        "sales": {
            "labels": labels(sales),
            "series": [{"name": str(_("Sales")), "type": "bar", "data": column(sales, "sales")}],
        },
        "followups": {
            "labels": labels(followups),
            "series": [
                {"name": label, "type": "bar", "stack": "total", "data": column(followups, kind)}
                for kind, label in kinds.items()
            ],
        },
        "funnel": {
            "series": [
                {
                    "name": str(_("Sales funnel")),
                    "type": "funnel",
                    "data": [{"name": stage.label, "value": stage.reached} for stage in funnel_rows],
                }
            ]
        },
    }


def _is_number(text: str | Decimal) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


WARM_PRESETS = ("last_week", "last_month", "last_quarter")
# Tables whose rows depend on who looks (their churn flags, their pools' stale leads, their
# at-risk customers): never cached, so never warmed.
PER_VIEWER_TABLES = frozenset({"churn", "at_risk", "stale_leads"})


def warm_closed_dashboards(
    *,
    presets: tuple[str, ...] = WARM_PRESETS,
    scopes: list[Scope] | None = None,
    progress: Progress | None = None,
) -> int:
    """Fill the figures cache (``metrics.figures_cache``) for the closed presets managers open
    most, for the company and every team (or ``scopes``), in every language; answers the
    pages warmed (a page in two languages counts once per language).

    Builds the page's own tables (``Dashboard.table_builders``) as an admin would see them, so
    every figure the page asks for is cached under the arguments the page uses; the tables
    that depend on who looks (``PER_VIEWER_TABLES``) are skipped and stay live.
    """
    if scopes is None:
        teams = Team.objects.order_by("pk").values_list("pk", flat=True)
        scopes = [Scope.company(), *(Scope.team(pk) for pk in teams)]
    viewer = User(role=Role.ADMIN)  # unsaved: sees every table of a company or team page
    warmed = 0
    if progress is not None:  # manage.py warm_dashboards on a terminal: a page at a time
        progress.add_total(len(presets) * len(settings.LANGUAGES) * len(scopes))
    for name in presets:
        period = preset_period(name, today=local_today())
        grain = default_grain(period)
        for language, _label in settings.LANGUAGES:
            with translation.override(language), rollups.shared_reads():
                for scope in scopes:
                    board = Dashboard(user=viewer, period=period, scope=scope, grain=grain, query={})
                    for table, build in board.table_builders().items():
                        if table not in PER_VIEWER_TABLES:
                            build()
                    warmed += 1
                    if progress is not None:
                        progress.advance()
    return warmed
