"""The dashboards at /metrics/: who sees what, the period picker, CSV exports, query budgets.

Expected figures are worked out by hand from the small history each test builds.
"""

import csv
import datetime as dt
import io
from decimal import Decimal
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from customers.models import Campaign, CampaignParticipant, DealStage, FollowUpKind, Role
from metrics.exports import Cell, Column, Table, csv_response
from metrics.models import ChurnFlag, ChurnReason
from metrics.periods import Period
from metrics.views import preset_period
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import (
    CustomerFactory,
    DealFactory,
    FollowUpFactory,
    PoolFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/metrics/"
SHANGHAI = ZoneInfo("Asia/Shanghai")
JANUARY = {"period": "custom", "from": "2026-01-05", "to": "2026-01-11"}  # Monday to Sunday


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour), tzinfo=SHANGHAI)


class Tables(HTMLParser):
    """Collects every ``<table data-table=...>``: header texts and each cell's ``data-csv``."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, dict[str, list]] = {}
        self._current: str | None = None
        self._in_th = False
        self._header: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "table" and "data-table" in attributes:
            self._current = attributes["data-table"]
            self.tables[self._current] = {"header": [], "rows": []}
        elif self._current and tag == "th":
            self._in_th = True
            self._header.append("")
        elif self._current and tag == "tr":
            self._row: list[str] = []
            self._row_open = True
        elif self._current and tag == "td" and "data-csv" in attributes:
            self._row.append(attributes["data-csv"])

    def handle_endtag(self, tag):
        if tag == "th":
            self._in_th = False
        elif tag == "tr" and self._current:
            if self._header:
                self.tables[self._current]["header"] = self._header
                self._header = []
            elif self._row:
                self.tables[self._current]["rows"].append(self._row)
        elif tag == "table":
            self._current = None

    def handle_data(self, data):
        if self._in_th:
            self._header[-1] += data


def page_tables(response) -> dict[str, dict[str, list]]:
    parser = Tables()
    parser.feed(response.content.decode())
    return parser.tables


def read_csv(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


# --- who sees what ------------------------------------------------------------------------------


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_dashboard_url_name():
    assert reverse("metrics:dashboard") == URL


def test_rep_sees_own_figures_against_targets(client, rep):
    client.force_login(rep)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["scope"].key == rep.pk
    assert "My figures against my targets" in response.content.decode()
    tables = page_tables(response)
    assert "leaderboard" not in tables
    assert "campaigns" not in tables
    assert {"kpis", "at_risk", "churn", "funnel", "conversion_trend"} <= set(tables)
    assert "Target" in tables["kpis"]["header"]


@pytest.mark.parametrize(
    "query",
    [
        {"scope": "rep", "id": "OTHER"},
        {"who": "rep-OTHER"},
        {"scope": "team", "id": "TEAM"},
        {"scope": "company"},
        {"who": "company"},
    ],
)
def test_rep_asking_for_anyone_else_gets_404(client, rep, other_rep, team, query):
    client.force_login(rep)
    ids = {"OTHER": str(other_rep.pk), "TEAM": str(team.pk)}
    query = {
        key: value.replace("OTHER", ids["OTHER"]).replace("TEAM", ids["TEAM"]) for key, value in query.items()
    }
    assert client.get(URL, query).status_code == 404
    assert client.get(URL, {**query, "export": "csv", "table": "kpis"}).status_code == 404


def test_manager_sees_own_team_and_its_reps_not_another_team(client, manager, rep, team, other_team_rep):
    client.force_login(manager)
    response = client.get(URL)
    assert response.status_code == 200
    assert (response.context["scope"].kind, response.context["scope"].key) == ("team", team.pk)
    assert client.get(URL, {"who": f"rep-{rep.pk}"}).status_code == 200
    assert client.get(URL, {"scope": "team", "id": other_team_rep.team_id}).status_code == 404
    assert client.get(URL, {"scope": "rep", "id": other_team_rep.pk}).status_code == 404
    assert client.get(URL, {"scope": "company"}).status_code == 404
    assert client.get(URL, {"scope": "team", "id": 999999}).status_code == 404


def test_manager_picker_lists_only_own_teams_and_people(client, manager, rep, other_rep, other_team_rep):
    client.force_login(manager)
    body = client.get(URL).content.decode()
    assert f'value="rep-{rep.pk}"' in body
    assert f'value="rep-{other_rep.pk}"' in body
    assert f'value="rep-{other_team_rep.pk}"' not in body
    assert f'value="team-{other_team_rep.team_id}"' not in body
    assert 'value="company"' not in body


def test_admin_sees_company_any_team_and_any_rep(client, admin_user, rep, other_team_rep):
    client.force_login(admin_user)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["scope"].kind == "company"
    assert {"leaderboard", "campaigns", "cac_by_channel", "pool", "stale_leads"} <= set(page_tables(response))
    assert client.get(URL, {"scope": "team", "id": other_team_rep.team_id}).status_code == 200
    assert client.get(URL, {"scope": "rep", "id": rep.pk}).status_code == 200


def test_leaderboard_lists_only_the_scope_people(client, manager, rep, other_rep, other_team_rep):
    client.force_login(manager)
    rows = page_tables(client.get(URL))["leaderboard"]["rows"]
    names = {row[1] for row in rows}
    assert {str(rep), str(other_rep), str(manager)} <= names
    assert str(other_team_rep) not in names


# --- the period picker --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("this_week", "2026-03-02", "2026-03-09"),
        ("last_week", "2026-02-23", "2026-03-02"),
        ("this_month", "2026-03-01", "2026-04-01"),
        ("last_month", "2026-02-01", "2026-03-01"),
        ("this_quarter", "2026-01-01", "2026-04-01"),
        ("last_quarter", "2025-10-01", "2026-01-01"),
        ("this_year", "2026-01-01", "2027-01-01"),
        ("last_year", "2025-01-01", "2026-01-01"),
    ],
)
def test_presets_relative_to_a_wednesday(preset, start, end):
    today = dt.date(2026, 3, 4)  # a Wednesday
    assert preset_period(preset, today=today) == Period(
        dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    )


def test_custom_period_includes_the_end_day_and_compares_with_the_week_before(client, manager):
    client.force_login(manager)
    response = client.get(URL, JANUARY)
    assert response.status_code == 200
    assert response.context["period"] == Period(dt.date(2026, 1, 5), dt.date(2026, 1, 12))
    assert response.context["previous"] == Period(dt.date(2025, 12, 29), dt.date(2026, 1, 5))
    assert "2026-01-05 – 2026-01-11, compared with 2025-12-29 – 2026-01-04" in response.content.decode()


def test_a_whole_year_trends_by_month_and_a_week_by_week(client, manager):
    client.force_login(manager)
    year = client.get(URL, {"period": "custom", "from": "2025-01-01", "to": "2025-12-31"})
    assert [row[0] for row in page_tables(year)["sales_trend"]["rows"]][:2] == ["2025-01", "2025-02"]
    assert len(page_tables(year)["sales_trend"]["rows"]) == 12
    week = client.get(URL, JANUARY)
    assert [row[0] for row in page_tables(week)["sales_trend"]["rows"]] == ["2026-01-05"]
    weekly_year = client.get(URL, {"period": "last_year", "grain": "week"})
    assert len(page_tables(weekly_year)["sales_trend"]["rows"]) in (53, 54)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"period": "custom", "from": "2026-02-01", "to": "2026-01-01"},
            "The end date 2026-01-01 is before the start date 2026-02-01.",
        ),
        ({"period": "custom", "from": "2026-02-01"}, "A custom period needs both a start and an end date."),
        ({"period": "custom", "from": "2026-13-01", "to": "2026-12-31"}, "From: Enter a valid date."),
        ({"period": "fortnight"}, "Select a valid choice. fortnight is not one of the available choices."),
        (
            {"period": "custom", "from": "2000-01-01", "to": "2026-01-01"},
            "A period can be at most five years long",
        ),
        ({"grain": "hour"}, "Trend by: Select a valid choice."),
        ({"who": "everyone"}, "Whose figures: Enter a valid value."),
        ({"scope": "rep", "id": "abc"}, "Team or person: Enter a whole number."),
    ],
)
def test_bad_input_answers_400_with_a_clear_message(client, manager, query, message):
    client.force_login(manager)
    response = client.get(URL, query)
    assert response.status_code == 400
    body = response.content.decode()
    assert "These figures cannot be shown" in body
    assert message in body.replace("&#x27;", "'")
    assert 'data-table="kpis"' not in body  # no figures for a period that does not exist


def test_unknown_or_foreign_table_export_is_404(client, rep):
    client.force_login(rep)
    assert client.get(URL, {"export": "csv", "table": "nope"}).status_code == 404
    assert (
        client.get(URL, {"export": "csv", "table": "leaderboard"}).status_code == 404
    )  # not on a rep's page


# --- figures, tables and their CSV --------------------------------------------------------------


@pytest.fixture
def january_history(rep, other_rep):
    """In the week 2026-01-05..11 (Shanghai): rep claims `first` from a pool (08:00 on the 5th)
    and wins 10,000 + 5,000 on two customers (one of them a first win), logs 3 calls and 1
    visit on 2 customers; other_rep wins nothing and logs 1 e-mail. Deals created that week:
    2 lead, 1 proposal, the 2 won, 1 lost."""
    first = CustomerFactory(owner=rep, name="=Alpha Trading", first_won_at=at("2026-01-06"))
    second = CustomerFactory(
        owner=rep, name="北京 Beta", first_won_at=at("2025-06-01"), created_at=at("2025-05-01")
    )
    third = CustomerFactory(owner=other_rep, name="Gamma")
    DealFactory(
        customer=first,
        won=True,
        amount=Decimal("10000"),
        closed_at=at("2026-01-06"),
        created_at=at("2026-01-05"),
    )
    DealFactory(
        customer=second,
        won=True,
        amount=Decimal("5000"),
        closed_at=at("2026-01-09"),
        created_at=at("2026-01-05"),
    )
    DealFactory(customer=second, stage=DealStage.PROPOSAL, created_at=at("2026-01-07"))
    DealFactory(customer=third, stage=DealStage.LEAD, created_at=at("2026-01-07"))
    DealFactory(customer=third, stage=DealStage.LEAD, created_at=at("2026-01-08"))
    DealFactory(customer=third, lost=True, closed_at=at("2026-01-10"), created_at=at("2026-01-08"))
    DealFactory(customer=third, stage=DealStage.LEAD, created_at=at("2026-01-12", 1))  # the week after
    # rep claimed `first` from a pool at 08:00 on the 5th and called at 10:00: 2 hours.
    PoolEvent.objects.create(
        customer=first,
        kind=PoolEventKind.CLAIM,
        to_owner=rep,
        actor=rep,
        from_pool=PoolFactory(),
        at=at("2026-01-05", 8),
    )
    fair = Campaign.objects.create(
        name="Spring fair",
        channel="trade_show",
        budget=Decimal("20000"),
        target_leads=10,
        starts_on=dt.date(2026, 1, 1),
        ends_on=dt.date(2026, 1, 31),
    )
    CampaignParticipant.objects.create(campaign=fair, customer=first, joined_at=at("2026-01-06"))
    for day in ("2026-01-05", "2026-01-06", "2026-01-07"):
        FollowUpFactory(customer=first, kind=FollowUpKind.CALL, at=at(day))
    FollowUpFactory(customer=second, kind=FollowUpKind.VISIT, at=at("2026-01-08"))
    FollowUpFactory(customer=third, kind=FollowUpKind.EMAIL, at=at("2026-01-11", 23))  # 23:00 local: in
    FollowUpFactory(customer=third, kind=FollowUpKind.EMAIL, at=at("2026-01-12", 0))  # midnight: out
    return first, second, third


def test_leaderboard_figures(client, manager, rep, other_rep, january_history):
    client.force_login(manager)
    table = page_tables(client.get(URL, JANUARY))["leaderboard"]
    assert table["header"][:4] == ["Rank", "Sales rep", "Deals won", "Revenue"]
    rows = {row[1]: row for row in table["rows"]}
    # rank, name, won, revenue, call, visit, email, meeting, message, conversion, first response, cycle
    assert rows[str(rep)][:9] == ["1", str(rep), "2", "15000.00", "3", "1", "0", "0", "0"]
    assert rows[str(rep)][9] == "50.0"  # 1 new customer ÷ 2 customers followed up
    assert rows[str(rep)][10] == "2.0"  # claimed 08:00, first call 10:00
    # Sales cycle: `first` 08:00 on the 5th (claim) to 10:00 on the 6th = 26 h = 1.083 days;
    # `second` never claimed: created 2025-05-01 to won 2026-01-09 = 253 days; median 127.04.
    assert rows[str(rep)][11] == "127.0"
    assert rows[str(other_rep)][2:9] == ["0", "0.00", "0", "0", "1", "0", "0"]
    assert rows[str(other_rep)][9] == "0.0"  # 0 new ÷ 1 worked
    assert rows[str(manager)][9] == "No data"  # worked nobody


def test_funnel_counts_deals_created_in_the_period(client, manager, january_history):
    client.force_login(manager)
    rows = page_tables(client.get(URL, JANUARY))["funnel"]["rows"]
    # stage, now at stage, reached, amount
    assert [row[:3] for row in rows] == [
        ["Lead", "2", "6"],
        ["Qualified", "0", "3"],  # proposal 1 + won 2
        ["Proposal", "1", "3"],
        ["Negotiation", "0", "2"],
        ["Won", "2", "2"],
        ["Lost", "1", "–"],
    ]
    assert rows[4][3] == "15000.00"


def test_kpi_overview_shows_no_data_as_such(client, manager, january_history):
    client.force_login(manager)
    export = read_csv(client.get(URL, {**JANUARY, "export": "csv", "table": "kpis"}))
    rows = {row[1]: row for row in export[1:]}  # by code (the code is in the CSV only)
    assert rows["sales"][2:4] == ["15000.00", "0.00"]
    assert rows["win_rate"][2:5] == ["66.7", "No data", "No data"]  # 2 won of 3 closed; nothing before
    assert rows["customer_conversion"][2] == "33.3"  # 1 first win ÷ 3 customers followed up
    assert rows["sales_cycle"][2] == "127.0"  # the same median as the leaderboard's (rep only)
    assert rows["first_response"][2] == "2.0"


def test_every_csv_export_equals_its_table(client, manager, january_history):
    client.force_login(manager)
    response = client.get(URL, JANUARY)
    tables = page_tables(response)
    assert len(tables) >= 10
    for name, table in tables.items():
        export = client.get(
            URL, {**JANUARY, "scope": "team", "id": manager.team_id, "export": "csv", "table": name}
        )
        assert export.status_code == 200, name
        assert export["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in export["Content-Disposition"]
        rows = read_csv(export)
        if name in ("kpis", "pool"):  # the KPI code: a CSV-only column, not on the page
            assert rows[0][1] == "Code", name
            rows = [row[:1] + row[2:] for row in rows]
        assert rows[0] == table["header"], name
        if name == "leaderboard" or name == "churn":
            assert rows[1 : len(table["rows"]) + 1] == table["rows"], name  # the page shows page 1
        else:
            assert rows[1:] == table["rows"], name


def test_csv_is_excel_friendly_keeps_chinese_and_defuses_formulas():
    table = Table(name="t", title="T", columns=[Column("name", "名称"), Column("n", "N", numeric=True)])
    table.rows.append([Cell.label("=HYPERLINK(1)"), Cell.number(-5)])
    table.rows.append([Cell.label("北京 Beta"), Cell.number(Decimal("1234.5"), decimals=2)])
    response = csv_response(table, filename="t.csv")
    assert response.content.startswith("\ufeff".encode())
    assert response.content.decode("utf-8").endswith("\r\n")
    assert read_csv(response) == [["名称", "N"], ["'=HYPERLINK(1)", "-5"], ["北京 Beta", "1234.50"]]
    assert table.rows[1][1].text == "1,234.50"


def test_csv_file_is_named_for_the_table_and_period(client, manager, january_history):
    client.force_login(manager)
    export = client.get(URL, {**JANUARY, "export": "csv", "table": "leaderboard"})
    assert export["Content-Disposition"] == 'attachment; filename="leaderboard_2026-01-05_2026-01-11.csv"'


def test_campaign_row_on_a_manager_page(client, manager, january_history):
    client.force_login(manager)
    rows = page_tables(client.get(URL, JANUARY))["campaigns"]["rows"]
    # campaign, participants, leads, new customers, sales, spend, budget, ...
    assert rows[0][:7] == ["Spring fair", "1", "0", "0", "0.00", "0.00", "20000.00"]


def test_churn_warnings_only_for_the_scope(client, manager, rep, other_team_rep):
    mine = CustomerFactory(owner=rep, name="Quiet Ltd")
    theirs = CustomerFactory(owner=other_team_rep, name="Far Away Ltd")
    ChurnFlag.objects.create(customer=mine, reason=ChurnReason.FOLLOWUPS_STOPPED, days=75)
    ChurnFlag.objects.create(customer=theirs, reason=ChurnReason.FOLLOWUPS_STOPPED, days=80)
    client.force_login(manager)
    rows = page_tables(client.get(URL))["churn"]["rows"]
    assert [row[:4] for row in rows] == [
        ["Quiet Ltd", str(rep), "Follow-ups stopped", "No follow-up for 75 days."]
    ]
    client.force_login(rep)
    assert [row[0] for row in page_tables(client.get(URL))["churn"]["rows"]] == ["Quiet Ltd"]
    client.force_login(other_team_rep)
    assert [row[0] for row in page_tables(client.get(URL))["churn"]["rows"]] == ["Far Away Ltd"]


def test_rep_sees_own_customers_about_to_be_recycled(client, rep, other_rep):
    now = timezone.now()
    CustomerFactory(owner=rep, name="Soon Ltd", recycle_due_at=now + dt.timedelta(days=3, hours=1))
    CustomerFactory(owner=rep, name="Later Ltd", recycle_due_at=now + dt.timedelta(days=20, hours=1))
    CustomerFactory(owner=other_rep, name="Not Mine Ltd", recycle_due_at=now + dt.timedelta(days=1))
    client.force_login(rep)
    rows = page_tables(client.get(URL))["at_risk"]["rows"]
    assert [(row[0], row[2]) for row in rows] == [("Soon Ltd", "3"), ("Later Ltd", "20")]


def test_conversion_trend_per_week(client, manager, january_history):
    client.force_login(manager)
    rows = page_tables(client.get(URL, {"period": "custom", "from": "2026-01-05", "to": "2026-01-18"}))[
        "conversion_trend"
    ]["rows"]
    # week 1: 1 first win ÷ 3 worked; week 2: the midnight e-mail (1 worked), no win
    assert rows == [["2026-01-05", "1", "3", "33.3"], ["2026-01-12", "0", "1", "0.0"]]


def test_charts_get_their_numbers_from_the_tables(client, manager, january_history):
    client.force_login(manager)
    response = client.get(URL, JANUARY)
    data = response.context["chart_data"]
    assert data["sales"]["series"][0]["data"] == [15000.0]
    assert [point["value"] for point in data["funnel"]["series"][0]["data"]] == [6, 3, 3, 2, 2]
    assert 'id="dashboard-data"' in response.content.decode()
    assert "vendor/echarts/echarts.min.js" in response.content.decode()


# --- query budgets ------------------------------------------------------------------------------


def _queries(client, query) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL, query)
    assert response.status_code == 200
    return len(captured)


def test_query_count_is_the_same_for_a_week_and_a_year(client, manager, january_history):
    client.force_login(manager)
    _queries(client, JANUARY)  # warm the session and content types
    week = _queries(client, JANUARY)
    year = _queries(client, {"period": "custom", "from": "2025-02-01", "to": "2026-01-31", "grain": "week"})
    assert week == year


def test_query_count_does_not_grow_with_the_number_of_reps(client, admin_user, team, january_history):
    client.force_login(admin_user)
    _queries(client, JANUARY)
    before = _queries(client, JANUARY)
    for index in range(4):
        person = UserFactory(username=f"extra{index}", team=TeamFactory(name=f"Extra {index}"), role=Role.REP)
        customer = CustomerFactory(owner=person)
        DealFactory(customer=customer, won=True, closed_at=at("2026-01-07"), created_at=at("2026-01-06"))
        FollowUpFactory(customer=customer, at=at("2026-01-07"))
    after = _queries(client, JANUARY)
    assert before == after


def test_exports_cost_a_constant_number_of_queries(client, manager, january_history):
    client.force_login(manager)
    client.get(URL, {**JANUARY, "export": "csv", "table": "leaderboard"})
    with CaptureQueriesContext(connection) as week:
        client.get(URL, {**JANUARY, "export": "csv", "table": "leaderboard"})
    with CaptureQueriesContext(connection) as year:
        client.get(URL, {"period": "last_year", "export": "csv", "table": "leaderboard"})
    assert len(week) == len(year)
