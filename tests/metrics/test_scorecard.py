"""The weighted quarterly scorecard: the arithmetic worked out by hand, its settings (admins only,
refused with nothing saved when weights do not add up to 100 or the cap is below 100 %), targets
per scope and quarter, who sees which scorecard, and the CSV export.

The KPIs here are registered by this module (codes ``test_*``) and removed afterwards, so the
arithmetic does not depend on the real KPI modules: most read their actual from ``ACTUALS``
(the figure each test states), ``test_followups`` counts real follow-up rows in the database.
"""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import FollowUp
from metrics import exceptions, kpis
from metrics.kpis import KpiValue, Unit
from metrics.models import KpiTarget, ScorecardSettings, ScorecardWeight
from metrics.periods import Period, Scope, ScopeKind, start_of_day
from metrics.selectors import scorecard
from metrics.services import scorecard as scorecard_services
from tests.factories import CustomerFactory, FollowUpFactory

pytestmark = pytest.mark.django_db

Q1 = Period(dt.date(2025, 1, 1), dt.date(2025, 4, 1))
Q2 = Period(dt.date(2025, 4, 1), dt.date(2025, 7, 1))

ACTUALS: dict[tuple[str, ScopeKind, object], Decimal | None] = {}


def _from_table(code):
    def function(*, period, scope):
        return KpiValue(ACTUALS.get((code, scope.kind, scope.key)))

    return function


def _followups(*, period, scope):
    start, end = period.bounds()
    rows = FollowUp.objects.filter(at__gte=start, at__lt=end)
    if scope.kind is ScopeKind.REP:
        rows = rows.filter(by_id=scope.key)
    elif scope.kind is ScopeKind.TEAM:
        rows = rows.filter(customer__team_id=scope.key)
    return KpiValue(rows.aggregate(n=Count("id"))["n"])


TEST_KPIS = {
    "test_sales": (True, Unit.MONEY, _from_table("test_sales")),
    "test_conversion": (True, Unit.PERCENT, _from_table("test_conversion")),
    "test_cycle": (False, Unit.DAYS, _from_table("test_cycle")),
    "test_churn": (False, Unit.PERCENT, _from_table("test_churn")),
    "test_followups": (True, Unit.COUNT, _followups),
}


@pytest.fixture(autouse=True)
def test_kpis():
    kpis.load()  # the real modules first, so ours come after them and can be removed cleanly
    for code, (higher, unit, function) in TEST_KPIS.items():
        kpis.kpi(code=code, label=f"Label {code}", unit=unit, higher_is_better=higher)(function)
    ACTUALS.clear()
    yield
    for code in TEST_KPIS:
        kpis.REGISTRY.pop(code, None)
    ACTUALS.clear()


def _weights(**weights):
    ScorecardWeight.objects.all().delete()
    for code, weight in weights.items():
        ScorecardWeight.objects.create(kpi=code, weight=Decimal(weight))


def _target(code, value, *, quarter=Q1, rep=None, team=None):
    return KpiTarget.objects.create(
        kpi=code, quarter=quarter.start, rep=rep, team=team, target=Decimal(value)
    )


def _rows(card):
    return {row.code: row for row in card.rows}


# --- arithmetic ------------------------------------------------------------------------------------


def test_score_is_the_weighted_sum_of_capped_achievements(rep):
    # sales: 150 000 of 100 000 = 150 %, capped at the default 120 % -> 50 * 1.2 = 60.00
    # cycle (lower is better): target 20 days, actual 25 -> 20 / 25 = 80 % -> 30 * 0.8 = 24.00
    # conversion: 45 % of 60 % = 75 % -> 20 * 0.75 = 15.00;      total 60 + 24 + 15 = 99.00
    _weights(test_sales=50, test_cycle=30, test_conversion=20)
    scope = Scope.rep(rep.pk)
    ACTUALS.update(
        {
            ("test_sales", ScopeKind.REP, rep.pk): Decimal(150000),
            ("test_cycle", ScopeKind.REP, rep.pk): Decimal(25),
            ("test_conversion", ScopeKind.REP, rep.pk): Decimal(45),
        }
    )
    _target("test_sales", 100000)
    _target("test_cycle", 20)
    _target("test_conversion", 60)

    card = scorecard.scorecard(scope=scope, quarter=Q1)

    rows = _rows(card)
    assert card.cap == Decimal(120)
    assert (rows["test_sales"].ratio, rows["test_sales"].capped, rows["test_sales"].points) == (
        Decimal("1.5"),
        Decimal("1.2"),
        Decimal("60.00"),
    )
    assert (rows["test_cycle"].ratio, rows["test_cycle"].points) == (Decimal("0.8"), Decimal("24.00"))
    assert (rows["test_conversion"].ratio, rows["test_conversion"].points) == (
        Decimal("0.75"),
        Decimal("15.00"),
    )
    assert card.total == Decimal("99.00")
    assert card.is_configured
    assert [row.code for row in card.rows] == ["test_sales", "test_cycle", "test_conversion"]


