"""The current period: the distinct and median KPIs read the closed days' inputs from the cache
(kept per day) and only today's live, and the figures equal the ones computed in one query."""

import datetime as dt
from decimal import Decimal
from typing import cast

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Campaign, Customer, DealStage
from metrics.kpis import pool as pool_kpis
from metrics.kpis import sales as sales_kpis
from metrics.periods import Grain, Period, Scope, local_today, start_of_day
from public_pool.models import PoolEventKind
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, PoolFactory
from tests.metrics.factories import PoolEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def _history(rep, days: int) -> Period:
    """Follow-ups, won deals and claims on each of the last ``days`` days and today, some at
    00:00 local time; answers the period from the first of those days through today."""
    today = local_today()
    first = today - dt.timedelta(days=days)
    pool = PoolFactory()
    for offset in range(days + 1):
        day = first + dt.timedelta(days=offset)
        midnight = start_of_day(day)
        moment = min(
            midnight + dt.timedelta(hours=offset % 20), timezone.now() - dt.timedelta(seconds=offset + 1)
        )
        moment = max(moment, midnight)
        for n in range(offset % 3 + 1):
            customer = CustomerFactory(owner=rep, created_at=midnight - dt.timedelta(days=n + offset))
            FollowUpFactory(customer=customer, by=rep, at=moment)
            claimed = midnight - dt.timedelta(hours=5 * n + offset, minutes=30)
            entered = claimed - dt.timedelta(hours=n + offset + 1)
            PoolEventFactory(customer=customer, kind=PoolEventKind.CREATE, to_pool=pool, at=entered)
            PoolEventFactory(
                customer=customer, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=claimed
            )
            DealFactory(
                customer=customer, owner=rep, stage=DealStage.WON, amount=Decimal(100), closed_at=moment
            )
    return Period(first, today + dt.timedelta(days=1))


def _in_one_query(monkeypatch, function, **arguments):
    """The figure as a closed period computes it (one statement over every day)."""
    monkeypatch.setattr(Period, "contains_today", lambda self: False)
    try:
        return function(**arguments)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("scope_kind", ["company", "team", "rep"])
def test_current_period_figures_equal_the_one_query_figures(monkeypatch, rep, scope_kind):
    period = _history(rep, days=6)
    scope = {"company": Scope.company(), "team": Scope.team(rep.team_id), "rep": Scope.rep(rep.pk)}[
        scope_kind
    ]

    for function in (sales_kpis.sales_cycle, pool_kpis.time_to_claim):
        by_day = function(period=period, scope=scope)
        assert by_day.value is not None
        assert by_day == _in_one_query(monkeypatch, function, period=period, scope=scope), function.__name__
    for per_rep in (sales_kpis.worked_customers_per_rep, sales_kpis.sales_cycle_per_rep):
        per_rep_figures = per_rep(period=period, scope=scope)
        assert per_rep_figures
        assert per_rep_figures == _in_one_query(monkeypatch, per_rep, period=period, scope=scope), (
            per_rep.__name__
        )
    worked = sales_kpis.worked_customers(period=period, scope=scope)
    assert worked == _in_one_query(monkeypatch, sales_kpis.worked_customers, period=period, scope=scope)
    for grain in (Grain.DAY, Grain.WEEK):
        buckets = period.split(grain)
        by_bucket = sales_kpis.worked_customers_by_bucket(period=period, scope=scope, buckets=buckets)
        assert sum(by_bucket.values()) >= worked
        assert by_bucket == _in_one_query(
            monkeypatch, sales_kpis.worked_customers_by_bucket, period=period, scope=scope, buckets=buckets
        )
    assert worked == sum(offset % 3 + 1 for offset in range(7))


def test_closed_days_are_read_from_the_cache_and_only_today_is_queried(rep):
    period = _history(rep, days=6)
    scope = Scope.rep(rep.pk)
    first = sales_kpis.worked_customers(period=period, scope=scope)

    with CaptureQueriesContext(connection) as queries:
        again = sales_kpis.worked_customers(period=period, scope=scope)

    assert again == first
    assert len(queries) == 1  # today's follow-ups; the six closed days came from the cache


