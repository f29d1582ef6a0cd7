"""NPS and CSAT against a hand-built set of answers in April 2025 (Asia/Shanghai); each test
runs on the raw rows and again after the roll-up."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from metrics.kpis import feedback as kpis
from metrics.periods import Period, Scope
from metrics.services import rollups as rollups_services
from tests.factories import CustomerFactory, FeedbackFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
APRIL = Period(dt.date(2025, 4, 1), dt.date(2025, 5, 1))


def local(day: str, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SHANGHAI)


@pytest.fixture(params=["live", "rolled"])
def rolled(request):
    def roll():
        if request.param == "rolled":
            rollups_services.rollup_days(since=dt.date(2025, 3, 1), until=dt.date(2025, 5, 31))

    return roll


def answers(rep):
    customer = CustomerFactory(owner=rep)
    for score in (10, 9, 8, 7, 6, 0):
        FeedbackFactory(customer=customer, nps=score, at=local("2025-04-10"))
    FeedbackFactory(customer=customer, nps=10, csat=5, at=local("2025-04-30", "23:59"))  # in
    FeedbackFactory(customer=customer, nps=0, csat=1, at=local("2025-05-01", "00:00"))  # May
    FeedbackFactory(customer=customer, nps=None, csat=4, at=local("2025-04-01", "00:00"))
    FeedbackFactory(customer=customer, nps=None, csat=3, at=local("2025-04-15"))
    FeedbackFactory(customer=customer, nps=None, csat=1, at=local("2025-04-16"))
    FeedbackFactory(customer=customer, nps=None, csat=None, complaint="Late delivery", at=local("2025-04-17"))


def test_nps_is_percent_promoters_minus_percent_detractors(rep, other_team_rep, team, rolled):
    answers(rep)
    rolled()

    value = kpis.nps(period=APRIL, scope=Scope.team(team.pk))

    # April: 10, 9, 8, 7, 6, 0, 10 -> 7 answers, promoters 3, detractors 2: (3 - 2) / 7 = 14.2857 %
    assert (value.value, value.numerator, value.denominator) == (Decimal("14.29"), 1, 7)
    assert value.detail == {"promoters": 3, "detractors": 2}
    assert kpis.nps(period=APRIL, scope=Scope.rep(other_team_rep.pk)).value is None


def test_nps_spans_minus_100_to_100(rep, rolled):
    customer = CustomerFactory(owner=rep)
    FeedbackFactory(customer=customer, nps=0, at=local("2025-04-03"))
    FeedbackFactory(customer=customer, nps=10, at=local("2025-03-03"))
    rolled()

    assert kpis.nps(period=APRIL, scope=Scope.company()).value == Decimal("-100.00")
    assert kpis.nps(period=Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1)), scope=Scope.company()).value == Decimal("100.00")  # fmt: skip


def test_csat_is_the_share_of_4_and_5_with_the_mean(rep, other_team_rep, rolled):
    answers(rep)
    rolled()

    value = kpis.csat(period=APRIL, scope=Scope.rep(rep.pk))

    # April CSAT answers: 5 (23:59 on the 30th), 4 (00:00 on the 1st), 3, 1 -> 2 of 4 satisfied; mean 13 / 4
    assert (value.value, value.numerator, value.denominator) == (Decimal("50.00"), 2, 4)
    assert value.detail == {"mean": Decimal("3.25")}
    empty = kpis.csat(period=APRIL, scope=Scope.rep(other_team_rep.pk))
    assert (empty.value, empty.detail) == (None, {"mean": None})