def test_lower_is_better_above_target_is_capped_and_zero_reaches_the_cap(rep):
    # cycle: target 30, actual 10 -> 30 / 10 = 300 %, capped 120 % -> 60 * 1.2 = 72.00
    # churn: actual 0 % (nobody left) -> the cap, 120 % -> 40 * 1.2 = 48.00;   total 120.00
    _weights(test_cycle=60, test_churn=40)
    ACTUALS[("test_cycle", ScopeKind.REP, rep.pk)] = Decimal(10)
    ACTUALS[("test_churn", ScopeKind.REP, rep.pk)] = Decimal(0)
    _target("test_cycle", 30)
    _target("test_churn", 5)

    card = scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)

    rows = _rows(card)
    assert rows["test_cycle"].ratio == Decimal(3)
    assert rows["test_cycle"].points == Decimal("72.00")
    assert rows["test_churn"].points == Decimal("48.00")
    assert card.total == Decimal("120.00")


def test_a_kpi_without_data_or_without_target_scores_zero_and_is_marked(rep):
    # sales: target met exactly -> 40 * 1 = 40.00; conversion: no data (zero denominator) -> 0;
    # cycle: no target this quarter -> 0; their weights still count: total 40.00 of 100.
    _weights(test_sales=40, test_conversion=35, test_cycle=25)
    ACTUALS[("test_sales", ScopeKind.REP, rep.pk)] = Decimal(500)
    ACTUALS[("test_cycle", ScopeKind.REP, rep.pk)] = Decimal(12)
    _target("test_sales", 500)
    _target("test_conversion", 20)
    _target("test_cycle", 10, quarter=Q2)  # another quarter's target does not apply

    card = scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)

    rows = _rows(card)
    assert (rows["test_sales"].missing, rows["test_sales"].points) == ("", Decimal("40.00"))
    assert (rows["test_conversion"].missing, rows["test_conversion"].points) == (
        scorecard.MISSING_NO_DATA,
        Decimal(0),
    )
    assert rows["test_conversion"].actual is None
    assert (rows["test_cycle"].missing, rows["test_cycle"].points) == (
        scorecard.MISSING_NO_TARGET,
        Decimal(0),
    )
    assert rows["test_cycle"].actual == Decimal(12)
    assert card.total == Decimal("40.00")


def test_a_weighted_code_no_module_registers_scores_zero(rep):
    _weights(test_sales=70, test_gone=30)
    ACTUALS[("test_sales", ScopeKind.REP, rep.pk)] = Decimal(90)
    _target("test_sales", 100)

    card = scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)

    assert _rows(card)["test_gone"].missing == scorecard.MISSING_UNKNOWN_KPI
    assert card.total == Decimal("63.00")  # 70 * 0.9


def test_a_negative_actual_scores_zero_not_below(rep):
    _weights(test_sales=100)
    ACTUALS[("test_sales", ScopeKind.REP, rep.pk)] = Decimal(-20)  # e.g. sales growth -20 %
    _target("test_sales", 10)

    card = scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)

    assert card.rows[0].ratio == Decimal(0)
    assert card.total == Decimal(0)


