"""An admin edits a recycle rule in a real browser and watches the live preview follow the form."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import Customer
from public_pool import services
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, username: str, password: str = "pw") -> None:  # noqa: S107 - the factories' test password
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def test_admin_edits_a_rule_and_the_preview_count_changes(page: Page, artifacts, team, rep, admin_user):
    pool = PoolFactory(name="East leads")
    pool.teams.add(team)
    rule = RecycleRuleFactory(pool=pool, name="Quiet customers", no_followup_days=30, warn_days=3)

    # Two customers idle 40 days (due under 30), three idle 12 days (due only under a 10-day rule).
    for idle, count in ((40, 2), (12, 3)):
        for _ in range(count):
            CustomerFactory(
                owner=rep,
                home_pool=pool,
                claimed_at=timezone.now() - timedelta(days=idle),
                created_at=timezone.now() - timedelta(days=idle + 10),
            )
    services.refresh_recycle_policies(customers=Customer.objects.all())
    before = services.preview_rule(pool_id=pool.pk, rule=services.RuleData.from_rule(rule))
    assert before.due_now == 2

    _log_in(page, "boss")
    page.goto(f"/pool/manage/pools/{pool.pk}/rules/")
    page.get_by_role("link", name="Quiet customers").click()
    expect(page.get_by_test_id("due-now")).to_have_text(str(before.due_now))

    page.get_by_label("Recycle after days without follow-up").fill("10")
    after = services.preview_rule(
        pool_id=pool.pk, rule=services.RuleData(name="Quiet customers", no_followup_days=10, warn_days=3)
    )
    assert after.due_now == 5
    expect(page.get_by_test_id("due-now")).to_have_text(str(after.due_now))
    expect(page.locator("#rule-preview")).to_contain_text("would recycle 5 customers now")
    page.screenshot(path=str(artifacts / "rule-preview.png"), full_page=True)

    rule.refresh_from_db()
    assert rule.no_followup_days == 30  # the preview saved nothing

    page.get_by_role("button", name="Save rule").click()
    expect(page.locator(f"#rule-{rule.pk}")).to_contain_text("10")
    rule.refresh_from_db()
    assert rule.no_followup_days == 10


def test_minus_three_days_shows_the_error_beside_the_field_and_no_preview_count(
    page: Page, artifacts, team, rep, admin_user
):
    pool = PoolFactory(name="East leads")
    pool.teams.add(team)
    rule = RecycleRuleFactory(pool=pool, name="Quiet customers", no_followup_days=30, warn_days=3)
    CustomerFactory(owner=rep, home_pool=pool, claimed_at=timezone.now() - timedelta(days=40))
    services.refresh_recycle_policies(customers=Customer.objects.all())

    _log_in(page, "boss")
    page.goto(f"/pool/manage/rules/{rule.pk}/")
    expect(page.get_by_test_id("due-now")).to_have_text("1")
    days = page.get_by_label("Recycle after days without follow-up")

    days.fill("-3")

    error = page.locator("#id_no_followup_days_errors")
    expect(error).to_contain_text("Ensure this value is greater than or equal to 1.")
    expect(page.get_by_test_id("due-now")).to_have_count(0)
    expect(page.locator("#preview-summary")).to_contain_text("Fix the highlighted fields")
    expect(days).to_have_attribute("aria-invalid", "true")
    expect(days).to_have_class(re.compile(r"\bis-invalid\b"))
    # The error sits beside its input, inside the form, not only in the preview panel.
    assert page.locator("#rule-form #id_no_followup_days_errors").count() == 1
    page.screenshot(path=str(artifacts / "rule-preview-invalid.png"), full_page=True)

    days.fill("20")
    expect(page.get_by_test_id("due-now")).to_have_text("1")
    expect(error).to_have_text("")
    expect(days).not_to_have_class(re.compile(r"\bis-invalid\b"))

    days.fill("-3")
    expect(error).to_contain_text("greater than or equal to 1")
    page.get_by_role("button", name="Save rule").click()  # the server refuses it in place too
    expect(page.locator("#id_no_followup_days_errors")).to_contain_text("greater than or equal to 1")
    rule.refresh_from_db()
    assert rule.no_followup_days == 30
