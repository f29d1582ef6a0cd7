"""Daily roll-ups: hand-counted rows, idempotence, backfill, and reads equal to the raw rows.

The history (company time zone Asia/Shanghai) straddles midnight between 31 March and
1 April 2025: a follow-up at 23:59 local time belongs to the 31st, one at 00:00 to the 1st.
"""

import datetime as dt
import threading
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.models import DealStage, FollowUpKind, Source
from metrics.models import ADDITIVE_MEASURES, DailyRollup, RollupDay
from metrics.periods import Grain, Period, Scope, local_today
from metrics.selectors import rollups
from metrics.services import rollups as rollups_services
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import CustomerFactory, DealFactory, FeedbackFactory, FollowUpFactory, PoolFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH_31 = dt.date(2025, 3, 31)
APRIL_1 = dt.date(2025, 4, 1)


def local(day: dt.date, clock: str = "10:00") -> dt.datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


def build_history(rep, other_rep):
    """Two customers of team East around midnight 31 March / 1 April (see the module)."""
    pool = PoolFactory(name="North")
    c1 = CustomerFactory(
        owner=rep, source=Source.WEBSITE, home_pool=pool, created_at=local(dt.date(2025, 3, 1))
    )
    c2 = CustomerFactory(owner=other_rep, source=Source.REFERRAL, created_at=local(dt.date(2025, 3, 1)))
    FollowUpFactory(customer=c1, kind=FollowUpKind.CALL, at=local(MARCH_31, "23:59"))
    FollowUpFactory(customer=c1, kind=FollowUpKind.VISIT, at=local(APRIL_1, "00:00"))
    FollowUpFactory(customer=c1, kind=FollowUpKind.EMAIL, at=local(APRIL_1, "10:00"))
    FollowUpFactory(customer=c2, kind=FollowUpKind.CALL, at=local(MARCH_31, "09:00"))
    won_at = local(MARCH_31, "20:00")
    DealFactory(customer=c1, stage=DealStage.WON, amount=Decimal("1000.50"), closed_at=won_at)
    c1.first_won_at = won_at
    c1.save(update_fields=["first_won_at"])
    DealFactory(customer=c2, stage=DealStage.LOST, closed_at=local(APRIL_1, "08:00"))
    FeedbackFactory(customer=c1, nps=10, csat=5, at=local(MARCH_31, "12:00"))
    FeedbackFactory(customer=c2, nps=3, csat=None, at=local(APRIL_1, "12:00"))
    PoolEvent.objects.create(
        customer=c1,
        kind=PoolEventKind.CLAIM,
        from_pool=pool,
        to_owner=rep,
        actor=rep,
        at=local(MARCH_31, "08:00"),
    )
    return pool, c1, c2


def rows() -> list[dict]:
    """Every roll-up row without its surrogate id, in key order."""
    return list(
        DailyRollup.objects.order_by("day", "rep_id", "team_id", "pool_id", "channel").values(
            "day", "rep_id", "team_id", "pool_id", "channel", *ADDITIVE_MEASURES
        )
    )


def nonzero(row: dict) -> dict:
    return {k: v for k, v in row.items() if v is not None and v != 0}


def test_rollup_writes_one_row_per_key_with_the_hand_counted_figures(rep, other_rep, team):
    pool, _c1, _c2 = build_history(rep, other_rep)

    written = rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)

    assert written == 4
    assert [nonzero(row) for row in rows()] == [
        {
            "day": MARCH_31, "rep_id": rep.pk, "team_id": team.pk, "pool_id": pool.pk, "channel": "website",
            "followups_call": 1,  # 23:59 local on the 31st is the 31st
            "deals_won": 1, "won_amount": Decimal("1000.50"), "new_customers": 1, "claims": 1,
            "nps_answers": 1, "nps_promoters": 1, "csat_answers": 1, "csat_satisfied": 1, "csat_sum": 5,
        },
        {
            "day": MARCH_31, "rep_id": other_rep.pk, "team_id": team.pk, "channel": "referral",
            "followups_call": 1,
        },
        {
            "day": APRIL_1, "rep_id": rep.pk, "team_id": team.pk, "pool_id": pool.pk, "channel": "website",
            "followups_visit": 1,  # 00:00 local on the 1st is the 1st
            "followups_email": 1,
        },
        {
            "day": APRIL_1, "rep_id": other_rep.pk, "team_id": team.pk, "channel": "referral",
            "deals_lost": 1, "nps_answers": 1, "nps_detractors": 1,
        },
    ]  # fmt: skip
    assert set(RollupDay.objects.values_list("day", flat=True)) == {MARCH_31, APRIL_1}


