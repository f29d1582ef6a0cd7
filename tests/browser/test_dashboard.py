"""A manager's dashboard in a real browser: change the period, the ECharts charts render, the
CSV download equals the table on the page; the same page in Simplified Chinese."""

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import DealStage, FollowUpKind
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def _history(rep, other_rep) -> None:
    """This week: rep wins 12,000 (a first win) and logs 2 calls and a visit; other_rep logs an
    e-mail; a deal in negotiation and a lost one."""
    now = timezone.now()
    won = CustomerFactory(owner=rep, name="Suzhou Garden Tech", first_won_at=now)
    open_one = CustomerFactory(owner=other_rep, name="Ningbo Port Supply")
    DealFactory(customer=won, won=True, amount=Decimal("12000"), closed_at=now, created_at=now)
    DealFactory(customer=open_one, stage=DealStage.NEGOTIATION, amount=Decimal("8000"), created_at=now)
    DealFactory(customer=open_one, lost=True, closed_at=now, created_at=now)
    FollowUpFactory(customer=won, kind=FollowUpKind.CALL, at=now)
    FollowUpFactory(customer=won, kind=FollowUpKind.CALL, at=now)
    FollowUpFactory(customer=won, kind=FollowUpKind.VISIT, at=now)
    FollowUpFactory(customer=open_one, kind=FollowUpKind.EMAIL, at=now)


def _charts_rendered(page: Page) -> None:
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(4)
    for index in range(4):
        chart = charts.nth(index)
        expect(chart).to_have_attribute("data-rendered", "true")
        svg = chart.locator("svg")
        expect(svg).to_have_count(1)
        box = svg.bounding_box()
        assert box is not None
        assert box["width"] > 100
        assert box["height"] > 100
        # Axes, bars, lines or funnel slices: an empty chart would draw nothing.
        assert svg.locator("path").count() > 3


def _table_on_page(page: Page, name: str) -> list[list[str]]:
    table = page.locator(f'table[data-table="{name}"]')
    header = [cell.strip() for cell in table.locator("thead th").all_inner_texts()]
    rows = table.locator("tbody tr:not(.empty-row)")
    body = [
        [cell.get_attribute("data-csv") for cell in rows.nth(index).locator("td").all()]
        for index in range(rows.count())
    ]
    return [header, *body]


def test_manager_changes_the_period_sees_charts_and_downloads_the_csv(
    page: Page, artifacts, manager, rep, other_rep
):
    _history(rep, other_rep)
    _log_in(page, "manager", "pw")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Dashboard").click()
    expect(page).to_have_url(re.compile(r"/metrics/$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Dashboard")
    _charts_rendered(page)

    page.get_by_label("Period", exact=True).select_option("this_year")
    expect(page).to_have_url(re.compile(r"period=this_year"))
    expect(page.get_by_label("Period", exact=True)).to_have_value("this_year")
    _charts_rendered(page)

    leaderboard = page.locator('table[data-table="leaderboard"]')
    expect(leaderboard).to_contain_text(str(rep))
    expect(leaderboard.locator("tbody tr").first).to_contain_text("12,000.00")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    with page.expect_download() as download_info:
        page.locator('a.csv-export[data-table="leaderboard"]').click()
    download = download_info.value
    assert download.suggested_filename.startswith("leaderboard_")
    content = Path(download.path()).read_text(encoding="utf-8")
    assert content.startswith("\ufeff")
    exported = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))
    on_page = _table_on_page(page, "leaderboard")
    assert exported == on_page
    assert exported[1][1] == str(rep)
    assert exported[1][3] == "12000.00"

    # The chart's own numbers are one click away, and equal its CSV too.
    page.locator("details", has=page.locator('table[data-table="sales_trend"]')).locator("summary").click()
    expect(page.locator('table[data-table="sales_trend"]')).to_be_visible()
    with page.expect_download() as download_info:
        page.locator('a.csv-export[data-table="sales_trend"]').click()
    content = Path(download_info.value.path()).read_text(encoding="utf-8")
    assert list(csv.reader(io.StringIO(content.removeprefix("\ufeff")))) == _table_on_page(
        page, "sales_trend"
    )


def test_dashboard_in_simplified_chinese(page: Page, artifacts, manager, rep, other_rep):
    _history(rep, other_rep)
    _log_in(page, "manager", "pw")
    page.goto("/metrics/?period=this_month")
    page.locator("#user-menu > .nav-link").click()  # language and Log out live in the user menu
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(re.compile(r"/metrics/\?period=this_month"))
    _charts_rendered(page)
    page.screenshot(path=str(artifacts / "dashboard-zh-hans.png"), full_page=True)


def test_bad_dates_show_a_message_not_a_crash(page: Page, manager):
    _log_in(page, "manager", "pw")
    page.goto("/metrics/")
    page.get_by_label("From").fill("2026-03-10")
    page.get_by_label("To (included)").fill("2026-03-01")
    expect(page.get_by_label("Period", exact=True)).to_have_value("custom")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "The end date 2026-03-01 is before the start date 2026-03-10."
    )
