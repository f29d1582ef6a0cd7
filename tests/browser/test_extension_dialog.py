"""Asking for more time, in real Chromium, in English and Chinese:

- "Request more time" on the customer page opens a dialog; sent empty, it shows the server's
  messages under the fields, in the page's language, and stays open;
- sent with a reason and days, the page shows the pending request (who, days, reason, when);
- the manager approves it from the customer page, and the rep's notifications say so in words
  with the new deadline.

Screenshots of the dialog open and of the pending request, at 1366x900 and 390x844, are saved
under ``test-artifacts/extension/``.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import Customer, Role
from public_pool import services
from public_pool.models import ExtensionRequest, ExtensionStatus
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = {
    "en": {
        "open": "Request more time",
        "send": "Send request",
        "reason_error": "Say why you need more time.",
        "days_error": "Ask for 1 to 20 days.",
        "reason_label": "Why do you need more time?",
        "days_label": "Days asked for",
        "pending": "More time requested",
        "asked": "陈强 asked for 9 more days on",
        "approve": "Approve",
        "history_days": "9 more days",
        "approved": "王敏 approved 9 more days for Hangzhou Tea Works. New recycle deadline:",
    },
    "zh-hans": {
        "open": "申请延期",
        "send": "提交申请",
        "reason_error": "请说明需要延期的原因。",
        "days_error": "请申请 1 到 20 天。",
        "reason_label": "为什么需要延期？",
        "days_label": "申请延期天数",
        "pending": "已申请延期",
        "asked": "陈强 于",
        "approve": "批准",
        "history_days": "延期 9 天",
        "approved": "王敏 批准了 Hangzhou Tea Works 延期 9 天。新的回收时间：",
    },
}


@pytest.fixture
def sales_team(db):
    team = TeamFactory(name="East")
    manager = UserFactory(username="manager", first_name="敏", last_name="王", role=Role.MANAGER, team=team)
    team.manager = manager
    team.save(update_fields=["manager"])
    rep = UserFactory(username="rep", first_name="强", last_name="陈", team=team)
    pool = PoolFactory(name="East leads", max_extension_days=20)
    pool.teams.add(team)
    RecycleRuleFactory(pool=pool, name="Thirty quiet days", no_followup_days=30, warn_days=5)
    customer = CustomerFactory(
        owner=rep, home_pool=pool, name="Hangzhou Tea Works", claimed_at=timezone.now() - timedelta(days=26)
    )
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk=customer.pk))
    customer.refresh_from_db()
    return {"manager": manager, "rep": rep, "pool": pool, "customer": customer}


def _shown(page: Page) -> None:
    """Wait for the dialog's fade-in to end (screenshots mid-fade are see-through)."""
    page.wait_for_function(
        "() => { const d = document.querySelector('.extension-dialog.show');"
        " return d && getComputedStyle(d).opacity === '1'; }"
    )


def _fits(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _in_view(page: Page, locator) -> None:
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box is not None
    assert viewport is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    assert box["y"] >= 0
    assert box["y"] + box["height"] <= viewport["height"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_extension_dialog_validates_in_place_then_shows_the_pending_request_and_the_decision(
    signed_in, artifacts, sales_team, language
):
    words = WORDS[language]
    customer = sales_team["customer"]
    shots = artifacts / "extension"
    shots.mkdir(exist_ok=True)
    url = f"/customers/{customer.pk}/"
    rep = signed_in("rep", language)
    rep.goto(url)

    rep.get_by_role("button", name=words["open"]).click()
    dialog = rep.get_by_role("dialog")
    expect(dialog).to_be_visible()
    _shown(rep)
    expect(dialog.get_by_label(words["days_label"])).to_have_value("14")
    rep.screenshot(path=str(shots / f"dialog-open-1366-{language}.png"))

    # Empty reason, too many days: the server's messages, under the fields, dialog still open.
    dialog.get_by_label(words["days_label"]).fill("30")
    dialog.get_by_role("button", name=words["send"]).click()
    expect(dialog.locator(".invalid-feedback").first).to_have_text(words["reason_error"])
    expect(dialog.locator(".invalid-feedback").nth(1)).to_have_text(words["days_error"])
    expect(dialog.get_by_label(words["reason_label"])).to_have_attribute("aria-invalid", "true")
    expect(dialog).to_be_visible()
    assert not ExtensionRequest.objects.exists()
    rep.screenshot(path=str(shots / f"dialog-errors-1366-{language}.png"))

    dialog.get_by_label(words["reason_label"]).fill("Tender decided on 20 Dec")
    dialog.get_by_label(words["days_label"]).fill("9")
    dialog.get_by_role("button", name=words["send"]).click()

    pending = rep.locator(f"#extension-pending-{customer.pk}")
    expect(pending).to_contain_text(words["pending"])
    expect(pending).to_contain_text(words["asked"])
    expect(pending).to_contain_text("Tender decided on 20 Dec")
    expect(rep.locator(".pool-history")).to_contain_text(words["history_days"])
    expect(rep.get_by_role("button", name=words["open"])).to_have_count(0)
    _fits(rep)
    rep.screenshot(path=str(shots / f"pending-1366-{language}.png"), full_page=True)

    manager = signed_in("manager", language)
    manager.goto(url)
    manager.locator(f"#extension-pending-{customer.pk}").get_by_role("button", name=words["approve"]).click()
    expect(manager).to_have_url(re.compile(rf"/customers/{customer.pk}/$"))
    assert ExtensionRequest.objects.get().status == ExtensionStatus.APPROVED

    rep.goto("/pool/notifications/")
    expect(rep.locator("#main")).to_contain_text(words["approved"])
    due = timezone.localtime(Customer.objects.get(pk=customer.pk).recycle_due_at).strftime("%Y-%m-%d %H:%M")
    expect(rep.locator("#main")).to_contain_text(due)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_extension_dialog_on_a_phone(signed_in, artifacts, sales_team, language):
    words = WORDS[language]
    customer = sales_team["customer"]
    shots = artifacts / "extension"
    shots.mkdir(exist_ok=True)
    rep = signed_in("rep", language, width=390, height=844)
    rep.goto(f"/customers/{customer.pk}/")

    opener = rep.get_by_role("button", name=words["open"])
    opener.scroll_into_view_if_needed()
    _in_view(rep, opener)
    opener.click()
    dialog = rep.get_by_role("dialog")
    expect(dialog).to_be_visible()
    _shown(rep)
    send = dialog.get_by_role("button", name=words["send"])
    _in_view(rep, send)
    _fits(rep)
    rep.screenshot(path=str(shots / f"dialog-open-390-{language}.png"))

    dialog.get_by_label(words["reason_label"]).fill("Tender decided on 20 Dec")
    dialog.get_by_label(words["days_label"]).fill("9")
    send.click()
    pending = rep.locator(f"#extension-pending-{customer.pk}")
    expect(pending).to_contain_text(words["pending"])
    pending.scroll_into_view_if_needed()
    _fits(rep)
    rep.screenshot(path=str(shots / f"pending-390-{language}.png"))