def test_rolling_a_day_up_twice_gives_identical_rows(rep, other_rep):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    first = rows()

    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    rollups_services.rollup_days(since=APRIL_1, until=APRIL_1)

    assert rows() == first
    assert DailyRollup.objects.count() == 4


def test_a_rerun_replaces_the_days_with_what_the_raw_rows_say_now(rep, other_rep, team):
    _pool, _c1, c2 = build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    FollowUpFactory(customer=c2, kind=FollowUpKind.MEETING, at=local(APRIL_1, "15:00"))

    rollups_services.rollup_days(since=APRIL_1, until=APRIL_1)

    row = DailyRollup.objects.get(day=APRIL_1, rep_id=other_rep.pk)
    assert (row.followups_meeting, row.deals_lost) == (1, 1)
    assert DailyRollup.objects.filter(day=MARCH_31).count() == 2  # other days untouched


def test_today_cannot_be_rolled_up():
    with pytest.raises(ValueError, match="before today"):
        rollups_services.rollup_days(since=local_today(), until=local_today())


def test_the_command_backfills_from_since_through_yesterday(rep, other_rep):
    build_history(rep, other_rep)
    yesterday = local_today() - dt.timedelta(days=1)
    since = yesterday - dt.timedelta(days=9)
    customer = CustomerFactory(owner=rep, created_at=local(since, "09:00"))
    FollowUpFactory(customer=customer, at=local(since, "10:00"))

    call_command("rollup_metrics", since=since.isoformat(), stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert RollupDay.objects.count() == 10
    assert RollupDay.objects.order_by("day").first().day == since
    assert RollupDay.objects.order_by("day").last().day == yesterday
    assert DailyRollup.objects.get(day=since, rep_id=rep.pk).followups_call == 1
    assert not DailyRollup.objects.filter(day=MARCH_31).exists()  # not asked for


def test_the_command_without_since_rolls_up_yesterday_only(rep):
    yesterday = local_today() - dt.timedelta(days=1)
    customer = CustomerFactory(owner=rep, created_at=local(yesterday, "08:00"))
    FollowUpFactory(customer=customer, at=local(yesterday, "23:59"))

    call_command("rollup_metrics", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert list(RollupDay.objects.values_list("day", flat=True)) == [yesterday]
    assert DailyRollup.objects.get(day=yesterday, rep_id=rep.pk).followups_call == 1


SCOPES = ["company", "team", "rep", "pool", "channel"]


def scope_of(kind, *, team, rep, pool):
    return {
        "company": Scope.company(),
        "team": Scope.team(team.pk),
        "rep": Scope.rep(rep.pk),
        "pool": Scope.pool(pool.pk),
        "channel": Scope.channel(Source.WEBSITE),
    }[kind]


@pytest.mark.parametrize("kind", SCOPES)
def test_totals_of_a_closed_period_are_the_same_from_rollups_and_live(kind, rep, other_rep, team):
    pool, _c1, _c2 = build_history(rep, other_rep)
    period = Period(MARCH_31, APRIL_1 + dt.timedelta(days=1))
    scope = scope_of(kind, team=team, rep=rep, pool=pool)
    live = rollups.totals(period=period, scope=scope, measures=ADDITIVE_MEASURES)

    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    rolled = rollups.totals(period=period, scope=scope, measures=ADDITIVE_MEASURES)

    assert rolled == live == rollups.raw_totals(period=period, scope=scope, measures=ADDITIVE_MEASURES)
    assert rolled["followups_call"] == {"company": 2, "team": 2, "rep": 1, "pool": 1, "channel": 1}[kind]


def test_totals_by_hand_for_the_team_across_midnight(rep, other_rep, team):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=MARCH_31)  # 1 April stays live

    figures = rollups.totals(
        period=Period(MARCH_31, APRIL_1 + dt.timedelta(days=1)),
        scope=Scope.team(team.pk),
        measures=[
            "followups_call",
            "followups_visit",
            "followups_email",
            "won_amount",
            "deals_lost",
            "nps_answers",
        ],
    )

    assert figures == {
        "followups_call": 2,
        "followups_visit": 1,
        "followups_email": 1,
        "won_amount": Decimal("1000.50"),
        "deals_lost": 1,
        "nps_answers": 2,
    }


def test_the_last_day_of_a_period_ends_at_local_midnight(rep, other_rep):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)

    march = rollups.totals(
        period=Period(dt.date(2025, 3, 1), APRIL_1),
        scope=Scope.rep(rep.pk),
        measures=["followups_call", "followups_visit"],
    )
    live_march = rollups.raw_totals(
        period=Period(dt.date(2025, 3, 1), APRIL_1),
        scope=Scope.rep(rep.pk),
        measures=["followups_call", "followups_visit"],
    )

    assert march == live_march == {"followups_call": 1, "followups_visit": 0}  # fmt: skip