def test_a_higher_cap_lets_overachievement_count_more(admin_user, rep):
    # sales 130 % with a 150 % cap: 50 * 1.3 = 65.00; conversion 2/3 -> 0.6667: 50 * 0.6667 = 33.335 -> 33.34
    scorecard_services.update_scorecard(
        actor=admin_user,
        weights={"test_sales": Decimal(50), "test_conversion": Decimal(50)},
        cap=Decimal(150),
    )
    ACTUALS[("test_sales", ScopeKind.REP, rep.pk)] = Decimal(130)
    ACTUALS[("test_conversion", ScopeKind.REP, rep.pk)] = Decimal(20)
    _target("test_sales", 100)
    _target("test_conversion", 30)

    card = scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)

    assert card.cap == Decimal(150)
    assert _rows(card)["test_sales"].points == Decimal("65.00")
    assert _rows(card)["test_conversion"].ratio == Decimal("0.6667")
    assert _rows(card)["test_conversion"].points == Decimal("33.34")
    assert card.total == Decimal("98.34")


def test_actuals_come_from_the_kpi_over_real_rows_for_the_scope_and_quarter(rep, other_rep):
    # Three follow-ups by rep in Q1 (one at 23:59 on 31 March, company time), one at 00:00 on
    # 1 April (Q2), one by a colleague: 3 of a target of 4 = 75 % -> 100 * 0.75 = 75.00.
    _weights(test_followups=100)
    _target("test_followups", 4)
    customer = CustomerFactory(owner=rep)
    for at in (
        start_of_day(dt.date(2025, 1, 1)),
        start_of_day(dt.date(2025, 2, 14)),
        start_of_day(dt.date(2025, 4, 1)) - dt.timedelta(minutes=1),
        start_of_day(dt.date(2025, 4, 1)),
    ):
        FollowUpFactory(customer=customer, by=rep, at=at)
    FollowUpFactory(
        customer=CustomerFactory(owner=other_rep), by=other_rep, at=start_of_day(dt.date(2025, 2, 1))
    )

    card = scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)

    assert card.rows[0].actual == Decimal(3)
    assert card.total == Decimal("75.00")


def test_scorecard_queries_do_not_grow_with_the_data(rep):
    _weights(test_followups=100)
    _target("test_followups", 4)
    customer = CustomerFactory(owner=rep)
    FollowUpFactory(customer=customer, by=rep, at=start_of_day(dt.date(2025, 2, 1)))
    with CaptureQueriesContext(connection) as few:
        scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)
    for day in range(1, 28):
        FollowUpFactory(customer=customer, by=rep, at=start_of_day(dt.date(2025, 2, day)))
    with CaptureQueriesContext(connection) as many:
        scorecard.scorecard(scope=Scope.rep(rep.pk), quarter=Q1)
    assert len(many) == len(few) <= 5


# --- targets ---------------------------------------------------------------------------------------


def test_a_scope_own_target_wins_and_a_team_target_is_not_a_reps_fallback(rep, team):
    _target("test_sales", 1000)  # everyone
    _target("test_sales", 50000, team=team)  # the team's total
    _target("test_conversion", 25)  # everyone
    _target("test_conversion", 30, rep=rep)
    _target("test_cycle", 9, team=team)

    assert scorecard.targets_for(scope=Scope.rep(rep.pk), period=Q1) == {
        "test_sales": Decimal(1000),
        "test_conversion": Decimal(30),
    }
    assert scorecard.targets_for(scope=Scope.team(team.pk), period=Q1) == {
        "test_sales": Decimal(50000),
        "test_conversion": Decimal(25),
        "test_cycle": Decimal(9),
    }
    assert scorecard.targets_for(scope=Scope.company(), period=Q1) == {
        "test_sales": Decimal(1000),
        "test_conversion": Decimal(25),
    }
    # A month is compared with the quarter that contains it; another quarter has none.
    assert scorecard.targets_for(
        scope=Scope.rep(rep.pk), period=Period(dt.date(2025, 3, 1), dt.date(2025, 4, 1))
    )
    assert scorecard.targets_for(scope=Scope.rep(rep.pk), period=Q2) == {}


