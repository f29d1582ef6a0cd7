"""Two reps at the public pool in real browsers: one claims a lead in place and finds it under
"my customers"; the other, whose page was loaded before, is told it was already claimed."""

import re

import pytest
from playwright.sync_api import Page, expect

from customers.models import Customer
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, username: str, password: str = "pw") -> None:  # noqa: S107 - the factories' test password
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_rep_claims_in_place_and_a_colleague_sees_already_claimed(
    browser, live_server, page: Page, artifacts, team, rep, other_rep
):
    pool = PoolFactory(name="East leads", hide_contacts=True)
    pool.teams.add(team)
    RecycleRuleFactory(pool=pool, name="Thirty quiet days", no_followup_days=30)
    lead = CustomerFactory(
        pooled=True,
        pool=pool,
        home_pool=pool,
        name="Suzhou Canal Robotics",
        phone="13812345678",
        priority_score=80,
    )
    CustomerFactory(pooled=True, pool=pool, home_pool=pool, name="Ningbo Port Logistics", priority_score=20)

    # The colleague opens the pool page first, in another browser context (another person).
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(7_000)
    colleague = context.new_page()
    _log_in(colleague, "other_rep")
    colleague.goto(f"/pool/{pool.pk}/")
    expect(colleague.get_by_role("cell", name="Suzhou Canal Robotics")).to_be_visible()

    _log_in(page, "rep")
    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Public pool").click()
    page.get_by_role("link", name=re.compile("East leads")).click()
    row = page.locator(f"#lead-{lead.pk}")
    expect(row).to_contain_text("138****5678")
    assert "13812345678" not in page.content()
    page.evaluate("window.__noReload = true")
    row.get_by_role("button", name="Claim").click()
    expect(row).to_contain_text("Claimed — open")
    assert page.evaluate("window.__noReload") is True  # swapped in place by htmx
    page.screenshot(path=str(artifacts / "pool-claimed.png"), full_page=True)
    lead.refresh_from_db()
    assert lead.owner_id == rep.pk

    page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Days left").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My customers (days left)")
    expect(page.locator("#my-customers")).to_contain_text("Suzhou Canal Robotics")
    expect(page.locator(f"#mine-{lead.pk}")).to_contain_text("days left")
    page.screenshot(path=str(artifacts / "pool-my-customers.png"), full_page=True)
    page.get_by_role("link", name="Suzhou Canal Robotics").click()
    expect(page.locator("#pool-panel")).to_contain_text("Claimed")
    expect(page.locator("#pool-panel")).to_contain_text("days left")
    page.screenshot(path=str(artifacts / "pool-customer-detail.png"), full_page=True)

    # The colleague's page is stale: their claim is refused, clearly, in place.
    colleague_row = colleague.locator(f"#lead-{lead.pk}")
    colleague_row.get_by_role("button", name="Claim").click()
    expect(colleague.locator("#messages").get_by_role("alert")).to_contain_text("already claimed")
    expect(colleague_row).to_contain_text("Taken by someone else")
    colleague.screenshot(path=str(artifacts / "pool-already-claimed.png"), full_page=True)
    context.close()
    assert Customer.objects.get(pk=lead.pk).owner_id == rep.pk
