"""Churn early warning: each reason against a hand-built history, idempotence, visibility.

The run is "as of" 2025-06-30 12:00 in Asia/Shanghai, so "today" is 30 June (local days)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.utils import translation

from customers.models import Customer, DealStage
from metrics.models import ChurnFlag, ChurnReason
from metrics.selectors import churn
from metrics.services import churn as churn_services
from tests.factories import CustomerFactory, DealFactory, FeedbackFactory, FollowUpFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
AS_OF = dt.datetime(2025, 6, 30, 12, tzinfo=SH)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


@pytest.fixture(autouse=True)
def churn_settings(settings):
    settings.METRICS_CHURN_NO_FOLLOWUP_DAYS = 60
    settings.METRICS_CHURN_NPS_LOOKBACK_DAYS = 90
    settings.METRICS_CHURN_INTERVAL_FACTOR = 1.5


RECENT = at(2025, 6, 29)


def paying(owner, *purchases, followup=RECENT, **fields):
    """An owned customer with won deals on the given moments and, by default, a recent follow-up."""
    customer = CustomerFactory(owner=owner, claimed_at=at(2024, 1, 1), **fields)
    for moment in purchases:
        DealFactory(customer=customer, stage=DealStage.WON, closed_at=moment)
    Customer.objects.filter(pk=customer.pk).update(first_won_at=min(purchases))
    if followup:
        FollowUpFactory(customer=customer, at=followup)
    return customer


def flags():
    return {(flag.customer_id, flag.reason): flag for flag in ChurnFlag.objects.all()}


def test_purchase_gap_flags_customers_past_one_and_a_half_times_their_median_interval(rep):
    # Purchases 1 Jan, 1 Feb, 1 Mar, 1 Apr: intervals 31, 28, 31 → median 31; threshold 46.5;
    # 1 Apr → 30 Jun is 90 days.
    overdue = paying(rep, at(2025, 1, 1), at(2025, 2, 1), at(2025, 3, 1), at(2025, 4, 1))
    # Purchase days 1 Mar, 11 Mar, 10 Apr (two deals that day = one purchase): intervals 10, 30 →
    # median (10 + 30) / 2 = 20; 10 Apr → 30 Jun is 81 days > 30. (Counting the same-day deal
    # as a zero interval would give a median of 10.)
    even = paying(rep, at(2025, 3, 1), at(2025, 3, 11), at(2025, 4, 10, 9), at(2025, 4, 10, 15))
    # One interval of 20 days (11 → 31 May): threshold 30; 31 May → 30 Jun is exactly 30: not longer.
    on_the_edge = paying(rep, at(2025, 5, 11), at(2025, 5, 31))
    # A single purchase has no interval: never flagged for a gap.
    paying(rep, at(2024, 1, 1))
    # Wins after the as-of moment do not count: purchases 1 Jan, 1 Feb (median 31) and 5 Jul.
    later = paying(rep, at(2025, 1, 1), at(2025, 2, 1), at(2025, 7, 5))

    churn_services.flag_churn_risk(as_of=AS_OF)

    gap_flags = {key: flag for key, flag in flags().items() if key[1] == ChurnReason.PURCHASE_GAP}
    assert set(gap_flags) == {
        (overdue.pk, ChurnReason.PURCHASE_GAP),
        (even.pk, ChurnReason.PURCHASE_GAP),
        (later.pk, ChurnReason.PURCHASE_GAP),
    }
    assert (
        gap_flags[overdue.pk, "purchase_gap"].days,
        gap_flags[overdue.pk, "purchase_gap"].interval_days,
    ) == (
        90,
        Decimal("31.0"),
    )
    assert (gap_flags[even.pk, "purchase_gap"].days, gap_flags[even.pk, "purchase_gap"].interval_days) == (
        81,
        Decimal("20.0"),
    )
    # 1 Feb → 30 Jun = 149 days.
    assert gap_flags[later.pk, "purchase_gap"].days == 149
    assert (on_the_edge.pk, ChurnReason.PURCHASE_GAP) not in gap_flags


def test_detractor_answer_in_the_lookback_flags_with_the_latest_detractor_score(rep):
    detractor = paying(rep, at(2025, 6, 1))
    FeedbackFactory(customer=detractor, nps=2, at=at(2025, 5, 1))
    FeedbackFactory(customer=detractor, nps=6, at=at(2025, 6, 1, 10))
    passive = paying(rep, at(2025, 6, 1))
    FeedbackFactory(customer=passive, nps=7, at=at(2025, 6, 1))
    # 0 points, but 121 days ago: outside the 90-day look-back.
    old = paying(rep, at(2025, 6, 1))
    FeedbackFactory(customer=old, nps=0, at=at(2025, 3, 1))
    # A detractor who never bought is not a paying customer.
    prospect = CustomerFactory(owner=rep)
    FeedbackFactory(customer=prospect, nps=1, at=at(2025, 6, 1))

    churn_services.flag_churn_risk(as_of=AS_OF)

    found = flags()
    assert {key for key in found if key[1] == ChurnReason.DETRACTOR} == {(detractor.pk, "detractor")}
    flag = found[detractor.pk, "detractor"]
    assert (flag.nps, flag.answered_at) == (6, at(2025, 6, 1, 10))
    with translation.override("en"):
        assert flag.message == "Gave an NPS score of 6 on 2025-06-01."


def test_followups_stopped_counts_local_days_since_the_last_follow_up(rep):
    # Last follow-up 1 May 23:30 local (15:30 UTC): 60 local days before 30 Jun → flagged.
    quiet = paying(rep, at(2025, 1, 1), followup=at(2025, 5, 1, 23, 30))
    FollowUpFactory(customer=quiet, at=at(2025, 7, 5))  # after the as-of moment: not seen
    # 2 May 00:30 local is still 1 May in UTC: 59 local days → not flagged.
    recent = paying(rep, at(2025, 1, 1), followup=dt.datetime(2025, 5, 1, 16, 30, tzinfo=dt.UTC))
    # Never followed up: counted from the claim (1 Apr → 30 Jun = 90 days).
    never = paying(rep, at(2025, 1, 1), followup=None)
    Customer.objects.filter(pk=never.pk).update(claimed_at=at(2025, 4, 1, 9))
    # Not paying, not flagged however quiet.
    CustomerFactory(owner=rep, claimed_at=at(2024, 1, 1))
    # Paying but in a pool: nobody to warn.
    pooled = CustomerFactory(pooled=True, claimed_at=None)
    DealFactory(customer=pooled, owner=rep, stage=DealStage.WON, closed_at=at(2024, 1, 1))
    Customer.objects.filter(pk=pooled.pk).update(first_won_at=at(2024, 1, 1))

    count = churn_services.flag_churn_risk(as_of=AS_OF)

    found = flags()
    assert set(found) == {(quiet.pk, "followups_stopped"), (never.pk, "followups_stopped")}
    assert (found[quiet.pk, "followups_stopped"].days, found[never.pk, "followups_stopped"].days) == (60, 90)
    assert (recent.pk, "followups_stopped") not in found
    assert count == 2
    with translation.override("en"):
        assert found[quiet.pk, "followups_stopped"].message == "No follow-up for 60 days."


def test_messages_render_the_figures(rep):
    overdue = paying(rep, at(2025, 1, 1), at(2025, 2, 1), at(2025, 3, 1), at(2025, 4, 1))
    churn_services.flag_churn_risk(as_of=AS_OF)

    with translation.override("en"):
        assert flags()[overdue.pk, "purchase_gap"].message == (
            "No purchase for 90 days; usually buys every 31 days."
        )


def test_rerun_replaces_flags_and_keeps_flagged_at_for_those_that_persist(rep):
    overdue = paying(rep, at(2025, 1, 1), at(2025, 2, 1), at(2025, 3, 1), at(2025, 4, 1))
    quiet = paying(rep, at(2025, 1, 1), followup=at(2025, 4, 1))

    assert churn_services.flag_churn_risk(as_of=AS_OF) == 2  # overdue: the gap; quiet: follow-ups stopped
    first = flags()
    assert churn_services.flag_churn_risk(as_of=AS_OF) == 2
    assert {key: (f.pk, f.flagged_at, f.days, f.checked_at) for key, f in flags().items()} == {
        key: (f.pk, f.flagged_at, f.days, f.checked_at) for key, f in first.items()
    }

    # A day later the quiet customer was called: its flag goes; the gap persists, one day longer.
    FollowUpFactory(customer=quiet, at=at(2025, 6, 30, 18))
    next_day = AS_OF + dt.timedelta(days=1)
    churn_services.flag_churn_risk(as_of=next_day)

    second = flags()
    assert (quiet.pk, "followups_stopped") not in second
    persisting = second[overdue.pk, "purchase_gap"]
    assert persisting.flagged_at == first[overdue.pk, "purchase_gap"].flagged_at == AS_OF
    assert (persisting.days, persisting.checked_at) == (91, next_day)


def test_command_runs_the_job(rep):
    paying(rep, at(2025, 1, 1), followup=at(2025, 1, 2))

    call_command("flag_churn_risk", "--as-of", "2025-06-30T12:00")

    assert ChurnFlag.objects.filter(reason=ChurnReason.FOLLOWUPS_STOPPED).count() == 1


def test_churn_flags_for_follows_customer_visibility(rep, other_rep, manager, other_team_rep, admin_user):
    mine = paying(rep, at(2025, 1, 1), followup=at(2025, 1, 2))
    colleague = paying(other_rep, at(2025, 1, 1), followup=at(2025, 1, 2))
    elsewhere = paying(other_team_rep, at(2025, 1, 1), followup=at(2025, 1, 2))
    churn_services.flag_churn_risk(as_of=AS_OF)

    def seen(user):
        return {flag.customer_id for flag in churn.churn_flags_for(user=user)}

    assert seen(rep) == {mine.pk}
    assert seen(other_team_rep) == {elsewhere.pk}
    assert seen(manager) == {mine.pk, colleague.pk}
    assert seen(admin_user) == {mine.pk, colleague.pk, elsewhere.pk}
