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

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

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

from customers.models import Campaign, CampaignParticipant, CampaignSpend, Customer, Deal, DealStage
from metrics import figures_cache
from metrics.kpis import sales as sales_kpis
from metrics.periods import Period

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
    correlated aggregate subquery over an indexed foreign key, whatever the number of campaigns."""
    start, end = period.bounds()
    spends = _spends(period)
    campaigns = Campaign.objects.filter(
        Q(starts_on__lt=period.end, ends_on__gte=period.start)
        | Q(Exists(spends.filter(campaign=OuterRef("pk"))))
    )
    if channel:
        campaigns = campaigns.filter(channel=channel)
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
    spent = sales_kpis.marketing_spend(period=period, by="campaign")
    rows = []
    for campaign in campaigns:
        sales = Decimal(campaign.sales).quantize(CENT)
        spend = spent.get(campaign.pk, ZERO).quantize(CENT, ROUND_HALF_UP)
        rows.append(
            CampaignRow(
                campaign=campaign,
                participants=campaign.participant_count,
                leads=campaign.lead_count,
                new_customers=campaign.new_customer_count,
                sales=sales,
                spend=spend,
                budget=campaign.budget,
                goal_attainment=_percent(campaign.lead_count, campaign.target_leads),
                sales_attainment=_percent(sales, campaign.target_sales),
                budget_execution=_percent(spend, campaign.budget),
                roi=_percent(sales - spend, spend),
                cac=_ratio(spend, campaign.new_customer_count),
            )
        )
    return rows
