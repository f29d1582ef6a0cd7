"""What a rep and a manager do with the pool, in real Chromium, in English and Chinese:

- a claim in place updates the quota ("holding x / y · today a / b") without a reload, and at
  the limit every Claim button says so;
- a lead in the rep's cooldown has a disabled button with the date it ends;
- a release without a reason shows the server's own message in the dialog; with one, the rep
  lands on the pool page with "Released to <pool>" and the customer is no longer theirs;
- a manager transfers a customer from its page, finding the rep by (Chinese) name;
- a manager changes the owner of ticked customers on the team list.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Customer, Role
from public_pool import services
from public_pool.models import PoolEvent, PoolEventKind, ReleaseReason
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANGUAGES = ["en", "zh-hans"]
WORDS = {
    "en": {
        "claimed": "Claimed",
        "held_full": "Holding limit reached",
        "cooldown": "In your cooldown until",
        "choose_reason": "Choose a reason for releasing this customer.",
        "released": "Released to East leads: Hangzhou Tea Works.",
        "transferred": "Hangzhou Tea Works now belongs to 李娜.",
        "bulk": "2 customers now belong to 李娜.",
    },
    "zh-hans": {
        "claimed": "已领取",
        "held_full": "已达持有上限",
        "cooldown": "冷却期内",
        "choose_reason": "请选择退回该客户的原因。",
        "released": "已退回East leads：Hangzhou Tea Works。",
        "transferred": "Hangzhou Tea Works 现由 李娜 负责。",
        "bulk": "2 个客户现由 李娜 负责。",
    },
}


@pytest.fixture
def sales_team(db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="manager", first_name="敏", last_name="王", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save(update_fields=["manager"])
    rep = UserFactory(username="rep", first_name="强", last_name="陈", team=team)
    other = UserFactory(username="lina", first_name="娜", last_name="李", team=team)
    pool = PoolFactory(name="East leads", max_held_per_rep=2, max_claims_per_day=5, cooldown_days=7)
    pool.teams.add(team)
    RecycleRuleFactory(pool=pool, name="Thirty quiet days", no_followup_days=30)
    # Live-server tests empty the database between tests: make the reasons the page offers.
    ReleaseReason.objects.get_or_create(
        code="no_budget", defaults={"label": "No budget", "label_zh": "没有预算"}
    )
    return {"team": team, "manager": manager, "rep": rep, "other": other, "pool": pool}


def _owned(rep, pool, name: str) -> Customer:
    customer = CustomerFactory(
        owner=rep, home_pool=pool, name=name, claimed_at=timezone.now() - timedelta(days=3)
    )
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk=customer.pk))
    return customer


@pytest.mark.parametrize("language", LANGUAGES)
def test_claim_in_place_updates_the_quota_and_the_limit_disables_every_claim(
    signed_in, artifacts, sales_team, language
):
    rep, pool = sales_team["rep"], sales_team["pool"]
    _owned(rep, pool, "Already Mine Ltd")
    leads = [
        CustomerFactory(pooled=True, pool=pool, home_pool=pool, name=f"Lead {n}", priority_score=90 - n)
        for n in range(3)
    ]
    words = WORDS[language]
    page = signed_in("rep", language)
    page.goto(f"/pool/{pool.pk}/")
    expect(page.get_by_test_id("quota-held")).to_have_text("1 / 2")
    expect(page.get_by_test_id("quota-today")).to_have_text("0 / 5")
    page.evaluate("window.__noReload = true")

    page.locator(f"#claim-{leads[0].pk} button").click()

    expect(page.locator(f"#claim-{leads[0].pk}")).to_contain_text(words["claimed"])
    expect(page.get_by_test_id("quota-held")).to_have_text("2 / 2")
    expect(page.get_by_test_id("quota-today")).to_have_text("1 / 5")
    # At the limit: every Claim button left on the page says so, disabled, without a reload.
    for lead in leads[1:]:
        button = page.locator(f"#claim-{lead.pk} button")
        expect(button).to_be_disabled()
        expect(button).to_have_text(words["held_full"])
    expect(page.locator("#claim-next")).to_be_disabled()
    assert page.evaluate("window.__noReload") is True
    page.screenshot(path=str(artifacts / f"flow-claim-quota-{language}.png"), full_page=True)
    assert Customer.objects.get(pk=leads[0].pk).owner_id == rep.pk
    assert Customer.objects.filter(pk__in=[lead.pk for lead in leads[1:]], owner__isnull=True).count() == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_lead_in_the_reps_cooldown_has_a_disabled_button_with_its_end_date(
    signed_in, artifacts, sales_team, language
):
    rep, pool = sales_team["rep"], sales_team["pool"]
    customer = _owned(rep, pool, "Given Back Co")
    services.release_customer(actor=rep, customer_id=customer.pk, reason="no_budget")
    until = timezone.localtime(
        PoolEvent.objects.get(customer=customer, kind=PoolEventKind.RELEASE).at + timedelta(days=7)
    )
    date = f"{until:%B} {until.day}" if language == "en" else f"{until.month:02d}月{until.day}日"
    page = signed_in("rep", language, width=390, height=844)

    page.goto(f"/pool/{pool.pk}/")

    box = page.locator(f"#claim-{customer.pk}")
    expect(box.locator("button")).to_be_disabled()
    expect(box).to_contain_text(WORDS[language]["cooldown"])
    expect(box).to_contain_text(date)
    # The previous owner and why it left: the rep's own name, the reason in words.
    row = page.locator(f"#lead-{customer.pk}")
    expect(row).to_contain_text("陈强")
    expect(row).to_contain_text("No budget" if language == "en" else "没有预算")
    page.screenshot(path=str(artifacts / f"flow-cooldown-{language}-phone.png"), full_page=True)


@pytest.mark.parametrize("language", LANGUAGES)
def test_release_shows_the_servers_message_then_lands_on_the_pool_page(
    signed_in, artifacts, sales_team, language
):
    rep, pool = sales_team["rep"], sales_team["pool"]
    customer = _owned(rep, pool, "Hangzhou Tea Works")
    words = WORDS[language]
    page = signed_in("rep", language)
    page.goto(f"/customers/{customer.pk}/")
    box = page.locator(f"#release-{customer.pk}")
    box.locator("summary").click()

    box.locator("button[type=submit]").click()

    expect(page.locator(f"#release-{customer.pk} [role=alert]")).to_have_text(words["choose_reason"])
    expect(page.locator("#messages")).not_to_contain_text("Something went wrong")
    assert Customer.objects.get(pk=customer.pk).owner_id == rep.pk
    page.screenshot(path=str(artifacts / f"flow-release-refused-{language}.png"), full_page=True)

    page.locator(f"#reason-{customer.pk}").select_option("no_budget")
    page.locator(f"#release-{customer.pk} button[type=submit]").click()

    expect(page).to_have_url(re.compile(rf"/pool/{pool.pk}/$"))
    expect(page.locator("#messages")).to_contain_text(words["released"])
    expect(page.locator(f"#lead-{customer.pk}")).to_be_visible()  # now a lead, as anyone sees it
    page.screenshot(path=str(artifacts / f"flow-release-done-{language}.png"), full_page=True)
    # Reloading shows the same page, not a 404; the customer page itself is no longer the rep's.
    assert page.reload().status == 200
    assert page.goto(f"/customers/{customer.pk}/").status == 404
    customer.refresh_from_db()
    assert (customer.owner_id, customer.pool_id) == (None, pool.pk)


@pytest.mark.parametrize("language", LANGUAGES)
def test_manager_transfers_from_the_customer_page_finding_the_rep_by_name(
    signed_in, artifacts, sales_team, language
):
    rep, other, pool = sales_team["rep"], sales_team["other"], sales_team["pool"]
    customer = _owned(rep, pool, "Hangzhou Tea Works")
    page = signed_in("manager", language)
    page.goto(f"/customers/{customer.pk}/")

    page.locator("#transfer-link").click()
    page.locator("#rep-search-q").fill("李娜")
    choices = page.locator("#rep-choices")
    expect(choices.locator("label")).to_have_count(1)
    expect(choices).to_contain_text("李娜")
    expect(choices).to_contain_text("0 / 2")
    page.screenshot(path=str(artifacts / f"flow-transfer-picker-{language}.png"), full_page=True)
    choices.locator("input[type=radio]").check()
    page.locator("#transfer-submit").click()

    expect(page).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    expect(page.locator("#messages")).to_contain_text(WORDS[language]["transferred"])
    customer.refresh_from_db()
    assert customer.owner_id == other.pk
    assert (
        PoolEvent.objects.filter(customer=customer, kind=PoolEventKind.TRANSFER, to_owner=other).count() == 1
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_manager_changes_the_owner_of_ticked_customers_on_the_team_list(
    signed_in, artifacts, sales_team, language
):
    rep, other, pool = sales_team["rep"], sales_team["other"], sales_team["pool"]
    ticked = [_owned(rep, pool, f"Harbin Ice {n}") for n in range(2)]
    kept = _owned(rep, pool, "Dalian Port")
    page = signed_in("manager", language, width=390, height=844)
    page.goto("/customers/?q=harbin")

    page.locator("#bulk-owner input[data-select-all=customers]").check()
    page.locator("#bulk-owner button[data-bs-toggle=collapse]").click()
    page.locator("#bulk-to-rep").select_option(str(other.pk))
    page.screenshot(path=str(artifacts / f"flow-bulk-owner-{language}-phone.png"), full_page=True)
    page.locator("#bulk-owner-submit").click()

    expect(page.locator("#messages")).to_contain_text(WORDS[language]["bulk"])
    assert set(Customer.objects.filter(owner=other).values_list("pk", flat=True)) == {c.pk for c in ticked}
    assert Customer.objects.get(pk=kept.pk).owner_id == rep.pk
