"""A rep's everyday loop in a real browser: sign in, open a customer, log a follow-up in place."""

import re

import pytest
from playwright.sync_api import Page, expect

from customers.models import FollowUp
from tests.factories import CustomerFactory, FollowUpFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_rep_logs_a_followup_in_place_and_switches_to_chinese(page: Page, artifacts, rep, other_rep):
    customer = CustomerFactory(owner=rep, name="Hangzhou Lake Software", last_followup_at=None)
    FollowUpFactory(customer=customer, note="Intro call")
    CustomerFactory(owner=other_rep, name="Not Yours Trading")
    static_responses = []
    page.on(
        "response",
        lambda response: static_responses.append(response) if "/static/" in response.url else None,
    )

    _log_in(page, "rep", "pw")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="My customers").click()
    expect(page.get_by_role("link", name="Not Yours Trading")).to_have_count(0)
    page.get_by_role("link", name="Hangzhou Lake Software").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hangzhou Lake Software")

    # Bootstrap's CSS and htmx really loaded (htmx is what makes the form work in place).
    assert static_responses
    assert all(response.status == 200 for response in static_responses), [
        (response.url, response.status) for response in static_responses
    ]
    assert page.evaluate("typeof window.htmx") == "object"
    assert page.evaluate("getComputedStyle(document.body).fontFamily") != "Times New Roman"

    # A marker on window survives an htmx swap but not a page load.
    page.evaluate("window.__noReload = true")
    form = page.locator("#followup-form")
    form.get_by_text("Visit", exact=True).click()
    form.get_by_label("Note").fill("Met the CTO, pilot in March")
    form.get_by_role("button", name="Log follow-up").click()

    timeline = page.locator("#timeline")
    expect(timeline.get_by_test_id("timeline-entry").first).to_contain_text("Met the CTO, pilot in March")
    expect(page.locator("#followup-form")).to_contain_text("Follow-up logged.")
    expect(page.get_by_label("Note")).to_have_value("")
    assert page.evaluate("window.__noReload") is True
    assert FollowUp.objects.filter(customer=customer, kind="visit", by=rep).count() == 1
    page.screenshot(path=str(artifacts / "customer-followup-en.png"), full_page=True)

    page.locator("#user-menu > .nav-link").click()  # language and Log out live in the user menu
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hangzhou Lake Software")
    page.screenshot(path=str(artifacts / "customer-followup-zh-hans.png"), full_page=True)
