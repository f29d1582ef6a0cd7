"""The audit log page in a real browser: an admin changes a pool's limit on the pool page and
finds the entry, before and after, on the audit page; screenshots at 1366x900 and 390x844 in
English and Chinese go to test-artifacts/."""

import pytest
from playwright.sync_api import expect

from public_pool import services
from tests.factories import PoolFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_changes_a_pool_limit_and_reads_it_in_the_audit_log(signed_in, artifacts, admin_user, team):
    pool = PoolFactory(name="East leads", max_held_per_rep=20, max_claims_per_day=5, cooldown_days=7)
    pool.teams.add(team)
    rule = services.create_recycle_rule(
        actor=admin_user, pool_id=pool.pk, rule=services.RuleData(name="Quiet customers", no_followup_days=30)
    )
    services.update_recycle_rule(
        actor=admin_user, rule_id=rule.pk, rule=services.RuleData(name="Quiet customers", no_followup_days=14)
    )

    page = signed_in("boss", "en")
    page.goto(f"/pool/manage/pools/{pool.pk}/")
    page.get_by_label("Max customers held per rep").fill("35")
    page.get_by_role("button", name="Save").click()
    page.goto("/audit/")

    entries = page.locator("#audit-entries")
    expect(entries).to_contain_text("Most customers a rep may hold")
    expect(entries.locator("tr", has_text="Most customers a rep may hold")).to_contain_text("35")
    expect(entries).to_contain_text("Days without follow-up")

    for language in ("en", "zh-hans"):
        for width, height in ((1366, 900), (390, 844)):
            view = signed_in("boss", language, width, height)
            view.goto("/audit/")
            overflow = view.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{language} {width}: {overflow}px sideways"
            view.screenshot(path=str(artifacts / f"audit-log-{language}-{width}.png"), full_page=True)