def test_set_targets_replaces_removes_and_keeps_others(admin_user, rep):
    _target("test_sales", 100, rep=rep)
    _target("test_cycle", 7, rep=rep)

    stored = scorecard_services.set_kpi_targets(
        actor=admin_user,
        quarter=Q1.start,
        target_scope=scorecard.TargetScope(rep_id=rep.pk),
        targets={"test_sales": Decimal("250.5"), "test_conversion": Decimal(12), "test_cycle": None},
    )

    assert stored == {"test_sales": Decimal("250.5"), "test_conversion": Decimal(12)}
    assert KpiTarget.objects.filter(rep=rep).count() == 2


@pytest.mark.parametrize("bad", [Decimal(0), Decimal(-5), Decimal("1.23456")])
def test_bad_targets_are_refused_and_nothing_is_saved(admin_user, bad):
    _target("test_sales", 100)
    with pytest.raises(exceptions.ScorecardInvalid) as refused:
        scorecard_services.set_kpi_targets(
            actor=admin_user,
            quarter=Q1.start,
            target_scope=scorecard.TargetScope(),
            targets={"test_sales": Decimal(300), "test_conversion": bad},
        )
    assert set(refused.value.fields) == {"test_conversion"}
    assert list(KpiTarget.objects.values_list("kpi", "target")) == [("test_sales", Decimal(100))]


def test_targets_need_a_quarter_start_and_a_known_kpi(admin_user):
    with pytest.raises(exceptions.ScorecardInvalid) as refused:
        scorecard_services.set_kpi_targets(
            actor=admin_user,
            quarter=dt.date(2025, 2, 1),
            target_scope=scorecard.TargetScope(),
            targets={"no_such_kpi": Decimal(3)},
        )
    assert set(refused.value.fields) == {"quarter", "no_such_kpi"}
    assert not KpiTarget.objects.exists()


def test_only_admins_set_targets_and_weights(manager):
    with pytest.raises(exceptions.ScorecardNotAllowed):
        scorecard_services.set_kpi_targets(
            actor=manager,
            quarter=Q1.start,
            target_scope=scorecard.TargetScope(),
            targets={"test_sales": Decimal(1)},
        )
    with pytest.raises(exceptions.ScorecardNotAllowed):
        scorecard_services.update_scorecard(
            actor=manager, weights={"test_sales": Decimal(100)}, cap=Decimal(120)
        )
    assert not KpiTarget.objects.exists()
    assert not ScorecardWeight.objects.exists()


# --- weights and cap -------------------------------------------------------------------------------


def test_weights_summing_to_100_replace_the_old_ones(admin_user):
    _weights(test_churn=100)

    config = scorecard_services.update_scorecard(
        actor=admin_user,
        weights={
            "test_sales": Decimal("33.33"),
            "test_cycle": Decimal("33.33"),
            "test_conversion": Decimal("33.34"),
            "test_churn": None,
        },
        cap=Decimal(110),
    )

    assert config.weights == {
        "test_conversion": Decimal("33.34"),
        "test_cycle": Decimal("33.33"),
        "test_sales": Decimal("33.33"),
    }
    assert config.cap == Decimal(110)
    assert ScorecardSettings.objects.get().cap == Decimal(110)


@pytest.mark.parametrize(
    "weights",
    [
        {"test_sales": Decimal(60), "test_cycle": Decimal(30)},  # 90
        {"test_sales": Decimal(60), "test_cycle": Decimal(50)},  # 110
        {},  # nothing chosen
    ],
)
def test_weights_not_summing_to_100_are_refused_and_nothing_changes(admin_user, weights):
    _weights(test_churn=100)

    with pytest.raises(exceptions.ScorecardInvalid) as refused:
        scorecard_services.update_scorecard(actor=admin_user, weights=weights, cap=Decimal(130))

    assert "weights" in refused.value.fields
    assert list(ScorecardWeight.objects.values_list("kpi", "weight")) == [("test_churn", Decimal(100))]
    assert not ScorecardSettings.objects.exists()  # the cap was not saved either


def test_a_cap_below_100_is_refused(admin_user):
    with pytest.raises(exceptions.ScorecardInvalid) as refused:
        scorecard_services.update_scorecard(
            actor=admin_user, weights={"test_sales": Decimal(100)}, cap=Decimal("99.99")
        )
    assert set(refused.value.fields) == {"cap"}
    assert not ScorecardWeight.objects.exists()