# --- inputs that change after their day: the take cohort and first response --------------------


def _moment(day: dt.date, hours: float) -> dt.datetime:
    """``hours`` after the start of a closed ``day``."""
    return start_of_day(day) + dt.timedelta(hours=hours)


def _now_today() -> dt.datetime:
    """A moment of today that has passed."""
    return max(start_of_day(local_today()), timezone.now() - dt.timedelta(seconds=30))


def _take(rep, pool, at, *, entered_hours=5):
    customer = CustomerFactory(owner=rep)
    PoolEventFactory(
        customer=customer, kind=PoolEventKind.CREATE, to_pool=pool, at=at - dt.timedelta(hours=entered_hours)
    )
    PoolEventFactory(customer=customer, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=at)
    return customer


def _pool_figures(period, scope):
    return (
        pool_kpis.pool_conversion(period=period, scope=scope),
        pool_kpis.recycle_rate(period=period, scope=scope),
        pool_kpis.cohorts(period=period, scope=scope, buckets=period.split(Grain.DAY)),
        sales_kpis.first_response(period=period, scope=scope),
        sales_kpis.first_response_per_rep(period=period, scope=scope),
    )


@pytest.mark.parametrize("scope_kind", ["company", "team", "rep", "pool"])
def test_cohorts_and_first_response_see_todays_changes_to_closed_days(monkeypatch, rep, scope_kind):
    """Closed days' takes are cached as of this morning; a win, a recycle and a first follow-up
    logged today for those takes, and a take of today, show at once, and every figure equals the
    one computed in one query over the whole period."""
    today = local_today()
    pool = PoolFactory()
    period = Period(today - dt.timedelta(days=5), today + dt.timedelta(days=1))
    scope = {
        "company": Scope.company(),
        "team": Scope.team(rep.team_id),
        "rep": Scope.rep(rep.pk),
        "pool": Scope.pool(pool.pk),
    }[scope_kind]
    day = today - dt.timedelta(days=3)
    waiting = _take(rep, pool, _moment(day, 10))  # no follow-up and no win yet
    answered = _take(rep, pool, _moment(day, 12))
    FollowUpFactory(customer=answered, by=rep, at=_moment(day, 14))
    DealFactory(customer=answered, owner=rep, stage=DealStage.WON, closed_at=_moment(day, 30))
    to_recycle = _take(rep, pool, _moment(day + dt.timedelta(days=1), 9))
    _take(rep, pool, _moment(today - dt.timedelta(days=5), 0))  # at 00:00 of the period's first day

    before = _pool_figures(period, scope)  # fills the closed days' cache
    assert before == _in_one_query(monkeypatch, _pool_figures, period=period, scope=scope)
    assert (before[0].numerator, before[0].denominator) == (1, 4)
    assert before[1].numerator == 0
    assert before[3].detail["answered"] == 1

    moment = _now_today()
    FollowUpFactory(customer=waiting, by=rep, at=moment)
    DealFactory(customer=waiting, owner=rep, stage=DealStage.WON, closed_at=moment)
    PoolEventFactory(customer=to_recycle, kind=PoolEventKind.RECYCLE, from_owner=rep, to_pool=pool, at=moment)
    _take(rep, pool, moment)  # a take of today

    with CaptureQueriesContext(connection) as queries:
        after = _pool_figures(period, scope)
    assert after == _in_one_query(monkeypatch, _pool_figures, period=period, scope=scope)
    assert (after[0].numerator, after[0].denominator) == (2, 5)
    assert (after[1].numerator, after[1].denominator) == (1, 5)
    assert after[3].detail["answered"] == 2
    # the closed days came from the cache: one live read of the changed takes per call (the
    # two pool KPIs and the cohort table read one, the KPI and the leaderboard another)
    assert len(queries) == 5


