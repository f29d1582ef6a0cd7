"""Campaign effectiveness and CAC by channel (the CAC KPI per channel), worked by hand."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import Customer, DealStage, Source
from metrics import campaigns, dashboard
from metrics.kpis import sales as kpis
from metrics.periods import Period, Scope
from tests.factories import CustomerFactory, DealFactory
from tests.metrics.factories import CampaignFactory, CampaignParticipantFactory, CampaignSpendFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MARCH = Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


def attributed(owner, campaign, *, created, first_won=None, source=Source.ADVERTISING):
    customer = CustomerFactory(owner=owner, campaign=campaign, created_at=created, source=source)
    if first_won:
        Customer.objects.filter(pk=customer.pk).update(first_won_at=first_won)
    return customer


@pytest.fixture
def history(rep):
    spring = CampaignFactory(
        name="Spring fair",
        channel=Source.ADVERTISING,
        budget=Decimal(10000),
        target_leads=4,
        target_sales=Decimal(50000),
        starts_on=dt.date(2025, 3, 1),
        ends_on=dt.date(2025, 3, 31),
    )
    for month, amount in (
        (dt.date(2025, 2, 1), 1000),
        (dt.date(2025, 3, 1), 4000),
        (dt.date(2025, 4, 1), 500),
    ):
        CampaignSpendFactory(campaign=spring, month=month, amount=Decimal(amount))
    # Leads created in March: c1, c2 (c3 came in February). New customers in March: c1, c3.
    c1 = attributed(rep, spring, created=at(2025, 3, 1), first_won=at(2025, 3, 20))
    c2 = attributed(rep, spring, created=at(2025, 3, 31, 23, 59))
    c3 = attributed(rep, spring, created=at(2025, 2, 28, 23, 59), first_won=at(2025, 3, 2))
    DealFactory(customer=c1, stage=DealStage.WON, closed_at=at(2025, 3, 20), amount=Decimal(10000))
    DealFactory(customer=c3, stage=DealStage.WON, closed_at=at(2025, 3, 2), amount=Decimal(6000))
    DealFactory(customer=c3, stage=DealStage.WON, closed_at=at(2025, 4, 1), amount=Decimal(7000))  # April
    DealFactory(customer=c2, stage=DealStage.LOST, closed_at=at(2025, 3, 25), amount=Decimal(8000))
    # Participants who joined in March: 3 (one joined a minute before March).
    for customer, joined in ((c1, at(2025, 3, 1)), (c2, at(2025, 3, 5)), (c3, at(2025, 3, 31, 23, 59))):
        CampaignParticipantFactory(campaign=spring, customer=customer, joined_at=joined)
    CampaignParticipantFactory(campaign=spring, joined_at=at(2025, 2, 28, 23, 59))
    # A website campaign running in March with no budget, no spend and nothing attributed.
    quiet = CampaignFactory(
        name="Landing page",
        channel=Source.WEBSITE,
        budget=Decimal(0),
        starts_on=dt.date(2025, 3, 10),
        ends_on=dt.date(2025, 5, 1),
    )
    # Ended in 2024 but paid in March; and one from 2024 with nothing in March (not listed).
    late_bill = CampaignFactory(
        name="Autumn show",
        channel=Source.TRADE_SHOW,
        budget=Decimal(1200),
        starts_on=dt.date(2024, 10, 1),
        ends_on=dt.date(2024, 10, 31),
    )
    CampaignSpendFactory(campaign=late_bill, month=dt.date(2025, 3, 1), amount=Decimal(600))
    CampaignFactory(name="Old", starts_on=dt.date(2024, 1, 1), ends_on=dt.date(2024, 1, 31))
    # A website customer won in March without a campaign (counts for CAC by channel only).
    CustomerFactory(owner=rep, source=Source.WEBSITE, first_won_at=at(2025, 3, 15))
    return spring, quiet, late_bill


def test_effectiveness_rows(history):
    with CaptureQueriesContext(connection) as queries:
        rows = campaigns.effectiveness(period=MARCH)

    assert len(queries) == 2  # the campaigns with their counts; the spend rows, prorated
    by_name = {row.campaign.name: row for row in rows}
    assert list(by_name) == ["Landing page", "Spring fair", "Autumn show"]  # newest first
    row = by_name["Spring fair"]
    assert (row.participants, row.leads, row.new_customers) == (3, 2, 2)
    assert (row.sales, row.spend, row.budget) == (Decimal(16000), Decimal(4000), Decimal(10000))
    assert row.goal_attainment == Decimal("50.00")  # 2 leads / 4 target
    assert row.sales_attainment == Decimal("32.00")  # 16000 / 50000
    assert row.budget_execution == Decimal("40.00")  # 4000 / 10000
    assert row.roi == Decimal("300.00")  # (16000 - 4000) / 4000
    assert row.cac == Decimal("2000.00")  # 4000 / 2


def test_effectiveness_zero_denominators_are_no_data(history):
    rows = {row.campaign.name: row for row in campaigns.effectiveness(period=MARCH)}

    quiet = rows["Landing page"]
    assert (quiet.participants, quiet.leads, quiet.new_customers, quiet.sales, quiet.spend) == (
        0,
        0,
        0,
        Decimal(0),
        Decimal(0),
    )
    assert (quiet.goal_attainment, quiet.sales_attainment, quiet.budget_execution, quiet.roi, quiet.cac) == (
        None,
        None,
        None,
        None,
        None,
    )
    late = rows["Autumn show"]
    assert (late.spend, late.budget_execution, late.roi, late.cac) == (
        Decimal(600),
        Decimal("50.00"),
        Decimal("-100.00"),
        None,
    )


def test_effectiveness_filters_by_channel(history):
    rows = campaigns.effectiveness(period=MARCH, channel=Source.WEBSITE)

    assert [row.campaign.name for row in rows] == ["Landing page"]


def test_cac_by_channel_is_the_cac_kpi_per_channel(history):
    rows = dict(dashboard.cac_by_channel(period=MARCH))

    assert set(rows) == {
        str(Source(s).label) for s in (Source.WEBSITE, Source.TRADE_SHOW, Source.ADVERTISING)
    }
    # Advertising: spend 4000, new customers c1 and c3 → 2000.
    advertising = rows[str(Source.ADVERTISING.label)]
    assert (advertising.numerator, advertising.denominator, advertising.value) == (
        Decimal("4000.00"),
        2,
        Decimal("2000.00"),
    )
    # Website: no spend, one new customer → 0. Trade show: 600 spent, nobody new → no data.
    website = rows[str(Source.WEBSITE.label)]
    assert (website.numerator, website.denominator, website.value) == (Decimal(0), 1, Decimal("0.00"))
    trade_show = rows[str(Source.TRADE_SHOW.label)]
    assert (trade_show.denominator, trade_show.value) == (0, None)
    for source in (Source.WEBSITE, Source.TRADE_SHOW, Source.ADVERTISING):
        assert rows[str(source.label)] == kpis.cac(period=MARCH, scope=Scope.channel(source))


def test_cac_first_half_of_april_is_1500_in_the_kpi_and_the_table(rep):
    """3,000 spent in April, one new customer on the 10th: 1–15 April carries 15 of April's 30
    days of the spend, 1,500, in the CAC KPI and in the CAC-by-channel table alike (the table
    used to charge the whole month to the period holding its first day: 3,000)."""
    spring = CampaignFactory(
        channel=Source.ADVERTISING, starts_on=dt.date(2025, 4, 1), ends_on=dt.date(2025, 4, 30)
    )
    CampaignSpendFactory(campaign=spring, month=dt.date(2025, 4, 1), amount=Decimal(3000))
    attributed(rep, spring, created=at(2025, 4, 1), first_won=at(2025, 4, 10))
    first_half = Period(dt.date(2025, 4, 1), dt.date(2025, 4, 16))

    company = kpis.cac(period=first_half, scope=Scope.company())
    channel = kpis.cac(period=first_half, scope=Scope.channel(Source.ADVERTISING))
    ((label, table),) = dashboard.cac_by_channel(period=first_half)
    (campaign_row,) = campaigns.effectiveness(period=first_half)

    assert company.value == channel.value == table.value == Decimal("1500.00")
    assert campaign_row.spend == Decimal("1500.00")
    assert label == str(Source.ADVERTISING.label)


def test_empty_period_has_no_rows():
    assert campaigns.effectiveness(period=Period(dt.date(2020, 1, 1), dt.date(2020, 2, 1))) == []
    assert dashboard.cac_by_channel(period=Period(dt.date(2020, 1, 1), dt.date(2020, 2, 1))) == []