def test_weights_must_be_percentages_of_known_kpis(admin_user):
    with pytest.raises(exceptions.ScorecardInvalid) as refused:
        scorecard_services.update_scorecard(
            actor=admin_user,
            weights={"test_sales": Decimal(120), "nope": Decimal(10), "test_cycle": Decimal("0.001")},
            cap=Decimal(120),
        )
    assert set(refused.value.fields) == {"test_sales", "nope", "test_cycle"}


def test_the_database_refuses_a_cap_below_100_and_a_second_settings_row():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        ScorecardSettings.objects.create(pk=1, cap=Decimal(90))
    with pytest.raises(IntegrityError), transaction.atomic():
        ScorecardSettings.objects.create(pk=2, cap=Decimal(120))


# --- pages: settings (admin only) ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["scorecard:targets", "scorecard:weights"])
def test_settings_pages_are_for_admins_only(client, rep, manager, admin_user, name):
    assert client.get(reverse(name)).status_code == 302  # to the login page
    for user in (rep, manager):
        client.force_login(user)
        assert client.get(reverse(name)).status_code == 403
        assert client.post(reverse(name), {}).status_code == 403
    client.force_login(admin_user)
    assert client.get(reverse(name)).status_code == 200


def _weights_post(weights, cap):
    codes = list(kpis.load())
    data = {
        "weights-TOTAL_FORMS": str(len(codes)),
        "weights-INITIAL_FORMS": str(len(codes)),
        "weights-MIN_NUM_FORMS": "0",
        "weights-MAX_NUM_FORMS": "200",
        "cap": cap,
    }
    for index, code in enumerate(codes):
        data[f"weights-{index}-kpi"] = code
        data[f"weights-{index}-weight"] = weights.get(code, "")
    return data


def test_weights_page_saves_good_input(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("scorecard:weights"))
    assert "Label test_sales" in page.content.decode()

    response = client.post(
        reverse("scorecard:weights"), _weights_post({"test_sales": "70", "test_cycle": "30"}, "125")
    )

    assert response.status_code == 302
    assert dict(ScorecardWeight.objects.values_list("kpi", "weight")) == {
        "test_sales": Decimal(70),
        "test_cycle": Decimal(30),
    }
    assert ScorecardSettings.objects.get().cap == Decimal(125)


def test_weights_page_refuses_a_bad_sum_or_cap_and_saves_nothing(client, admin_user):
    _weights(test_churn=100)
    client.force_login(admin_user)

    response = client.post(
        reverse("scorecard:weights"), _weights_post({"test_sales": "70", "test_cycle": "20"}, "125")
    )
    assert response.status_code == 400
    assert "The weights must add up to 100 %; they add up to 90 %." in response.content.decode()

    response = client.post(
        reverse("scorecard:weights"), _weights_post({"test_sales": "70", "test_cycle": "30"}, "80")
    )
    assert response.status_code == 400
    assert "The cap must be between 100 % and 1000 %." in response.content.decode()

    assert list(ScorecardWeight.objects.values_list("kpi", "weight")) == [("test_churn", Decimal(100))]
    assert not ScorecardSettings.objects.exists()


