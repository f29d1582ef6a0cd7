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


def test_targets_weights_and_roles_read_in_words_in_the_audit_log(signed_in, artifacts, admin_user, rep):
    """The areas added later (KPI targets, scorecard weights, people's roles and teams) show KPI
    and role names, never their codes, in both languages; the area filter picks them."""
    from datetime import date
    from decimal import Decimal

    from customers import services as customer_services
    from customers.models import Role
    from metrics.selectors.scorecard import TargetScope
    from metrics.services import scorecard

    scorecard.set_kpi_targets(
        actor=admin_user,
        quarter=date(2025, 1, 1),
        target_scope=TargetScope(),
        targets={"sales": Decimal(500)},
    )
    scorecard.update_scorecard(
        actor=admin_user, weights={"sales": Decimal(60), "win_rate": Decimal(40)}, cap=Decimal(130)
    )
    rep.role = Role.MANAGER
    customer_services.save_user(actor=admin_user, user=rep)

    for language, words in (
        ("en", ("Sales", "Weight of Win rate (%)", "Manager")),
        ("zh-hans", ("销售", "赢单率的权重", "销售主管", "2025-Q1 · 所有人", "考核权重与上限")),
    ):
        for width, height in ((1366, 900), (390, 844)):
            view = signed_in("boss", language, width, height)
            view.goto("/audit/")
            entries = view.locator("#audit-entries")
            for word in words:
                expect(entries).to_contain_text(word)
            for code in ("target:sales", "weight:win_rate", ">manager<", "130.0"):
                assert code not in entries.inner_html()
            overflow = view.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{language} {width}: {overflow}px sideways"
            view.screenshot(path=str(artifacts / f"audit-log-config-{language}-{width}.png"), full_page=True)

    view = signed_in("boss", "en")
    view.goto("/audit/?area=user")
    expect(view.locator("#audit-entries")).to_contain_text("Role")
    expect(view.locator("#audit-entries")).not_to_contain_text("Weight of")
