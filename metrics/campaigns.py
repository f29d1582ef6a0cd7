"""Campaign effectiveness (KPI.md, "Campaign effectiveness"). CAC by channel is the CAC KPI
itself for each channel scope (``metrics.dashboard.cac_by_channel``).

Every figure is for the chosen period (company time zone, ``[start, end)``):

- participants: ``CampaignParticipant`` rows that joined in the period;
- leads: customers attributed to the campaign (``Customer.campaign``) created in the period;
- new customers: attributed customers whose first won deal falls in the period;
- sales: won deals of attributed customers closed in the period (amounts summed);
- spend: ``CampaignSpend`` (entered per month) prorated by the days of each month inside the
  period — ``metrics.kpis.sales.marketing_spend``, the very figure the CAC KPI adds up, so
  two adjacent periods split a month between them;
- budget, target leads and target sales are the campaign's own, for its whole run.

Ratios are percentages (``12.5`` = 12.5 %), ``None`` where the denominator is zero:
goal attainment = leads ÷ target leads (the campaign's goal is the leads it brings in;
``sales_attainment`` = sales ÷ target sales beside it), budget execution = spend ÷ budget,
ROI = (sales - spend) ÷ spend; spend per new customer = spend ÷ new customers (money; the
campaign's own marketing spend, not the CAC KPI, which adds labour and other cost). Read attainment and
budget execution over a period that covers the campaign's run to compare with its targets.

Campaigns listed: those running during the period or with spend in it, newest first.
"""

# ruff: noqa: S608
# S608: the SQL is built from table names and fixed fragments; every value is a parameter.

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from crm_site.db_routers import read_connection
from customers.models import Campaign, CampaignParticipant, CampaignSpend, Customer, Deal, DealStage
from metrics import figures_cache
from metrics.kpis import sales as sales_kpis
from metrics.periods import Period, local_today
from metrics.selectors import rollups

ZERO = Decimal(0)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class CampaignRow:
    campaign: Campaign
    participants: int
    leads: int
    new_customers: int
    sales: Decimal
    spend: Decimal
    budget: Decimal
    goal_attainment: Decimal | None  # leads ÷ target leads, %
    sales_attainment: Decimal | None  # sales ÷ target sales, %
    budget_execution: Decimal | None  # spend ÷ budget, %
    roi: Decimal | None  # (sales - spend) ÷ spend, %
    cac: Decimal | None  # spend per new customer: spend ÷ new customers