def test_todays_figures_come_live(rep):
    customer = CustomerFactory(owner=rep)
    FollowUpFactory(customer=customer, kind=FollowUpKind.MESSAGE)  # now

    figures = rollups.totals(
        period=Period.preset(Grain.DAY), scope=Scope.rep(rep.pk), measures=["followups_message"]
    )

    assert figures == {"followups_message": 1}


def test_totals_cost_two_queries_whatever_the_period_length(rep, other_rep):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    counts = []
    for days in (1, 30, 400):
        with CaptureQueriesContext(connection) as queries:
            rollups.totals(period=Period(MARCH_31, MARCH_31 + dt.timedelta(days=days)), scope=Scope.company(), measures=ADDITIVE_MEASURES)  # fmt: skip
        counts.append(len(queries))

    assert counts == [2, 2, 2]


def test_series_splits_a_period_into_buckets_with_zeros_where_empty(rep, other_rep):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=MARCH_31)

    buckets = rollups.series(
        period=Period(dt.date(2025, 3, 1), dt.date(2025, 5, 1)),
        scope=Scope.company(),
        grain=Grain.MONTH,
        measures=["followups_call", "followups_visit", "won_amount"],
    )

    assert buckets == [
        (Period(dt.date(2025, 3, 1), APRIL_1), {"followups_call": 2, "followups_visit": 0, "won_amount": Decimal("1000.50")}),
        (Period(APRIL_1, dt.date(2025, 5, 1)), {"followups_call": 0, "followups_visit": 1, "won_amount": Decimal("0.00")}),
    ]  # fmt: skip


def test_by_rep_sums_per_rep_within_the_teams(rep, other_rep, team, other_team_rep):
    build_history(rep, other_rep)
    FollowUpFactory(customer=CustomerFactory(owner=other_team_rep), at=local(MARCH_31, "11:00"))
    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    period = Period(MARCH_31, APRIL_1 + dt.timedelta(days=1))

    east = rollups.by_rep(period=period, team_ids=[team.pk], measures=["followups_call", "deals_lost"])
    everyone = rollups.by_rep(period=period, team_ids=None, measures=["followups_call"])

    assert east == {
        rep.pk: {"followups_call": 1, "deals_lost": 0},
        other_rep.pk: {"followups_call": 1, "deals_lost": 1},
    }
    assert everyone[other_team_rep.pk] == {"followups_call": 1}
    assert rollups.by_rep(period=period, team_ids=[], measures=["followups_call"]) == {}


@pytest.mark.django_db(transaction=True)
def test_two_rollups_at_once_queue_on_the_lock_and_leave_one_set_of_rows(rep, other_rep):
    build_history(rep, other_rep)
    errors = []

    def run():
        try:
            rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert DailyRollup.objects.count() == 4
    assert RollupDay.objects.count() == 2