def test_the_current_month_dashboard_costs_the_same_queries_however_many_days_have_passed(
    client, manager, rep
):
    """The page for a period that includes today: a period of 3 days and one of 20 cost the
    same number of queries, on the first request (each input's missing closed days in one
    query) and once the closed days are cached."""
    from tests.metrics.test_views import URL

    today = local_today()
    pool = PoolFactory()
    for offset in range(21):
        day = today - dt.timedelta(days=offset)
        at = _moment(day, 1) if offset else _now_today()
        customer = _take(rep, pool, at)
        FollowUpFactory(customer=customer, by=rep, at=at)
        DealFactory(customer=customer, owner=rep, stage=DealStage.WON, closed_at=at, created_at=at)
    client.force_login(manager)

    def page(days: int) -> int:
        query = {
            "period": "custom",
            "from": (today - dt.timedelta(days=days)).isoformat(),
            "to": today.isoformat(),
            "grain": "week",
        }
        with CaptureQueriesContext(connection) as captured:
            response = client.get(URL, query)
        assert response.status_code == 200
        assert response.context["board"].period.contains_today()
        return len(captured)

    page(1)  # the session, content types

    def first(days: int) -> int:
        """The page with nothing cached (the two periods share today's stock of customers, so
        each first request starts from an empty cache)."""
        cache.clear()
        client.get("/api/me/")  # the session back into the cache (sessions are cached_db with Redis)
        return page(days)

    first_short, first_long = first(3), first(20)
    page(3)  # the short period's own closed figures (its previous period) back into the cache
    again_short, again_long = page(3), page(20)
    assert first_short == first_long
    assert again_short == again_long
    assert again_long < first_long
    # The month's page once its closed days are cached (the session, the page's reads and today's
    # live ones: the team's rows in one statement, the funnel's changed deals in one): no more.
    assert again_long <= 24


def test_the_campaign_table_of_the_current_period_equals_the_one_query_table(monkeypatch, rep):
    """Participants, leads, new customers and sales per campaign: closed days from the cache,
    today's live (a lead created today is found through ``updated_at``), equal to the one-query
    table, also after rows of today are added."""
    from metrics import campaigns
    from tests.metrics.factories import CampaignFactory, CampaignParticipantFactory

    today = local_today()
    period = Period(today - dt.timedelta(days=4), today + dt.timedelta(days=1))
    running = cast(Campaign, CampaignFactory(starts_on=period.start, ends_on=today + dt.timedelta(days=30)))
    CampaignFactory(starts_on=period.start, ends_on=period.start)  # ran on the first day only

    def attributed(at: dt.datetime, *, won: bool) -> None:
        customer = CustomerFactory(
            owner=rep, campaign=running, created_at=at, updated_at=at, first_won_at=at if won else None
        )
        CampaignParticipantFactory(campaign=running, customer=customer, joined_at=at)
        if won:
            DealFactory(customer=customer, owner=rep, stage=DealStage.WON, amount=Decimal(250), closed_at=at)

    for offset in range(1, 5):
        attributed(_moment(today - dt.timedelta(days=offset), offset), won=offset % 2 == 0)
    attributed(start_of_day(period.start), won=True)  # 00:00 of the first day
    attributed(_now_today(), won=False)

    first = campaigns.effectiveness(period=period)
    assert first == _in_one_query(monkeypatch, campaigns.effectiveness, period=period)
    attributed(_now_today(), won=True)
    with CaptureQueriesContext(connection) as queries:
        again = campaigns.effectiveness(period=period)
    assert again == _in_one_query(monkeypatch, campaigns.effectiveness, period=period)
    rows = {row.campaign.pk: row for row in again}
    assert (rows[running.pk].leads, rows[running.pk].new_customers, rows[running.pk].sales) == (
        7,
        4,
        Decimal("1000.00"),
    )
    assert rows[running.pk].leads == rows[running.pk].participants
    assert len(queries) == 3  # the spend, the campaigns, today's sums


