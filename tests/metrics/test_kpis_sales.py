"""Sales KPIs against small hand-built histories; every expected value is worked out here.

The period is April 2025 in the company time zone (Asia/Shanghai): something at 23:59 local
on 30 April is in, at 00:00 on 1 May is out. Tests marked with ``rolled`` run twice: on the
raw rows only (everything live), and after the whole history was rolled up.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers.models import CampaignSpend, DealStage, FollowUpKind, Source
from metrics.kpis import REGISTRY, load
from metrics.kpis import sales as kpis
from metrics.periods import Period, Scope
from metrics.services import rollups as rollups_services
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, PoolFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
APRIL = Period(dt.date(2025, 4, 1), dt.date(2025, 5, 1))
MARCH = Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))


def local(day: str, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


def won(customer, day, clock="10:00", amount="1000", owner=None):
    """A won deal; the customer's ``first_won_at`` kept as the services keep it."""
    at = local(day, clock)
    deal = DealFactory(customer=customer, owner=owner or customer.owner, stage=DealStage.WON, amount=Decimal(amount), closed_at=at)  # fmt: skip
    if customer.first_won_at is None or at < customer.first_won_at:
        customer.first_won_at = at
        customer.save(update_fields=["first_won_at"])
    return deal


def lost(customer, day, clock="10:00"):
    return DealFactory(customer=customer, stage=DealStage.LOST, closed_at=local(day, clock))


def roll_everything():
    rollups_services.rollup_days(since=dt.date(2024, 1, 1), until=dt.date(2025, 5, 31))


@pytest.fixture(params=["live", "rolled"])
def rolled(request):
    """Call after building the history: rolls it up in the "rolled" run."""
    return roll_everything if request.param == "rolled" else lambda: None


def customer(owner, created="2025-01-01", **fields):
    return CustomerFactory(owner=owner, created_at=local(created), **fields)


# --- conversion ---------------------------------------------------------------------------------


def conversion_history(rep):
    worked = [customer(rep, source=Source.WEBSITE) for _ in range(4)]
    for c in worked:
        FollowUpFactory(customer=c, at=local("2025-04-05"))
    won(worked[0], "2025-04-10")  # new in April, worked
    won(worked[1], "2025-03-10")  # paying since March: not new in April
    late = customer(rep, source=Source.REFERRAL)
    won(late, "2025-04-30", "23:59")  # new in April (last minute), not worked in April
    too_late = customer(rep, source=Source.REFERRAL)
    won(too_late, "2025-05-01", "00:00")  # May
    return worked, late, too_late


def test_customer_conversion_is_new_customers_over_customers_worked(rep, other_team_rep, rolled):
    conversion_history(rep)
    rolled()

    value = kpis.customer_conversion(period=APRIL, scope=Scope.rep(rep.pk))
    nobody = kpis.customer_conversion(period=APRIL, scope=Scope.rep(other_team_rep.pk))

    # new: worked[0] and late = 2; worked: the four with an April follow-up = 4
    assert (value.value, value.numerator, value.denominator) == (Decimal("50.00"), 2, 4)
    assert (nobody.value, nobody.numerator, nobody.denominator) == (None, 0, 0)
    # the website channel: worked[0] is new (late came by referral); all four worked are website's
    website = kpis.customer_conversion(period=APRIL, scope=Scope.channel(Source.WEBSITE))
    assert (website.value, website.numerator, website.denominator) == (Decimal("25.00"), 1, 4)


def test_new_customers_by_channel_and_acquisition_rate(rep, other_team_rep, team, rolled):
    conversion_history(rep)
    rolled()

    new = kpis.new_customers(period=APRIL, scope=Scope.team(team.pk))
    rate = kpis.acquisition_rate(period=APRIL, scope=Scope.company())
    empty = kpis.acquisition_rate(period=APRIL, scope=Scope.rep(other_team_rep.pk))

    assert new.value == 2
    assert new.detail["by_channel"] == {"website": 1, "referral": 1}
    # paying at the end of April: worked[0], worked[1], late = 3; new in April: 2 -> 2/3
    assert (rate.value, rate.numerator, rate.denominator) == (Decimal("66.67"), 2, 3)
    assert empty.value is None


# --- sales --------------------------------------------------------------------------------------


