"""A survey end to end in real browsers: the rep sends an NPS survey from the customer page, the
contact opens the e-mailed link on a phone, answers 9 and is thanked; the period's NPS moves
from -100 (one detractor) to 0 (one promoter, one detractor), and the link takes no second answer."""

import re
from decimal import Decimal

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from customers.models import Feedback, FeedbackChannel
from metrics import kpis
from metrics.periods import Grain, Period, Scope
from tests.factories import ContactFactory, CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def _log_in(page: Page, username: str, password: str = "pw") -> None:  # noqa: S107 - the factories' test password
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/$"))


def _nps_this_month() -> Decimal:
    """The NPS KPI when its module is registered, else worked out from the feedback rows."""
    month = Period.preset(Grain.MONTH)
    registry = kpis.load()
    if "nps" in registry:
        return Decimal(str(registry["nps"](period=month, scope=Scope.company()).value))
    start, end = month.bounds()
    scores = list(
        Feedback.objects.filter(at__gte=start, at__lt=end, nps__isnull=False).values_list("nps", flat=True)
    )
    return Decimal(100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores))) / len(scores)


def test_contact_answers_a_survey_link_on_a_phone_and_the_nps_changes(
    browser, live_server, page: Page, artifacts, team, manager, rep
):
    customer = CustomerFactory(owner=rep, name="Xiamen Harbour Foods")
    contact = ContactFactory(customer=customer, name="Chen Jing", email="chen@harbour.example")
    Feedback.objects.create(customer=customer, nps=3, at=timezone.now(), channel=FeedbackChannel.PHONE)
    assert _nps_this_month() == Decimal(-100)

    # The rep sends the survey from the customer page.
    _log_in(page, "rep")
    page.goto(f"/customers/{customer.pk}/")
    panel = page.locator("#survey-panel")
    expect(panel).to_contain_text("Surveys (NPS / CSAT)")
    panel.get_by_label("Contact", exact=True).first.select_option(label="Chen Jing <chen@harbour.example>")
    panel.get_by_label("Survey").select_option("nps")
    panel.get_by_role("button", name="Send survey").click()
    expect(page.get_by_role("status").first).to_contain_text("Survey sent to chen@harbour.example.")
    expect(page.locator("#survey-panel [data-testid=survey-invitation]")).to_contain_text("open until")
    page.screenshot(path=str(artifacts / "survey-sent.png"), full_page=True)

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/s/\S+/", str(mail.outbox[0].body)).group(0)
    assert link.startswith(live_server.url)

    # The contact opens the link on a phone: no login, big buttons.
    context = browser.new_context(locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(7_000)
    phone = context.new_page()
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_count(0)
    expect(phone.locator("legend")).to_have_text(
        "How likely are you to recommend us to a friend or colleague?"
    )
    nine = phone.locator("label", has_text=re.compile(r"^9$"))
    box = nine.bounding_box()
    assert box is not None
    assert box["height"] >= 44  # a comfortable touch target
    nine.click()
    phone.get_by_label("What could we do better? (optional)").fill("Deliver on Saturdays too")
    phone.screenshot(path=str(artifacts / "survey-phone-form.png"), full_page=True)
    phone.get_by_role("button", name="Send my answer").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you for your answer!")
    phone.screenshot(path=str(artifacts / "survey-phone-thanks.png"), full_page=True)

    feedback = Feedback.objects.get(channel=FeedbackChannel.SURVEY)
    assert (feedback.nps, feedback.contact_id, feedback.complaint) == (
        9,
        contact.pk,
        "Deliver on Saturdays too",
    )
    assert _nps_this_month() == Decimal(0)

    # Opening the link again: it has been used.
    phone.goto(link)
    expect(phone.get_by_role("heading", level=1)).to_have_text("This survey has already been answered.")
    context.close()

    page.reload()
    expect(page.locator("#survey-panel [data-testid=survey-invitation]")).to_contain_text("answered: 9/10")
    page.screenshot(path=str(artifacts / "survey-answered-panel.png"), full_page=True)