@pytest.mark.parametrize("scope_kind", ["team", "rep"])
def test_todays_rows_read_once_per_page_give_the_same_sums(rep, scope_kind):
    """Within one page's ``shared_reads`` a team's or a rep's current-period sums (totals, trend,
    leaderboard, new customers by channel) take today's live rows from one read; they equal the
    sums each computed on its own."""
    from metrics.selectors import rollups
    from metrics.services import rollups as rollups_services

    period = _history(rep, days=6)
    rollups_services.rollup_days(since=period.start, until=local_today() - dt.timedelta(days=1))
    scope = Scope.team(rep.team_id) if scope_kind == "team" else Scope.rep(rep.pk)
    team_ids = [rep.team_id] if scope_kind == "team" else None

    def sums():
        return (
            rollups.totals(period=period, scope=scope, measures=rollups.SHARED_MEASURES),
            rollups.series(period=period, scope=scope, grain=Grain.DAY, measures=["deals_won", "won_amount"]),
            rollups.by_rep(period=period, team_ids=team_ids, measures=["deals_won", "followups_call"]),
            rollups.grouped(period=period, scope=scope, dimension="channel", measures=["new_customers"]),
            # not cut by channel or pool in the shared rows: read on their own, the same sums
            rollups.grouped(
                period=period, scope=scope, dimension="channel", measures=["followups_call", "deals_won"]
            ),
            rollups.grouped(period=period, scope=scope, dimension="pool_id", measures=["claims"]),
        )

    alone = sums()
    with rollups.shared_reads(), CaptureQueriesContext(connection) as queries:
        shared = sums()
    assert shared == alone
    assert alone[0]["deals_won"] == sum(offset % 3 + 1 for offset in range(7))
    assert sum(values["deals_won"] for values in alone[4].values()) == alone[0]["deals_won"]
    live_reads = [q for q in queries.captured_queries if "GROUP BY day, rep_id, team_id" in q["sql"]]
    assert len(live_reads) == 1


@pytest.mark.parametrize("scope_kind", ["team", "rep"])
def test_todays_pool_events_read_by_the_people_give_the_same_sums(rep, other_rep, other_team_rep, scope_kind):
    """A team's or a rep's live pool events of today are read as those its people took and
    those they lost (one index range per person); the sums equal the company-wide read's, and
    events of other people (a claim by another team, a release of a lead they held) stay out."""
    from metrics.selectors import rollups

    today = local_today()
    pool = PoolFactory()
    moment = max(start_of_day(today), timezone.now() - dt.timedelta(minutes=5))
    taken = {PoolEventKind.CLAIM: 2, PoolEventKind.ASSIGN: 1}
    lost = {PoolEventKind.RELEASE: 1, PoolEventKind.RECYCLE: 2, PoolEventKind.MOVE: 1}
    for person in (rep, other_rep, other_team_rep):
        for kind, count in taken.items():
            for _n in range(count):
                PoolEventFactory(kind=kind, from_pool=pool, to_owner=person, from_owner=None, at=moment)
        for kind, count in lost.items():
            for _n in range(count):
                PoolEventFactory(kind=kind, from_owner=person, to_owner=None, to_pool=pool, at=moment)
    # a lead taken from another person (an assign) counts for the one who got it only
    PoolEventFactory(kind=PoolEventKind.ASSIGN, from_owner=rep, to_owner=other_team_rep, at=moment)
    period = Period.preset(Grain.MONTH, containing=today)
    scope = Scope.team(rep.team_id) if scope_kind == "team" else Scope.rep(rep.pk)
    measures = ["claims", "assigns", "releases", "recycles", "pool_entries"]

    alone = rollups.totals(period=period, scope=scope, measures=measures)
    with rollups.shared_reads(), CaptureQueriesContext(connection) as queries:
        shared = rollups.totals(period=period, scope=scope, measures=measures)
    assert [q for q in queries.captured_queries if "GROUP BY day, rep_id, team_id" in q["sql"]]
    assert shared == alone
    people = 2 if scope_kind == "team" else 1
    assert alone == {
        "claims": 2 * people,
        "assigns": 1 * people,
        "releases": 1 * people,
        "recycles": 2 * people,
        "pool_entries": 4 * people,
    }