def test_weights_page_errors_come_in_the_users_language(client, admin_user):
    """The page (and its messages, once the catalogue has them) follow the user's language."""
    client.force_login(admin_user)
    response = client.post(
        reverse("scorecard:weights"),
        _weights_post({"test_sales": "50"}, "120"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert response.status_code == 400
    assert '<html lang="zh-hans"' in response.content.decode()


def test_targets_page_edits_one_scope_and_quarter(client, admin_user, team):
    _target("test_sales", 10, team=team, quarter=Q2)  # another quarter, untouched
    client.force_login(admin_user)
    url = f"{reverse('scorecard:targets')}?quarter=2025-Q1&scope=team-{team.pk}"
    page = client.get(url)
    assert page.status_code == 200
    codes = [form["kpi"].value() for form in page.context["formset"]]
    data = {
        "targets-TOTAL_FORMS": str(len(codes)),
        "targets-INITIAL_FORMS": str(len(codes)),
        "targets-MIN_NUM_FORMS": "0",
        "targets-MAX_NUM_FORMS": "200",
    }
    for index, code in enumerate(codes):
        data[f"targets-{index}-kpi"] = code
        data[f"targets-{index}-target"] = {"test_sales": "80000", "test_cycle": "14.5"}.get(code, "")

    response = client.post(url, data)

    assert response.status_code == 302
    assert dict(KpiTarget.objects.filter(team=team, quarter=Q1.start).values_list("kpi", "target")) == {
        "test_sales": Decimal(80000),
        "test_cycle": Decimal("14.5"),
    }
    assert KpiTarget.objects.filter(team=team, quarter=Q2.start).count() == 1

    data[f"targets-{codes.index('test_cycle')}-target"] = "-3"
    refused = client.post(url, data)
    assert refused.status_code == 400
    assert "A target is a number greater than 0." in refused.content.decode()
    assert KpiTarget.objects.get(team=team, quarter=Q1.start, kpi="test_cycle").target == Decimal("14.5")


# --- pages: the scorecard ----------------------------------------------------------------------------


def _scorecard_url(scope_key, quarter="2025-Q1", name="scorecard:page"):
    return f"{reverse(name)}?scope={scope_key}&quarter={quarter}"


def test_a_rep_sees_only_their_own_scorecard(client, rep, other_rep, team):
    client.force_login(rep)
    assert client.get(reverse("scorecard:page")).context["scope_key"] == f"rep-{rep.pk}"
    assert client.get(_scorecard_url(f"rep-{rep.pk}")).status_code == 200
    assert client.get(_scorecard_url(f"rep-{other_rep.pk}")).status_code == 404
    assert client.get(_scorecard_url(f"team-{team.pk}")).status_code == 404
    assert client.get(_scorecard_url(f"rep-{other_rep.pk}", name="scorecard:export")).status_code == 404


def test_a_manager_sees_their_teams_and_reps_not_another_team(client, manager, rep, team, other_team_rep):
    client.force_login(manager)
    assert client.get(reverse("scorecard:page")).context["scope_key"] == f"team-{team.pk}"
    assert client.get(_scorecard_url(f"team-{team.pk}")).status_code == 200
    assert client.get(_scorecard_url(f"rep-{rep.pk}")).status_code == 200
    assert client.get(_scorecard_url(f"team-{other_team_rep.team_id}")).status_code == 404
    assert client.get(_scorecard_url(f"rep-{other_team_rep.pk}")).status_code == 404


def test_an_admin_sees_every_scorecard(client, admin_user, rep, other_team_rep):
    client.force_login(admin_user)
    assert client.get(_scorecard_url(f"rep-{rep.pk}")).status_code == 200
    assert client.get(_scorecard_url(f"team-{other_team_rep.team_id}")).status_code == 200
    assert client.get(_scorecard_url("rep-999999")).status_code == 404


def test_scorecard_page_and_csv_show_the_same_figures(client, manager, rep):
    _weights(test_sales=50, test_cycle=30, test_conversion=20)
    ACTUALS[("test_sales", ScopeKind.REP, rep.pk)] = Decimal(150000)
    ACTUALS[("test_cycle", ScopeKind.REP, rep.pk)] = Decimal(25)
    _target("test_sales", 100000)
    _target("test_cycle", 20)
    client.force_login(manager)

    page = client.get(_scorecard_url(f"rep-{rep.pk}"))
    export = client.get(_scorecard_url(f"rep-{rep.pk}", name="scorecard:export"))

    html = page.content.decode()
    assert 'id="scorecard-total">84.00<' in html  # 60 + 24 + 0 (conversion: no data)
    assert export["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["KPI code", "KPI", "Actual"]
    by_code = {row[0]: row for row in rows[1:-1]}
    assert by_code["test_sales"][2:8] == ["150000", "100000.0000", "150.00", "120.00", "50.00", "60.00"]
    assert by_code["test_cycle"][7] == "24.00"
    assert by_code["test_conversion"][7:] == ["0.00", "no data"]
    assert rows[-1][1:] == ["Total", "", "", "", "", "100.00", "84.00", ""]
