"""The dashboard explains itself: it opens on this month compared with last month, a KPI's
definition is one click away (a Bootstrap popover), numbers are grouped in both languages
(2,177,800.00 in zh-hans too), a KPI that does not apply says so with the reason, the KPI code
is in the CSV only, and on a phone the key figures are cards with nothing sideways.
Screenshots at 1366×900 and 390×844 in en and zh-hans go to test-artifacts/."""

# ruff: noqa: RUF002

import csv
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import FollowUpKind
from metrics.periods import Grain, Period
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"desktop": (1366, 900), "phone": (390, 844)}


def _sales_this_month(rep) -> None:
    """2,177,800 of sales this month: one big first win and a follow-up."""
    now = timezone.now()
    won = CustomerFactory(owner=rep, name="Hangzhou Lake Robotics", first_won_at=now)
    DealFactory(customer=won, won=True, amount=Decimal("2177800"), closed_at=now, created_at=now)
    FollowUpFactory(customer=won, by=rep, kind=FollowUpKind.CALL, at=now)


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


def _kpi_row(page: Page, label: str):
    return page.locator('table[data-table="kpis"] tbody tr', has_text=label)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_dashboard_opens_on_this_month_and_explains_each_kpi(
    signed_in, artifacts, manager, rep, language
):
    _sales_this_month(rep)
    this_month = Period.preset(Grain.MONTH)
    last_month = this_month.previous()
    definition = (
        "The sum of won deal amounts, by the day the deal was won."
        if language == "en"
        else "赢单金额之和，按赢单日期计入。"
    )

    for size, (width, height) in SIZES.items():
        page = signed_in("manager", language, width=width, height=height)
        page.goto("/metrics/")

        # This month, compared with last month, by default.
        expect(page.locator("#id_period")).to_have_value("this_month")
        expect(page.locator("#period-summary")).to_contain_text(str(this_month))
        expect(page.locator("#period-summary")).to_contain_text(str(last_month))

        # Grouped digits in both languages, with the unit of the figure.
        sales = page.locator(
            'table[data-table="kpis"] tbody tr', has=page.locator('td[data-csv="2177800.00"]')
        )
        expect(sales).to_contain_text("2,177,800.00")
        expect(sales.locator("td").nth(1)).to_have_attribute("data-csv", "2177800.00")

        # The code column is not on the page.
        expect(page.locator('table[data-table="kpis"] thead th[data-key="code"]')).to_have_count(0)
        expect(page.locator('table[data-table="kpis"]')).not_to_contain_text("customer_conversion")

        # A KPI that does not apply to a team says so, and why.
        cac = _kpi_row(page, "Customer acquisition cost" if language == "en" else "获客成本").first
        expect(cac).to_contain_text("Not applicable" if language == "en" else "不适用")
        expect(cac.locator(".cell-note")).not_to_be_empty()

        # The definition is one click away.
        sales.locator("button.kpi-help").click()
        popover = page.locator(".popover")
        expect(popover).to_be_visible()
        expect(popover).to_contain_text(definition)

        if size == "phone":
            _no_sideways_scroll(page)
            # The key figures are cards: no header row, each value headed by its label, the
            # whole card inside the screen.
            expect(page.locator('table[data-table="kpis"] thead')).to_be_hidden()
            box = sales.bounding_box()
            assert box is not None
            assert box["x"] >= 0
            assert box["x"] + box["width"] <= width
            expect(sales.locator("td[data-label]").first).to_be_visible()
            page.screenshot(path=str(artifacts / f"dashboard-clarity-{language}-phone-screen.png"))
        page.screenshot(path=str(artifacts / f"dashboard-clarity-{language}-{size}.png"), full_page=True)


def test_the_kpi_code_is_in_the_csv(signed_in, manager, rep):
    _sales_this_month(rep)
    page = signed_in("manager")
    page.goto("/metrics/")
    with page.expect_download() as download_info:
        page.locator('a.csv-export[data-table="kpis"]').click()
    content = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff"))))
    assert rows[0][:2] == ["KPI", "Code"]
    sales = next(row for row in rows if row[1] == "sales")
    assert sales[2] == "2177800.00"
    assert re.fullmatch(r"[a-z_]+", sales[1])