def test_shared_reads_fetch_each_sum_once_per_period_and_scope(rep, other_rep):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=MARCH_31)
    period = Period(MARCH_31, APRIL_1 + dt.timedelta(days=1))
    alone = rollups.totals(period=period, scope=Scope.rep(rep.pk), measures=["won_amount"])

    with CaptureQueriesContext(connection) as queries, rollups.shared_reads():
        both = rollups.totals(period=period, scope=Scope.rep(rep.pk), measures=["won_amount", "deals_won"])
        again = rollups.totals(period=period, scope=Scope.rep(rep.pk), measures=["won_amount"])
        other = rollups.totals(period=period, scope=Scope.rep(other_rep.pk), measures=["deals_lost"])

    assert len(queries) == 3  # the marks once, then one sum per scope
    assert again == alone == {"won_amount": Decimal("1000.50")}
    assert both == {"won_amount": Decimal("1000.50"), "deals_won": 1}
    assert other == {"deals_lost": 1}


def test_a_long_backfill_rebuilds_the_indexes_and_writes_the_same_rows(rep, other_rep):
    build_history(rep, other_rep)
    rollups_services.rollup_days(since=MARCH_31, until=APRIL_1)
    short = rows()

    rollups_services.rollup_days(
        since=dt.date(2025, 3, 1), until=dt.date(2025, 4, 30)
    )  # only rows inside: emptied
    after_full = rows()
    rollups_services.rollup_days(since=dt.date(2025, 5, 1), until=dt.date(2025, 5, 1))
    rollups_services.rollup_days(
        since=dt.date(2025, 3, 1), until=dt.date(2025, 4, 30)
    )  # a day outside: deleted

    assert after_full == rows()
    assert [row for row in after_full if row["day"] >= MARCH_31] == short
    # and 1 March, when both customers were created (no creator: no rep or team)
    assert [nonzero(row) for row in after_full if row["day"] < MARCH_31] == [
        {"day": dt.date(2025, 3, 1), "pool_id": DailyRollup.objects.exclude(pool_id=None).values_list("pool_id", flat=True).first(), "channel": "website", "customers_created": 1},
        {"day": dt.date(2025, 3, 1), "channel": "referral", "customers_created": 1},
    ]  # fmt: skip
    assert RollupDay.objects.count() == 62
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [DailyRollup._meta.db_table])
        indexes = {name for (name,) in cursor.fetchall()}
    assert {
        "rollup_day",
        "rollup_rep_day",
        "rollup_team_day",
        "rollup_pool_day",
        "rollup_channel_day",
    } <= indexes


def test_the_nightly_task_is_scheduled_at_half_past_midnight_and_rolls_up(rep, settings):
    from metrics.tasks import rollup_metrics_task

    entry = settings.CELERY_BEAT_SCHEDULE["metrics.rollup"]
    yesterday = local_today() - dt.timedelta(days=1)
    FollowUpFactory(customer=CustomerFactory(owner=rep), at=local(yesterday, "12:00"))

    assert entry["task"] == "metrics.tasks.rollup_metrics_task"
    assert (entry["schedule"].hour, entry["schedule"].minute) == ({0}, {30})
    assert rollup_metrics_task() == 1
    assert rollup_metrics_task(since=(yesterday - dt.timedelta(days=2)).isoformat()) == 1
    assert RollupDay.objects.count() == 3


def test_seed_demo_ends_with_the_seeded_history_rolled_up():
    from django.db.models import Min

    from customers.models import Customer

    call_command("seed_demo", customers=120, reps=3, managers=1, stdout=open("/dev/null", "w"))  # noqa: SIM115

    first = Customer.objects.aggregate(first=Min("created_at"))["first"].astimezone(SHANGHAI).date()
    yesterday = local_today() - dt.timedelta(days=1)
    assert RollupDay.objects.count() == (yesterday - first).days + 1
    assert not RollupDay.objects.filter(day=local_today()).exists()  # today stays live
    history = Period(first, yesterday + dt.timedelta(days=1))
    rolled = rollups.totals(period=history, scope=Scope.company(), measures=ADDITIVE_MEASURES)
    assert rolled == rollups.raw_totals(period=history, scope=Scope.company(), measures=ADDITIVE_MEASURES)
    assert rolled["followups_call"] > 0
    assert rolled["deals_won"] > 0
