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
