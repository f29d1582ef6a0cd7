"""Pool KPIs against small hand-built pool histories; expected values worked out by hand.

Times are in Asia/Shanghai (the company zone in settings), so period edges are local midnights.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import DealStage, Source
from metrics.kpis import REGISTRY
from metrics.kpis import pool as pool_kpis
from metrics.periods import Grain, Period, Scope
from public_pool.models import PoolEventKind
from tests.factories import CustomerFactory, DealFactory, PoolFactory
from tests.metrics.factories import PoolEventFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MARCH = Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


def event(customer, kind, when, **fields):
    return PoolEventFactory(customer=customer, kind=kind, at=when, **fields)


def won(customer, when, amount="1000.00"):
    return DealFactory(customer=customer, stage=DealStage.WON, closed_at=when, amount=Decimal(amount))


# --- pool conversion ------------------------------------------------------------------------------


@pytest.fixture
def conversion_history(settings, rep, other_team_rep):
    """Claims around March 2025 with N = 10 days."""
    settings.METRICS_POOL_CONVERSION_DAYS = 10
    pool = PoolFactory()
    c1, c2, c3, c4, c5, c6 = (CustomerFactory(owner=rep) for _ in range(6))
    # c1: claimed at the very start of March (local midnight), won exactly 10 days later: converted.
    event(c1, PoolEventKind.CLAIM, at(2025, 3, 1), from_pool=pool, to_owner=rep)
    won(c1, at(2025, 3, 11))
    # c2: won 10 days and one second after the claim: too late.
    event(c2, PoolEventKind.CLAIM, at(2025, 3, 5, 10), from_pool=pool, to_owner=rep)
    won(c2, at(2025, 3, 15, 10, 0, 1))
    # c3: claimed in the last minute of March by another team; its only win predates the claim.
    won(c3, at(2025, 3, 1, 12))
    event(c3, PoolEventKind.CLAIM, at(2025, 3, 31, 23, 59), from_pool=pool, to_owner=other_team_rep)
    # c4: claimed at local midnight of April 1: outside March. c5: one second before March.
    event(c4, PoolEventKind.CLAIM, at(2025, 4, 1), from_pool=pool, to_owner=rep)
    won(c4, at(2025, 4, 2))
    event(c5, PoolEventKind.CLAIM, at(2025, 2, 28, 23, 59, 59), from_pool=pool, to_owner=rep)
    won(c5, at(2025, 3, 2))
    # c6: assigned by a manager (a take too), won two days later: converted.
    event(c6, PoolEventKind.ASSIGN, at(2025, 3, 10), from_pool=pool, to_owner=other_team_rep)
    won(c6, at(2025, 3, 12))
    # A release in March is not a take.
    event(c1, PoolEventKind.RELEASE, at(2025, 3, 20), from_owner=rep, to_pool=pool)
    return pool


def test_pool_conversion_counts_wins_within_n_days_of_claims_in_the_period(conversion_history):
    value = pool_kpis.pool_conversion(period=MARCH, scope=Scope.company())

    # Cohort c1, c2, c3, c6 (4); converted c1 (win exactly N days after) and c6 (2): 50 %.
    assert (value.value, value.numerator, value.denominator) == (Decimal("50.00"), 2, 4)
    assert value.detail["open"] == 0  # every window closed long ago
    assert (value.detail["claims"], value.detail["assigns"]) == (3, 1)


def test_pool_conversion_by_rep_team_and_pool(conversion_history, rep, other_team_rep):
    # rep took c1, c2 in March: 1 of 2. other_team_rep took c3, c6: 1 of 2 (c6).
    assert pool_kpis.pool_conversion(period=MARCH, scope=Scope.rep(rep.pk)).value == Decimal("50.00")
    team_value = pool_kpis.pool_conversion(period=MARCH, scope=Scope.team(other_team_rep.team_id))
    assert (team_value.numerator, team_value.denominator) == (1, 2)
    assert pool_kpis.pool_conversion(period=MARCH, scope=Scope.pool(conversion_history.pk)).denominator == 4


def test_pool_conversion_of_a_recent_cohort_shows_it_still_open(settings, rep):
    settings.METRICS_POOL_CONVERSION_DAYS = 10
    pool = PoolFactory()
    now = timezone.now()
    fresh, converted = CustomerFactory(owner=rep), CustomerFactory(owner=rep)
    event(fresh, PoolEventKind.CLAIM, now - dt.timedelta(days=3), from_pool=pool, to_owner=rep)
    event(converted, PoolEventKind.CLAIM, now - dt.timedelta(days=3), from_pool=pool, to_owner=rep)
    won(converted, now - dt.timedelta(days=1))
    today = timezone.localdate(now, SH)
    period = Period(today - dt.timedelta(days=5), today + dt.timedelta(days=1))

    value = pool_kpis.pool_conversion(period=period, scope=Scope.company())

    assert (value.value, value.detail["open"], value.detail["open_unconverted"]) == (Decimal("50.00"), 2, 1)


def test_pool_conversion_without_claims_is_no_data(conversion_history):
    assert (
        pool_kpis.pool_conversion(
            period=Period(dt.date(2024, 1, 1), dt.date(2024, 2, 1)), scope=Scope.company()
        ).value
        is None
    )


# --- time to claim --------------------------------------------------------------------------------


def test_time_to_claim_median_and_p90_from_the_latest_entry_before_each_claim(rep):
    pool = PoolFactory()
    c1, c2, c3, c4, c5 = (CustomerFactory(owner=rep) for _ in range(5))
    event(c1, PoolEventKind.IMPORT, at(2025, 2, 27), to_pool=pool)
    event(c1, PoolEventKind.CLAIM, at(2025, 3, 1), from_pool=pool, to_owner=rep)  # 48 h
    event(c1, PoolEventKind.RELEASE, at(2025, 3, 20), from_owner=rep, to_pool=pool)  # after: ignored
    event(c2, PoolEventKind.CREATE, at(2025, 1, 1), to_pool=pool)
    event(c2, PoolEventKind.CLAIM, at(2025, 2, 1), from_pool=pool, to_owner=rep)  # before March
    event(c2, PoolEventKind.RELEASE, at(2025, 3, 5, 8), from_owner=rep, to_pool=pool)
    event(c2, PoolEventKind.CLAIM, at(2025, 3, 5, 10), from_pool=pool, to_owner=rep)  # 2 h
    event(c3, PoolEventKind.CREATE, at(2025, 3, 31, 11, 59), to_pool=pool)
    event(c3, PoolEventKind.CLAIM, at(2025, 3, 31, 23, 59), from_pool=pool, to_owner=rep)  # 12 h
    event(c4, PoolEventKind.RECYCLE, at(2025, 3, 9), from_owner=rep, to_pool=pool)
    event(c4, PoolEventKind.ASSIGN, at(2025, 3, 10), from_pool=pool, to_owner=rep)  # 24 h
    event(c5, PoolEventKind.CLAIM, at(2025, 3, 15), from_pool=pool, to_owner=rep)  # no entry: left out

    with CaptureQueriesContext(connection) as queries:
        value = pool_kpis.time_to_claim(period=MARCH, scope=Scope.company())

    # Waits 2, 12, 24, 48 h: median (12 + 24) / 2 = 18; p90 at rank 0.9 x 3 = 2.7 → 24 + 0.7 x 24 = 40.8.
    assert value.value == Decimal("18.00")
    assert value.detail == {"p90": Decimal("40.80"), "claims": 4}
    assert len(queries) == 1


def test_time_to_claim_without_claims_is_no_data(rep):
    assert pool_kpis.time_to_claim(period=MARCH, scope=Scope.rep(rep.pk)).value is None


# --- claim rate -----------------------------------------------------------------------------------


def test_claim_rate_rolls_the_pool_stock_back_to_the_period_start(rep):
    pool, other_pool = PoolFactory(), PoolFactory()

    def pooled(into):
        return CustomerFactory(pooled=True, pool=into)

    a, b, c, d, e, f, g = (
        CustomerFactory(owner=rep),  # a: in the pool since February, claimed in March
        pooled(pool),  # b: in the pool since February, still there
        CustomerFactory(owner=rep),  # c: entered in March, claimed in March
        pooled(pool),  # d: entered in March, still there
        pooled(pool),  # e: entered in April
        pooled(pool),  # f: released into the pool in April
        CustomerFactory(owner=rep),  # g: in the pool since January, claimed in April
    )
    event(g, PoolEventKind.IMPORT, at(2025, 1, 1), to_pool=pool)
    event(a, PoolEventKind.IMPORT, at(2025, 2, 1), to_pool=pool)
    event(b, PoolEventKind.IMPORT, at(2025, 2, 15), to_pool=pool)
    event(c, PoolEventKind.CREATE, at(2025, 3, 5), to_pool=pool)
    event(a, PoolEventKind.CLAIM, at(2025, 3, 10), from_pool=pool, to_owner=rep)
    event(c, PoolEventKind.CLAIM, at(2025, 3, 20), from_pool=pool, to_owner=rep)
    event(d, PoolEventKind.CREATE, at(2025, 3, 25), to_pool=pool)
    event(e, PoolEventKind.IMPORT, at(2025, 4, 2), to_pool=pool)
    event(f, PoolEventKind.RELEASE, at(2025, 4, 3), from_owner=rep, to_pool=pool)
    event(g, PoolEventKind.CLAIM, at(2025, 4, 5), from_pool=pool, to_owner=rep)
    h = pooled(other_pool)
    event(h, PoolEventKind.IMPORT, at(2025, 2, 1), to_pool=other_pool)

    with CaptureQueriesContext(connection) as queries:
        in_pool = pool_kpis.claim_rate(period=MARCH, scope=Scope.pool(pool.pk))

    # At the start: a, b, g (3); entered in March: c, d (2); taken in March: a, c → 2 / 5 = 40 %.
    assert (in_pool.value, in_pool.numerator, in_pool.denominator) == (Decimal("40.00"), 2, 5)
    assert in_pool.detail == {"pooled_at_start": 3, "entered": 2}
    assert len(queries) == 2
    # The company adds h (in the other pool since February): 2 / 6.
    company = pool_kpis.claim_rate(period=MARCH, scope=Scope.company())
    assert (company.value, company.denominator) == (Decimal("33.33"), 6)


def test_claim_rate_of_an_empty_pool_is_no_data():
    assert pool_kpis.claim_rate(period=MARCH, scope=Scope.pool(PoolFactory().pk)).value is None


def test_claim_rate_is_not_applicable_per_rep(rep):
    figure = REGISTRY["claim_rate"](period=MARCH, scope=Scope.rep(rep.pk))
    assert (figure.value, figure.applicable) == (None, False)
    assert figure.reason  # says why, unlike "no data"


# --- stale stock ----------------------------------------------------------------------------------


def test_stale_stock_now_counts_and_lists_leads_pooled_longer_than_n_days(settings, rep):
    settings.METRICS_STALE_POOL_DAYS = 30
    pool, other_pool = PoolFactory(), PoolFactory()
    now = timezone.now()
    stale = CustomerFactory(pooled=True, pool=pool, pooled_at=now - dt.timedelta(days=31))
    older = CustomerFactory(pooled=True, pool=pool, pooled_at=now - dt.timedelta(days=45))
    CustomerFactory(pooled=True, pool=pool, pooled_at=now - dt.timedelta(days=29))
    elsewhere = CustomerFactory(pooled=True, pool=other_pool, pooled_at=now - dt.timedelta(days=40))
    CustomerFactory(owner=rep)
    this_month = Period.preset(Grain.MONTH)

    assert pool_kpis.stale_stock(period=this_month, scope=Scope.pool(pool.pk)).value == 2
    assert pool_kpis.stale_stock(period=this_month, scope=Scope.company()).value == 3
    assert list(pool_kpis.stale_leads(scope=Scope.pool(pool.pk), days=30)) == [older, stale]
    assert list(pool_kpis.stale_leads(scope=Scope.company(), days=35)) == [older, elsewhere]


def test_stale_stock_of_a_past_period_is_rebuilt_from_the_log(settings, rep):
    settings.METRICS_STALE_POOL_DAYS = 30
    pool = PoolFactory()
    x, y, z, w, edge = (CustomerFactory(owner=rep) for _ in range(5))
    event(x, PoolEventKind.IMPORT, at(2024, 12, 1), to_pool=pool)  # stale at 1 Feb
    event(y, PoolEventKind.IMPORT, at(2025, 1, 15), to_pool=pool)  # 17 days: not stale
    event(z, PoolEventKind.IMPORT, at(2024, 11, 1), to_pool=pool)
    event(z, PoolEventKind.CLAIM, at(2025, 1, 10), from_pool=pool, to_owner=rep)  # owned at the end
    event(w, PoolEventKind.IMPORT, at(2024, 12, 1), to_pool=pool)
    event(w, PoolEventKind.CLAIM, at(2025, 3, 1), from_pool=pool, to_owner=rep)  # claimed after the end
    event(edge, PoolEventKind.IMPORT, at(2025, 1, 2), to_pool=pool)  # exactly 30 days: not "more than"
    january = Period(dt.date(2025, 1, 1), dt.date(2025, 2, 1))

    assert pool_kpis.stale_stock(period=january, scope=Scope.pool(pool.pk)).value == 2  # x, w
    assert pool_kpis.stale_stock(period=january, scope=Scope.pool(PoolFactory().pk)).value == 0


# --- recycle rate ---------------------------------------------------------------------------------


def test_recycle_rate_is_the_share_of_the_leads_taken_that_were_recycled_from_their_taker(
    settings, rep, other_rep
):
    settings.METRICS_POOL_CONVERSION_DAYS = 30
    pool = PoolFactory()
    a, c, d = (CustomerFactory(owner=other_rep) for _ in range(3))
    event(d, PoolEventKind.CLAIM, at(2025, 2, 10), from_pool=pool, to_owner=rep)  # February cohort
    event(a, PoolEventKind.CLAIM, at(2025, 3, 1), from_pool=pool, to_owner=rep)
    event(a, PoolEventKind.RECYCLE, at(2025, 3, 5), from_owner=rep, to_pool=pool)
    event(a, PoolEventKind.CLAIM, at(2025, 3, 10), from_pool=pool, to_owner=other_rep)
    event(c, PoolEventKind.CLAIM, at(2025, 3, 12), from_pool=pool, to_owner=rep)
    event(d, PoolEventKind.RECYCLE, at(2025, 3, 5), from_owner=rep, to_pool=pool)  # 23 days
    event(c, PoolEventKind.RECYCLE, at(2025, 4, 20), from_owner=rep, to_pool=pool)  # 39 days: too late

    company = pool_kpis.recycle_rate(period=MARCH, scope=Scope.company())
    mine = pool_kpis.recycle_rate(period=MARCH, scope=Scope.rep(rep.pk))
    theirs = pool_kpis.recycle_rate(period=MARCH, scope=Scope.rep(other_rep.pk))
    february = pool_kpis.recycle_rate(
        period=Period(dt.date(2025, 2, 1), dt.date(2025, 3, 1)), scope=Scope.company()
    )

    # March cohort: a and c (a taken twice counts once); a was recycled from rep in 4 days,
    # c only after 39 days; d's recycle belongs to February's cohort → 1 of 2.
    assert (company.value, company.numerator, company.denominator) == (Decimal("50.00"), 1, 2)
    assert (mine.value, mine.numerator, mine.denominator) == (Decimal("50.00"), 1, 2)
    assert (theirs.value, theirs.denominator) == (Decimal("0.00"), 1)  # other_rep still holds a
    assert (february.value, february.numerator, february.denominator) == (Decimal("100.00"), 1, 1)


def test_recycle_rate_is_never_above_100_percent(settings, rep):
    """Many recycles in a period of leads taken long before (the old formula: recycled in the
    period ÷ taken in the period, 691.7 % on the demo) stay in their own cohorts."""
    pool = PoolFactory()
    old = [CustomerFactory(owner=rep) for _ in range(7)]
    for customer in old:
        event(customer, PoolEventKind.CLAIM, at(2025, 2, 20), from_pool=pool, to_owner=rep)
        event(customer, PoolEventKind.RECYCLE, at(2025, 3, 3), from_owner=rep, to_pool=pool)
    fresh = CustomerFactory(owner=rep)
    event(fresh, PoolEventKind.CLAIM, at(2025, 3, 4), from_pool=pool, to_owner=rep)
    event(fresh, PoolEventKind.RECYCLE, at(2025, 3, 9), from_owner=rep, to_pool=pool)
    event(fresh, PoolEventKind.CLAIM, at(2025, 3, 10), from_pool=pool, to_owner=rep)
    event(fresh, PoolEventKind.RECYCLE, at(2025, 3, 20), from_owner=rep, to_pool=pool)

    for scope in (Scope.company(), Scope.rep(rep.pk), Scope.pool(pool.pk)):
        march = pool_kpis.recycle_rate(period=MARCH, scope=scope)
        assert (march.value, march.numerator, march.denominator) == (Decimal("100.00"), 1, 1)


def test_pool_conversion_counts_only_the_takers_own_win(rep, other_rep):
    """The issue's scenario: A claims on 1 March and releases on 2 March; B claims on 3 March
    and wins on 20 March. The win is B's: A 0 %, B 100 %, the company 1 lead of 1."""
    pool = PoolFactory()
    lead = CustomerFactory(owner=other_rep)
    event(lead, PoolEventKind.CLAIM, at(2025, 3, 1, 10), from_pool=pool, to_owner=rep)
    event(lead, PoolEventKind.RELEASE, at(2025, 3, 2, 10), from_owner=rep, to_pool=pool)
    event(lead, PoolEventKind.CLAIM, at(2025, 3, 3, 10), from_pool=pool, to_owner=other_rep)
    DealFactory(
        customer=lead, owner=other_rep, stage=DealStage.WON, closed_at=at(2025, 3, 20), amount=Decimal(1)
    )

    a = pool_kpis.pool_conversion(period=MARCH, scope=Scope.rep(rep.pk))
    b = pool_kpis.pool_conversion(period=MARCH, scope=Scope.rep(other_rep.pk))
    company = pool_kpis.pool_conversion(period=MARCH, scope=Scope.company())

    assert (a.value, a.numerator, a.denominator) == (Decimal("0.00"), 0, 1)
    assert (b.value, b.numerator, b.denominator) == (Decimal("100.00"), 1, 1)
    # the lead counts once (two takes, one lead), converted by its second taker
    assert (company.value, company.numerator, company.denominator) == (Decimal("100.00"), 1, 1)