def test_sales_and_sales_growth_by_won_date(rep, rolled):
    c = customer(rep)
    won(c, "2025-03-31", "23:59", amount="1000")  # March
    won(c, "2025-04-01", "00:00", amount="1500")  # April
    won(c, "2025-04-30", "23:59", amount="500")  # April
    won(c, "2025-05-01", "00:00", amount="300")  # May
    rolled()

    april = kpis.sales(period=APRIL, scope=Scope.company())
    growth = kpis.sales_growth(period=APRIL, scope=Scope.rep(rep.pk))
    march_growth = kpis.sales_growth(period=MARCH, scope=Scope.company())  # February sold nothing

    assert april.value == Decimal("2000.00")
    assert april.detail == {"deals_won": 2}
    # (2000 - 1000) / 1000 = 100 %
    assert (growth.value, growth.numerator, growth.denominator) == (Decimal("100.00"), Decimal("1000.00"), Decimal("1000.00"))  # fmt: skip
    assert march_growth.value is None


def test_win_rate_counts_deals_closed_in_the_period(rep, other_team_rep, rolled):
    c = customer(rep)
    won(c, "2025-04-02")
    won(c, "2025-04-15")
    won(c, "2025-04-30", "23:59")
    lost(c, "2025-04-20")
    lost(c, "2025-05-01", "00:00")  # May
    lost(c, "2025-03-31", "23:59")  # March
    rolled()

    rate = kpis.win_rate(period=APRIL, scope=Scope.rep(rep.pk))

    assert (rate.value, rate.numerator, rate.denominator) == (Decimal("75.00"), 3, 4)
    assert kpis.win_rate(period=APRIL, scope=Scope.rep(other_team_rep.pk)).value is None


def test_followups_by_kind(rep, rolled):
    c = customer(rep)
    FollowUpFactory(customer=c, kind=FollowUpKind.CALL, at=local("2025-04-01", "00:00"))
    FollowUpFactory(customer=c, kind=FollowUpKind.CALL, at=local("2025-04-30", "23:59"))
    FollowUpFactory(customer=c, kind=FollowUpKind.VISIT, at=local("2025-04-09"))
    FollowUpFactory(customer=c, kind=FollowUpKind.CALL, at=local("2025-05-01", "00:00"))  # May
    rolled()

    value = kpis.followups(period=APRIL, scope=Scope.rep(rep.pk))

    assert value.value == 3
    assert value.detail["by_kind"] == {"call": 2, "visit": 1, "email": 0, "meeting": 0, "message": 0}


# --- the customer base --------------------------------------------------------------------------


def test_retention_and_churn_with_the_activity_window_edges(rep, other_rep, team):
    # Period end 2025-05-01 00:00; window 365 days: active = a won deal since 2024-05-01 00:00.
    a = customer(rep, created="2024-01-01")
    won(a, "2024-06-01")  # active
    b = customer(rep, created="2024-01-01")
    won(b, "2024-04-15")  # lapsed
    c = customer(rep, created="2024-01-01")
    won(c, "2024-03-01")
    won(c, "2025-04-20")  # came back in April: active
    e = customer(rep, created="2024-01-01")
    won(e, "2024-05-01", "00:00")  # first moment of the window: active
    f = customer(rep, created="2024-01-01")
    won(f, "2024-04-30", "23:59")  # last moment before it: lapsed
    d = customer(rep, created="2024-01-01")
    won(d, "2025-04-05")  # paying only since April: not in the base

    retention = kpis.retention(period=APRIL, scope=Scope.team(team.pk))
    churn = kpis.churn(period=APRIL, scope=Scope.rep(rep.pk))

    # base: a, b, c, e, f = 5; active: a, c, e = 3
    assert (retention.value, retention.numerator, retention.denominator) == (Decimal("60.00"), 3, 5)
    assert (churn.value, churn.numerator, churn.denominator) == (Decimal("40.00"), 2, 5)
    assert kpis.retention(period=APRIL, scope=Scope.rep(other_rep.pk)).value is None
    assert kpis.churn(period=APRIL, scope=Scope.rep(other_rep.pk)).value is None


def test_retention_window_is_a_setting(rep, settings):
    settings.METRICS_RETENTION_WINDOW_DAYS = 30
    a = customer(rep, created="2024-01-01")
    won(a, "2024-06-01")
    b = customer(rep, created="2024-01-01")
    won(b, "2024-06-01")
    won(b, "2025-04-01", "00:00")

    assert kpis.retention(period=APRIL, scope=Scope.company()).value == Decimal("50.00")


def test_repurchase_counts_paying_customers_with_two_won_deals_by_period_end(rep, other_team_rep):
    one = customer(rep)
    won(one, "2025-02-01")
    two = customer(rep)
    won(two, "2025-02-01")
    won(two, "2025-04-30", "23:59")
    later = customer(rep)
    won(later, "2025-03-01")
    won(later, "2025-05-01", "00:00")  # the second one falls after the period

    value = kpis.repurchase(period=APRIL, scope=Scope.rep(rep.pk))

    assert (value.value, value.numerator, value.denominator) == (Decimal("33.33"), 1, 3)
    assert kpis.repurchase(period=APRIL, scope=Scope.rep(other_team_rep.pk)).value is None