@pytest.mark.parametrize("scope_kind", ["team", "rep"])
def test_todays_first_wins_read_from_the_peoples_wins_give_the_same_sums(
    rep, other_rep, other_team_rep, scope_kind
):
    """A team's or a rep's new customers of today are read from its people's won deals of today
    that are their customer's first win; they equal the company-wide read's (every first win of
    today, attributed to the owner of the first won deal) — also for a first win by a rep who is
    not the customer's owner, of a customer who moved to another team today, a second win of
    today after another person's first, two wins at the same moment (the lower id is first) and
    a customer first won yesterday."""
    from metrics.selectors import rollups

    today = local_today()
    now = _now_today()
    earlier = max(start_of_day(today), now - dt.timedelta(minutes=10))

    def win(customer, owner, at):
        deal = DealFactory(customer=customer, owner=owner, stage=DealStage.WON, closed_at=at)
        customer.refresh_from_db()
        if customer.first_won_at is None or at < customer.first_won_at:
            Customer.objects.filter(pk=customer.pk).update(first_won_at=at)
        return deal

    win(CustomerFactory(owner=other_rep), rep, now)  # the owner is a colleague: counts for rep
    win(CustomerFactory(owner=other_team_rep), rep, now)  # moved to another team: still rep's
    win(CustomerFactory(owner=rep), other_team_rep, now)  # won by another team: not ours
    again = CustomerFactory(owner=rep)
    win(again, rep, _moment(today - dt.timedelta(days=1), 2))
    win(again, rep, now)  # first won yesterday: not new today
    second = CustomerFactory(owner=rep)
    win(second, other_team_rep, earlier)
    win(second, rep, now)  # another team's first win came first
    tie = CustomerFactory(owner=rep)
    win(tie, other_rep, now)
    win(tie, rep, now)  # same moment, higher id: the colleague's is the first
    DealFactory(customer=CustomerFactory(owner=rep), owner=rep, stage=DealStage.LOST, closed_at=now)
    period = Period(today, today + dt.timedelta(days=1))
    scope = Scope.team(rep.team_id) if scope_kind == "team" else Scope.rep(rep.pk)
    team_ids = [rep.team_id] if scope_kind == "team" else None

    def sums():
        return (
            rollups.totals(period=period, scope=scope, measures=["new_customers"]),
            rollups.by_rep(period=period, team_ids=team_ids, measures=["new_customers"]),
        )

    alone = sums()
    with rollups.shared_reads(), CaptureQueriesContext(connection) as queries:
        shared = sums()
    assert [q for q in queries.captured_queries if "NOT EXISTS" in q["sql"]]
    assert shared == alone
    colleague, west = {rep.pk: 2, other_rep.pk: 1}, {other_team_rep.pk: 2}
    everyone = {**colleague, **west} if scope_kind == "rep" else colleague
    assert alone[0] == {"new_customers": 3 if scope_kind == "team" else 2}
    assert alone[1] == {pk: {"new_customers": count} for pk, count in everyone.items()}


# --- stock figures as at the end of the current period ----------------------------------------


def _stock_figures(period, scope):
    return (
        sales_kpis.repurchase(period=period, scope=scope),
        sales_kpis.retention(period=period, scope=scope),
        sales_kpis.churn(period=period, scope=scope),
        sales_kpis.acquisition_rate(period=period, scope=scope),
    )