def _percent(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(CENT, ROUND_HALF_UP)


def _ratio(numerator: Decimal, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (numerator / denominator).quantize(CENT, ROUND_HALF_UP)


def _count(queryset: QuerySet, via: str) -> Coalesce:
    """Rows of ``queryset`` per outer campaign, as a correlated subquery (0 when none)."""
    counted = (
        queryset.filter(**{via: OuterRef("pk")}).order_by().values(via).annotate(n=Count("*")).values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _sum(queryset: QuerySet, via: str, field: str) -> Coalesce:
    summed = (
        queryset.filter(**{via: OuterRef("pk")})
        .order_by()
        .values(via)
        .annotate(total=Sum(field))
        .values("total")
    )
    money: DecimalField[Decimal, Decimal] = DecimalField(max_digits=16, decimal_places=2)
    return Coalesce(Subquery(summed, output_field=money), Value(ZERO), output_field=money)


def _spends(period: Period) -> QuerySet[CampaignSpend]:
    """Spend rows of the months that overlap the period."""
    return CampaignSpend.objects.filter(month__gte=period.start.replace(day=1), month__lt=period.end)


@figures_cache.cached_for_closed_period
def effectiveness(*, period: Period, channel: str | None = None) -> list[CampaignRow]:
    """One row per campaign (see the module docstring), from ONE query: each measure is a
    correlated aggregate subquery over an indexed foreign key, whatever the number of campaigns.

    A period that includes today sums each campaign's measures per day instead
    (:func:`_sums_by_day`): the closed days' from the cache (``figures_cache.inputs_by_day``;
    a day's participants, leads, first wins and won deals are final once it is over), today's
    live — so the month's table costs the campaign list and one query over today."""
    start, end = period.bounds()
    spends = _spends(period)
    campaigns = Campaign.objects.filter(
        Q(starts_on__lt=period.end, ends_on__gte=period.start)
        | Q(Exists(spends.filter(campaign=OuterRef("pk"))))
    )
    if channel:
        campaigns = campaigns.filter(channel=channel)
    spent = sales_kpis.marketing_spend(period=period, by="campaign")
    if period.contains_today():
        listed = list(campaigns.order_by("-starts_on", "-id"))
        ids = [campaign.pk for campaign in listed]
        sums: dict[int, list] = {}
        for day in figures_cache.inputs_by_day(
            name="campaign_sums",
            period=period,
            scope=None,
            fetch=lambda span: _sums_by_day(span, today_campaigns=ids),
        ):
            for campaign_id, values in day:
                total = sums.setdefault(campaign_id, [0, 0, 0, ZERO])
                for index, value in enumerate(values):
                    total[index] += value
        return [_row(campaign, *sums.get(campaign.pk, (0, 0, 0, ZERO)), spent=spent) for campaign in listed]
    campaigns = campaigns.annotate(
        participant_count=_count(
            CampaignParticipant.objects.filter(joined_at__gte=start, joined_at__lt=end), "campaign"
        ),
        lead_count=_count(Customer.objects.filter(created_at__gte=start, created_at__lt=end), "campaign"),
        new_customer_count=_count(
            Customer.objects.filter(first_won_at__gte=start, first_won_at__lt=end), "campaign"
        ),
        sales=_sum(
            Deal.objects.filter(stage=DealStage.WON, closed_at__gte=start, closed_at__lt=end),
            "customer__campaign",
            "amount",
        ),
    ).order_by("-starts_on", "-id")
    return [
        _row(
            campaign,
            campaign.participant_count,
            campaign.lead_count,
            campaign.new_customer_count,
            campaign.sales,
            spent=spent,
        )
        for campaign in campaigns
    ]


def _row(
    campaign: Campaign,
    participants: int,
    leads: int,
    new_customers: int,
    sales: Decimal,
    *,
    spent: dict[object, Decimal],
) -> CampaignRow:
    sales = Decimal(sales).quantize(CENT)
    spend = spent.get(campaign.pk, ZERO).quantize(CENT, ROUND_HALF_UP)
    return CampaignRow(
        campaign=campaign,
        participants=participants,
        leads=leads,
        new_customers=new_customers,
        sales=sales,
        spend=spend,
        budget=campaign.budget,
        goal_attainment=_percent(leads, campaign.target_leads),
        sales_attainment=_percent(sales, campaign.target_sales),
        budget_execution=_percent(spend, campaign.budget),
        roi=_percent(sales - spend, spend),
        cac=_ratio(spend, new_customers),
    )


def _sums_by_day(
    span: Period, *, today_campaigns: list[int]
) -> dict[dt.date, tuple[tuple[int, tuple[int, int, int, Decimal]], ...]]:
    """Each campaign's participants, leads, new customers and attributed sales on each day of
    ``span`` (company time zone), in one grouped query: every campaign for closed days (kept in
    the cache per day), only ``today_campaigns`` (the campaigns the table lists) for today.

    Today's leads (customers created today) are the listed campaigns' customers whose creation
    moment, which ``cust_campaign_id`` holds, is today: read from that index alone. The closed
    days' read scans the customers once, when the day first enters the cache. Today's attributed sales join today's wins (``deal_stage_closed``, which
    holds their customer and amount) with the listed campaigns' customers (``cust_campaign_id``)."""
    params: dict[str, Any] = {}
    lo, hi = span.bounds()
    params.update(
        lo=connection.ops.adapt_datetimefield_value(lo), hi=connection.ops.adapt_datetimefield_value(hi)
    )
    recent = listed = ""
    if span.start >= local_today():
        if not today_campaigns:
            return {}
        names = []
        for index, campaign_id in enumerate(today_campaigns):
            params[f"campaign{index}"] = campaign_id
            names.append(f"%(campaign{index})s")
        listed = f" AND c.campaign_id IN ({', '.join(names)})"
        recent = listed

    def day(column: str) -> str:
        return rollups.local_day_sql(column, params, span.start)

    def within(column: str) -> str:
        return f"{column} >= %(lo)s AND {column} < %(hi)s"

    customers, deals = Customer._meta.db_table, Deal._meta.db_table
    # Written so that it is no index condition: the campaign index holds most customers, the
    # time columns' indexes few.
    attributed = "(c.campaign_id + 0) IS NOT NULL"
    parts = [
        f"""SELECT {day("p.joined_at")} AS day, p.campaign_id AS campaign, 1 AS participants, 0 AS leads,
                   0 AS new_customers, 0 AS sales
            FROM {CampaignParticipant._meta.db_table} p WHERE {within("p.joined_at")}""",
        f"""SELECT {day("c.created_at")}, c.campaign_id, 0, 1, 0, 0 FROM {customers} c
            WHERE {attributed} AND {within("c.created_at")}{recent}""",
        f"""SELECT {day("c.first_won_at")}, c.campaign_id, 0, 0, 1, 0 FROM {customers} c
            WHERE {attributed} AND {within("c.first_won_at")}""",
        # today: the listed campaigns' customers (``cust_campaign_id``) joined with today's wins
        f"""SELECT {day("d.closed_at")}, c.campaign_id, 0, 0, 0, d.amount
            FROM {deals} d JOIN {customers} c ON c.id = d.customer_id
            WHERE d.stage = 'won' AND c.campaign_id IS NOT NULL AND {within("d.closed_at")}{listed}""",
    ]
    found: dict[dt.date, list[tuple[int, tuple[int, int, int, Decimal]]]] = {}
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"""SELECT day, campaign, SUM(participants), SUM(leads), SUM(new_customers), SUM(sales)
                FROM ({" UNION ALL ".join(parts)}) t GROUP BY day, campaign""",
            params,
        )
        for value, campaign, participants, leads, new, sales in cursor.fetchall():
            found.setdefault(rollups.as_day(value), []).append(
                (int(campaign), (int(participants), int(leads), int(new), Decimal(str(sales or 0))))
            )
    return {key: tuple(rows) for key, rows in found.items()}