def test_clv_is_average_deal_times_purchases_per_year_times_lifespan_and_margin(rep, settings, rolled):
    settings.METRICS_CLV_LIFESPAN_YEARS = 2
    settings.METRICS_CLV_GROSS_MARGIN = 0.5
    first, second, third = customer(rep), customer(rep), customer(rep)
    won(first, "2025-04-10", amount="1500")
    won(first, "2025-04-20", amount="300")
    won(second, "2025-04-30", "23:59", amount="500")
    won(second, "2025-05-01", "00:00", amount="9999")  # after April's end: not in April's year
    won(third, "2024-05-01", "00:00", amount="700")  # the first minute of the year to April's end
    won(third, "2024-04-30", "23:59", amount="8888")  # a minute too early
    rolled()

    value = kpis.clv(period=APRIL, scope=Scope.company())

    # The year 2024-05-01 .. 2025-04-30: 3000 won by 3 buyers in 4 deals:
    # 1000 a buyer x 2 years x 0.5 margin = 1000.
    assert (value.value, value.numerator, value.denominator) == (Decimal("1000.00"), Decimal("3000.00"), 3)
    assert value.detail["average_deal"] == Decimal("750.00")  # 3000 / 4
    assert value.detail["purchases_per_year"] == Decimal("1.33")  # 4 / 3
    # A week ending with April reads the same year: the same figure, whatever the period's length.
    last_week = Period(dt.date(2025, 4, 24), dt.date(2025, 5, 1))
    assert kpis.clv(period=last_week, scope=Scope.company()).value == Decimal("1000.00")
    # The year to 2024-04-01 holds no won deal.
    assert (
        kpis.clv(period=Period(dt.date(2024, 3, 1), dt.date(2024, 4, 1)), scope=Scope.company()).value is None
    )


def test_cac_is_spend_plus_costs_over_new_customers(rep, other_rep, settings):
    from customers.models import Campaign

    campaign = Campaign.objects.create(
        name="Spring fair",
        channel=Source.WEBSITE,
        starts_on=dt.date(2025, 3, 1),
        ends_on=dt.date(2025, 4, 30),
    )
    CampaignSpend.objects.create(campaign=campaign, month=dt.date(2025, 3, 1), amount=Decimal("3100"))
    CampaignSpend.objects.create(campaign=campaign, month=dt.date(2025, 4, 1), amount=Decimal("3000"))
    web, ref = customer(rep, source=Source.WEBSITE), customer(rep, source=Source.REFERRAL)
    won(web, "2025-04-10")
    won(ref, "2025-04-20")

    april = kpis.cac(period=APRIL, scope=Scope.company())
    first_half = kpis.cac(period=Period(dt.date(2025, 4, 1), dt.date(2025, 4, 16)), scope=Scope.company())
    website = kpis.cac(period=APRIL, scope=Scope.channel(Source.WEBSITE))
    settings.METRICS_CAC_LABOUR_COST_PER_REP_MONTH = 1000
    type(rep).objects.filter(pk=rep.pk).update(date_joined=local("2025-01-01"))
    type(rep).objects.filter(pk=other_rep.pk).update(date_joined=local("2025-04-16"))
    with_labour = kpis.cac(period=APRIL, scope=Scope.company())
    march_labour = kpis.cac(period=MARCH, scope=Scope.company())

    assert (april.value, april.numerator, april.denominator) == (Decimal("1500.00"), Decimal("3000.00"), 2)
    # 15 of April's 30 days: 1500 spent; one new customer (web on the 10th)
    assert (first_half.value, first_half.denominator) == (Decimal("1500.00"), 1)
    assert (website.value, website.denominator) == (Decimal("3000.00"), 1)
    # labour, prorated by days like spend: rep all April (1000) + other_rep from the 16th
    # (15 of 30 days: 500); (3000 + 1500) / 2 new customers
    assert with_labour.detail["labour"] == Decimal("1500.00")
    assert with_labour.value == Decimal("2250.00")
    # March: only rep was there (1000); 3100 spent; nobody new -> no data, costs still shown
    assert (march_labour.value, march_labour.numerator) == (None, Decimal("4100.00"))
    load()
    per_rep = REGISTRY["cac"](period=APRIL, scope=Scope.rep(rep.pk))
    assert (per_rep.value, per_rep.applicable) == (None, False)  # not applicable, not "no data"
    assert "not per team, rep or pool" in str(per_rep.reason)


# --- the sales process --------------------------------------------------------------------------