@pytest.mark.parametrize("scope_kind", ["company", "team", "rep", "pool", "channel"])
def test_stock_kept_this_morning_plus_todays_changes_equals_the_direct_figures(
    monkeypatch, rep, other_team_rep, scope_kind
):
    """Repurchase, retention, churn and acquisition rate of the current period come from the
    scope's paying customers kept in the cache at the first request of the day, corrected by
    the customers that changed today: a second win, a win that makes a lapsed customer active, a
    first win, a won deal of a closed day reopened, a customer transferred out of the team and
    one transferred in. Each figure equals the one computed directly over every row."""
    from metrics.selectors import rollups

    today = local_today()
    period = Period(today - dt.timedelta(days=5), today + dt.timedelta(days=1))
    pool = PoolFactory()
    scope = {
        "company": Scope.company(),
        "team": Scope.team(rep.team_id),
        "rep": Scope.rep(rep.pk),
        "pool": Scope.pool(pool.pk),
        "channel": Scope.channel("website"),
    }[scope_kind]
    long_ago = start_of_day(today - dt.timedelta(days=500))

    def paying(owner, *days_ago: int):
        """A customer of ``owner`` with a won deal on each of those closed days, none of its
        rows touched since then."""
        wins = [_moment(today - dt.timedelta(days=n), 10) for n in days_ago]
        customer = CustomerFactory(
            owner=owner, home_pool=pool, source="website", created_at=long_ago, updated_at=long_ago,
            first_won_at=min(wins),
        )  # fmt: skip
        deals = [
            DealFactory(customer=customer, owner=owner, stage=DealStage.WON, closed_at=at, updated_at=at)
            for at in wins
        ]
        return customer, deals

    again, _ = paying(rep, 3)  # wins again today: a repeat customer
    _reopened, reopened_deals = paying(rep, 40, 3)  # its win of 3 days ago is reopened today
    lapsed, _ = paying(rep, 400)  # not active within the window until its win today
    leaving, _ = paying(rep, 100)  # transferred to another team today
    arriving, _ = paying(other_team_rep, 2)  # transferred into the team today

    with rollups.shared_reads():
        before = _stock_figures(period, scope)  # keeps this morning's stock
    assert before == _in_one_query(monkeypatch, _stock_figures, period=period, scope=scope)

    now = _now_today()
    for customer in (again, lapsed):
        DealFactory(customer=customer, owner=rep, stage=DealStage.WON, closed_at=now)
    newcomer = CustomerFactory(owner=rep, home_pool=pool, source="website", first_won_at=now)
    DealFactory(customer=newcomer, owner=rep, stage=DealStage.WON, closed_at=now)
    reopened_deals[1].stage, reopened_deals[1].closed_at = DealStage.NEGOTIATION, None
    reopened_deals[1].updated_at = now
    reopened_deals[1].save()
    for customer, old, new in ((leaving, rep, other_team_rep), (arriving, other_team_rep, rep)):
        PoolEventFactory(customer=customer, kind=PoolEventKind.TRANSFER, from_owner=old, to_owner=new, at=now)
        type(customer).objects.filter(pk=customer.pk).update(owner=new, team=new.team)

    with rollups.shared_reads(), CaptureQueriesContext(connection) as queries:
        after = _stock_figures(period, scope)
    assert after == _in_one_query(monkeypatch, _stock_figures, period=period, scope=scope)
    assert len(queries) == 1  # today's changed customers; the stock came from the cache
    if scope_kind == "team":
        # before: again, reopened (repeat), lapsed, leaving; after: again and lapsed repeat,
        # reopened, arriving, newcomer once
        assert (before[0].numerator, before[0].denominator) == (1, 4)
        assert (after[0].numerator, after[0].denominator) == (2, 5)
        # paying at the start: reopened, lapsed, leaving; then reopened, lapsed (active today)
        assert (before[1].numerator, before[1].denominator) == (2, 3)
        assert (after[1].numerator, after[1].denominator) == (2, 2)
        assert (after[3].numerator, after[3].denominator) == (3, 5)