def test_a_transfer_ends_the_takers_claim_on_a_later_win(rep, other_rep):
    pool = PoolFactory()
    lead = CustomerFactory(owner=other_rep)
    event(lead, PoolEventKind.CLAIM, at(2025, 3, 1), from_pool=pool, to_owner=rep)
    event(lead, PoolEventKind.TRANSFER, at(2025, 3, 5), from_owner=rep, to_owner=other_rep)
    won(lead, at(2025, 3, 6))

    assert pool_kpis.pool_conversion(period=MARCH, scope=Scope.rep(rep.pk)).value == Decimal("0.00")


def test_recycle_rate_without_takes_is_no_data(rep):
    pool = PoolFactory()
    customer = CustomerFactory(owner=rep)
    event(customer, PoolEventKind.RECYCLE, at(2025, 3, 5), from_owner=rep, to_pool=pool)

    assert pool_kpis.recycle_rate(period=MARCH, scope=Scope.company()).value is None


def test_channel_scope_filters_on_the_customer_source(rep):
    pool = PoolFactory()
    web = CustomerFactory(owner=rep, source=Source.WEBSITE)
    fair = CustomerFactory(owner=rep, source=Source.TRADE_SHOW)
    event(web, PoolEventKind.CLAIM, at(2025, 3, 2), from_pool=pool, to_owner=rep)
    event(fair, PoolEventKind.CLAIM, at(2025, 3, 3), from_pool=pool, to_owner=rep)
    won(web, at(2025, 3, 4))

    assert pool_kpis.pool_conversion(period=MARCH, scope=Scope.channel(Source.WEBSITE)).value == Decimal(
        "100.00"
    )
    assert pool_kpis.pool_conversion(period=MARCH, scope=Scope.channel(Source.TRADE_SHOW)).value == Decimal(
        "0.00"
    )