def test_sales_cycle_median_days_from_claim_or_creation_to_won(rep, other_rep, team):
    pool = PoolFactory()
    claimed = customer(rep, created="2025-01-01")
    PoolEvent.objects.create(
        customer=claimed, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=local("2025-04-01")
    )
    won(claimed, "2025-04-11")  # 10 days after the claim
    won(claimed, "2025-04-21")  # 20 days
    created = CustomerFactory(owner=other_rep, created_at=local("2025-04-25", "22:00"))
    won(created, "2025-04-30", "22:00")  # never claimed: 5 days from creation
    won(created, "2025-05-01", "00:00")  # May

    team_cycle = kpis.sales_cycle(period=APRIL, scope=Scope.team(team.pk))
    rep_cycle = kpis.sales_cycle(period=APRIL, scope=Scope.rep(rep.pk))

    # 5, 10, 20: median 10; p90 interpolated at 0.9 x 2 = 1.8: 10 + 0.8 x 10 = 18
    assert (team_cycle.value, team_cycle.detail["p90"], team_cycle.denominator) == (Decimal("10.00"), Decimal("18.00"), 3)  # fmt: skip
    # 10, 20: median 15 (mean of the middle two)
    assert rep_cycle.value == Decimal("15.00")
    assert kpis.sales_cycle(period=MARCH, scope=Scope.company()).value is None


def test_first_response_median_hours_from_claim_to_the_takers_first_followup(rep, other_rep):
    pool = PoolFactory()
    x, y, z, late = (customer(rep) for _ in range(4))
    FollowUpFactory(customer=x, by=rep, at=local("2025-03-30"))  # before the claim: ignored
    PoolEvent.objects.create(customer=x, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=local("2025-04-01", "09:00"))  # fmt: skip
    FollowUpFactory(customer=x, by=rep, at=local("2025-04-01", "11:00"))  # 2 h
    FollowUpFactory(customer=x, by=rep, at=local("2025-04-01", "12:00"))
    PoolEvent.objects.create(customer=y, kind=PoolEventKind.ASSIGN, from_pool=pool, to_owner=rep, at=local("2025-04-02", "09:00"))  # fmt: skip
    FollowUpFactory(customer=y, by=other_rep, at=local("2025-04-02", "10:00"))  # not the taker
    FollowUpFactory(customer=y, by=rep, at=local("2025-04-03", "09:00"))  # 24 h
    PoolEvent.objects.create(customer=z, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=local("2025-04-30", "23:59"))  # fmt: skip
    PoolEvent.objects.create(customer=late, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=local("2025-05-01", "00:00"))  # fmt: skip
    FollowUpFactory(customer=late, by=rep, at=local("2025-05-01", "01:00"))

    value = kpis.first_response(period=APRIL, scope=Scope.rep(rep.pk))
    by_pool = kpis.first_response(period=APRIL, scope=Scope.pool(pool.pk))

    # 2 h and 24 h: median 13 h, p90 24 h; z (claimed 23:59 on the 30th) has no follow-up yet
    assert (value.value, value.denominator) == (Decimal("13.00"), 2)
    # interpolated p90 of 2 h and 24 h: 2 + 0.9 x 22 = 21.8
    assert value.detail == {"p90": Decimal("21.80"), "answered": 2, "without_followup": 1}
    assert by_pool.value == Decimal("13.00")
    assert kpis.first_response(period=MARCH, scope=Scope.company()).value is None


def test_the_leaderboard_reads_the_kpi_implementations(rep, other_rep, team):
    """Each leaderboard row's first response, sales cycle and conversion are the KPIs for that
    rep's scope (one implementation, grouped by person), interpolated medians included."""
    from metrics import selectors

    pool = PoolFactory()
    for hours, person in ((2, rep), (5, rep), (9, rep), (4, other_rep)):
        lead = customer(person, created="2025-01-01")
        take = local("2025-04-02", f"{hours:02d}:00")
        PoolEvent.objects.create(
            customer=lead, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=person, at=take
        )
        FollowUpFactory(customer=lead, by=person, at=take + dt.timedelta(hours=hours))
        won(lead, f"2025-04-{10 + hours:02d}")

    rows = {row.rep.pk: row for row in selectors.leaderboard(period=APRIL, scope=Scope.team(team.pk))}

    for person in (rep, other_rep):
        scope = Scope.rep(person.pk)
        assert rows[person.pk].first_response_hours == kpis.first_response(period=APRIL, scope=scope).value
        assert rows[person.pk].sales_cycle_days == kpis.sales_cycle(period=APRIL, scope=scope).value
        assert rows[person.pk].conversion == kpis.customer_conversion(period=APRIL, scope=scope).value
    assert rows[rep.pk].first_response_hours == Decimal("5.00")  # 2, 5, 9 h