@pytest.mark.parametrize("scope_kind", ["company", "team", "rep"])
def test_funnel_and_clv_of_the_current_period_see_todays_changes(
    monkeypatch, rep, other_team_rep, scope_kind
):
    """The funnel keeps each deal created on a closed day as read this morning and re-reads the
    deals changed today (moved on, reassigned to another team, created today); CLV's year takes
    its closed days' buyers from the cache and today's wins live (a buyer of a closed day who
    buys again today counts once). Both equal the figures computed directly."""
    from metrics import selectors
    from metrics.selectors import rollups

    today = local_today()
    period = Period(today - dt.timedelta(days=5), today + dt.timedelta(days=1))
    scope = {"company": Scope.company(), "team": Scope.team(rep.team_id), "rep": Scope.rep(rep.pk)}[
        scope_kind
    ]

    def figures(period, scope):
        return (
            selectors.deal_funnel(period=period, scope=scope),
            sales_kpis.clv(period=period, scope=scope),
            sales_kpis.sales_growth(period=period, scope=scope),
        )

    def deal(owner, day_offset: int, stage=DealStage.LEAD, **extra):
        at = _moment(today - dt.timedelta(days=day_offset), 9)
        closed = at if stage in (DealStage.WON, DealStage.LOST) else None
        customer = extra.pop("customer", None) or CustomerFactory(owner=owner)
        return DealFactory(
            customer=customer,
            owner=owner,
            stage=stage,
            created_at=at,
            updated_at=at,
            closed_at=closed,
            **extra,
        )

    moving = deal(rep, 3)
    leaving = deal(rep, 2, DealStage.PROPOSAL)
    buyer = deal(rep, 4, DealStage.WON, amount=Decimal(300)).customer
    deal(rep, 40, DealStage.WON, amount=Decimal(700))  # in CLV's year, before the period
    deal(rep, 8, DealStage.WON, amount=Decimal(900))  # the previous period's sales
    deal(other_team_rep, 1, DealStage.QUALIFIED)
    arriving = deal(other_team_rep, 2, DealStage.QUALIFIED)
    elsewhere = deal(other_team_rep, 3)

    with rollups.shared_reads():
        before = figures(period, scope)
    assert before == _in_one_query(monkeypatch, figures, period=period, scope=scope)

    now = _now_today()
    Deal = type(moving)
    Deal.objects.filter(pk=moving.pk).update(stage=DealStage.NEGOTIATION, updated_at=now)
    Deal.objects.filter(pk=leaving.pk).update(owner=other_team_rep, updated_at=now)
    Deal.objects.filter(pk=arriving.pk).update(owner=rep, updated_at=now)  # handed to us today
    Deal.objects.filter(pk=elsewhere.pk).update(stage=DealStage.PROPOSAL, updated_at=now)  # not ours
    DealFactory(
        customer=buyer, owner=rep, stage=DealStage.WON, amount=Decimal(500), closed_at=now, created_at=now
    )

    with rollups.shared_reads():
        after = figures(period, scope)
    assert after == _in_one_query(monkeypatch, figures, period=period, scope=scope)
    assert after != before
    if scope_kind == "team":
        counts = {stage.stage: stage.count for stage in after[0]}
        assert (counts[DealStage.NEGOTIATION], counts[DealStage.PROPOSAL], counts[DealStage.WON]) == (1, 0, 2)
        assert counts[DealStage.QUALIFIED] == 1
        assert (after[1].numerator, after[1].denominator) == (Decimal("2400.00"), 3)


def test_the_rolled_up_days_of_a_current_period_come_from_the_cache(rep):
    """A team's current-period sums: the rolled-up days' part is read once and kept (under the
    data version and the days read live beside it); when another day is rolled up, the split
    moves and the sums stay the same."""
    from metrics.selectors import rollups
    from metrics.services import rollups as rollups_services

    period = _history(rep, days=6)
    yesterday = local_today() - dt.timedelta(days=1)
    rollups_services.rollup_days(since=period.start, until=yesterday - dt.timedelta(days=1))
    scope = Scope.team(rep.team_id)

    def sums():
        with rollups.shared_reads():
            return rollups.totals(period=period, scope=scope, measures=rollups.SHARED_MEASURES)

    first = sums()
    with CaptureQueriesContext(connection) as queries:
        again = sums()
    assert again == first
    assert not [q for q in queries.captured_queries if "FROM metrics_dailyrollup" in q["sql"]]
    # yesterday rolled up (in a test the new data version of the commit does not come)
    rollups_services.rollup_days(since=yesterday, until=yesterday)
    assert sums() == first
    assert first["deals_won"] == sum(offset % 3 + 1 for offset in range(7))
