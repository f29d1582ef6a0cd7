"""A recycled customer reaches its former owner: the notification (words, not codes) leads to
"Returned to the pool", where the rep claims it back; the customer page's deadline card says
when, by which rule and what resets it. In English and Chinese, with screenshots at 1366 x 900
and 390 x 844 under ``test-artifacts/returned/``."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Customer
from public_pool import services
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory, TeamFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"laptop": (1366, 900), "phone": (390, 844)}
TEXT = {
    "en": {
        "returned": "Returned to the pool",
        "why": "no follow-up since",
        "claimed": "Claimed",
        "rule": "Rule",
    },
    "zh-hans": {"returned": "已退回公海", "why": "天未跟进", "claimed": "已领取", "rule": "规则"},
}


def _world():
    team = TeamFactory(name="华东一组")
    rep = UserFactory(username="rep", first_name="强", last_name="陈", team=team)
    pool = PoolFactory(name="华东公海 East leads")
    pool.teams.add(team)
    RecycleRuleFactory(pool=pool, name="30 天未跟进 / 30 quiet days", no_followup_days=30, warn_days=7)
    now = timezone.now()
    lost = CustomerFactory(
        owner=rep, home_pool=pool, name="南京长江贸易有限公司", claimed_at=now - timedelta(days=45)
    )
    kept = CustomerFactory(
        owner=rep, home_pool=pool, name="Chengdu Software Park", claimed_at=now - timedelta(days=25)
    )
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk__in=[lost.pk, kept.pk]))
    assert services.recycle_stale_customers().recycled == 1
    return lost, kept


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_recycled_customer_shows_in_notifications_and_on_returned_then_is_claimed_back(
    signed_in, artifacts, language
):
    lost, kept = _world()
    words = TEXT[language]
    folder = artifacts / "returned"
    folder.mkdir(exist_ok=True)

    for size_name, (width, height) in SIZES.items():
        page = signed_in("rep", language, width, height)
        page.goto(f"/customers/{kept.pk}/")
        card = page.locator("#deadline-card")
        expect(card).to_contain_text("30 天未跟进 / 30 quiet days")
        expect(card.locator("[data-testid=deadline-reset]")).to_be_visible()
        card.scroll_into_view_if_needed()
        card.screenshot(path=str(folder / f"deadline-card-{language}-{size_name}.png"))
        page.screenshot(path=str(folder / f"customer-{language}-{size_name}.png"), full_page=True)

        page.goto("/pool/notifications/")
        notice = page.locator("main a", has_text=lost.name)
        expect(notice).to_contain_text(words["why"])
        expect(notice).not_to_contain_text("no_followup")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(folder / f"notifications-{language}-{size_name}.png"), full_page=True)

        notice.click()
        expect(page).to_have_url(f"{page.url.split('/pool/')[0]}/pool/returned/#returned-{_notice_id(lost)}")
        expect(page.locator("h1")).to_have_text(words["returned"])
        row = page.locator(f"#returned tr[data-customer='{lost.pk}']")
        expect(row).to_contain_text(lost.name)
        expect(row).to_contain_text("30 天未跟进 / 30 quiet days")
        claim = row.locator("button.claim-button")
        expect(claim).to_be_enabled()
        claim.scroll_into_view_if_needed()
        box = claim.bounding_box()
        assert box is not None
        assert box["x"] + box["width"] <= width
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(folder / f"returned-{language}-{size_name}.png"), full_page=True)

    claim.click()
    expect(row.locator(".claim-box")).to_contain_text(words["claimed"])
    assert Customer.objects.get(pk=lost.pk).owner.username == "rep"


def _notice_id(customer) -> int:
    from public_pool.models import Notification, NotificationKind

    return Notification.objects.get(kind=NotificationKind.RECYCLED, customer=customer).pk
