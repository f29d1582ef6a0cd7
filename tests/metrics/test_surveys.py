"""NPS/CSAT surveys: a signed, expiring link answered once (also when answers race), who may send
one, the e-mail with the link, the public page's states, phone answers, and the customer page."""

import re
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail, signing
from django.db import close_old_connections
from django.urls import reverse
from django.utils import timezone

from customers.models import Feedback, FeedbackChannel
from metrics import exceptions, kpis
from metrics.models import SurveyInvitation, SurveyKind
from metrics.periods import Grain, Period, Scope
from metrics.selectors import surveys
from metrics.services import surveys as surveys_services
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(rep):
    return ContactFactory(
        customer=CustomerFactory(owner=rep, name="Hangzhou Tea Co"), name="Li Na", email="li@tea.example"
    )


def _send(sender, contact, kind=SurveyKind.NPS, capture=None):
    return surveys_services.send_survey(
        sender=sender, contact=contact, kind=kind, base_url="https://crm.example.com/"
    )


def _expire(invitation):
    now = timezone.now()
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        sent_at=now - timedelta(days=15), expires_at=now - timedelta(seconds=1)
    )


def _token(invitation):
    return surveys.token_for(invitation)


# --- sending ---------------------------------------------------------------------------------------


def test_send_survey_emails_the_contact_a_link_valid_for_the_configured_days(
    rep, contact, settings, django_capture_on_commit_callbacks
):
    settings.METRICS_SURVEY_LINK_DAYS = 3
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        invitation = _send(rep, contact)

    assert len(callbacks) == 1  # the e-mail waits for the commit
    assert (invitation.customer, invitation.contact, invitation.kind, invitation.sent_by) == (
        contact.customer,
        contact,
        "nps",
        rep,
    )
    assert invitation.expires_at - invitation.sent_at == timedelta(days=3)
    assert invitation.answered_at is None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li@tea.example"]
    assert message.subject == "How likely are you to recommend us to a friend or colleague?"
    link = f"https://crm.example.com/s/{_token(invitation)}/"
    assert link in message.body
    assert "Hello Li Na," in message.body


def test_without_a_request_the_link_uses_crm_site_url(
    rep, contact, settings, django_capture_on_commit_callbacks
):
    settings.CRM_SITE_URL = "https://crm.acme.cn"
    with django_capture_on_commit_callbacks(execute=True):
        invitation = surveys_services.send_survey(sender=rep, contact=contact, kind=SurveyKind.CSAT)
    assert f"https://crm.acme.cn/s/{_token(invitation)}/" in mail.outbox[0].body
    assert mail.outbox[0].subject == "How satisfied are you with our service?"


def test_a_rep_cannot_send_a_survey_for_another_reps_customer(
    other_rep, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(exceptions.SurveyNotAllowed):
        _send(other_rep, contact)
    assert not SurveyInvitation.objects.exists()
    assert mail.outbox == []


def test_the_owners_manager_and_an_admin_may_send(
    manager, admin_user, contact, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _send(manager, contact)
        _send(admin_user, contact, kind=SurveyKind.CSAT)
    assert SurveyInvitation.objects.count() == 2
    assert len(mail.outbox) == 2


def test_another_teams_manager_may_not_send(other_team_rep, contact):
    west_manager = other_team_rep.team.manager
    with pytest.raises(exceptions.SurveyNotAllowed):
        _send(west_manager, contact)
    assert not SurveyInvitation.objects.exists()


def test_a_contact_without_email_or_an_unknown_kind_is_refused(rep, contact):
    silent = ContactFactory(customer=contact.customer, email="")
    with pytest.raises(exceptions.SurveyInvalid) as refused:
        _send(rep, silent)
    assert set(refused.value.fields) == {"contact"}
    with pytest.raises(exceptions.SurveyInvalid) as refused:
        _send(rep, contact, kind="ces")
    assert set(refused.value.fields) == {"kind"}
    assert not SurveyInvitation.objects.exists()


# --- answering -------------------------------------------------------------------------------------


def test_a_link_takes_one_answer_which_becomes_feedback(rep, contact):
    invitation = _send(rep, contact)

    feedback = surveys_services.answer_survey(token=_token(invitation), score=9, comment="  Quick delivery  ")

    invitation.refresh_from_db()
    assert (feedback.customer, feedback.contact, feedback.nps, feedback.csat) == (
        contact.customer,
        contact,
        9,
        None,
    )
    assert (feedback.channel, feedback.complaint, feedback.recorded_by) == (
        FeedbackChannel.SURVEY,
        "Quick delivery",
        None,
    )
    assert invitation.answered_at == feedback.at
    assert invitation.feedback == feedback

    with pytest.raises(exceptions.SurveyAlreadyAnswered):
        surveys_services.answer_survey(token=_token(invitation), score=2)
    assert list(Feedback.objects.values_list("nps", flat=True)) == [9]


def test_a_csat_link_takes_1_to_5(rep, contact):
    invitation = _send(rep, contact, kind=SurveyKind.CSAT)
    for bad in (0, 6):
        with pytest.raises(exceptions.SurveyInvalid):
            surveys_services.answer_survey(token=_token(invitation), score=bad)
    invitation.refresh_from_db()
    assert invitation.answered_at is None  # a refused answer does not use up the link

    feedback = surveys_services.answer_survey(token=_token(invitation), score=4)
    assert (feedback.nps, feedback.csat) == (None, 4)


def test_an_expired_link_is_refused(rep, contact):
    invitation = _send(rep, contact)
    _expire(invitation)

    with pytest.raises(exceptions.SurveyLinkExpired):
        surveys_services.answer_survey(token=_token(invitation), score=10)
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        lambda token: signing.Signer(salt=surveys.TOKEN_SALT).sign_object(999_999),  # no such invitation
        lambda token: signing.Signer(salt="another-salt").sign_object(1),  # signed for something else
        lambda token: signing.Signer(salt=surveys.TOKEN_SALT).sign_object("1"),  # not an id
        lambda token: "not-a-token",
    ],
)
def test_a_tampered_or_unknown_token_is_refused(rep, contact, tamper):
    invitation = _send(rep, contact)
    with pytest.raises(exceptions.SurveyLinkInvalid):
        surveys_services.answer_survey(token=tamper(_token(invitation)), score=10)
    assert not Feedback.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_make_exactly_one_feedback(team, manager, rep):
    contact = ContactFactory(customer=CustomerFactory(owner=rep))
    token = _token(_send(rep, contact))
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def answer(score):
        try:
            barrier.wait()
            surveys_services.answer_survey(token=token, score=score)
            outcomes.append("answered")
        except exceptions.SurveyAlreadyAnswered:
            outcomes.append("refused")
        finally:
            close_old_connections()

    threads = [threading.Thread(target=answer, args=(score,)) for score in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["answered"] + ["refused"] * 7
    assert Feedback.objects.count() == 1
    invitation = SurveyInvitation.objects.get()
    assert invitation.feedback_id == Feedback.objects.get().pk


def test_an_answer_feeds_the_nps_of_the_period(rep, contact):
    """Before: one detractor (3) -> NPS -100. After a 9 by survey: 1 promoter, 1 detractor -> 0."""
    Feedback.objects.create(customer=contact.customer, nps=3, at=timezone.now())
    month = Period.preset(Grain.MONTH)

    def nps_now():
        registry = kpis.load()
        if "nps" in registry:
            return Decimal(str(registry["nps"](period=month, scope=Scope.company()).value))
        start, end = month.bounds()
        scores = list(
            Feedback.objects.filter(at__gte=start, at__lt=end, nps__isnull=False).values_list(
                "nps", flat=True
            )
        )
        return Decimal(100 * (sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores))) / len(scores)

    assert nps_now() == Decimal(-100)
    surveys_services.answer_survey(token=_token(_send(rep, contact)), score=9)
    assert nps_now() == Decimal(0)


# --- the public page -------------------------------------------------------------------------------


def test_the_public_page_needs_no_login_and_records_the_answer_once(client, rep, contact):
    invitation = _send(rep, contact)
    url = reverse("surveys:answer", args=[_token(invitation)])

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "How likely are you to recommend us" in html
    assert len(re.findall(r'type="radio" class="btn-check" name="score"', html)) == 11
    assert page["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-cache" in page["Cache-Control"]

    answered = client.post(url, {"score": "9", "comment": "Great"})
    assert answered.status_code == 200
    assert "Thank you for your answer!" in answered.content.decode()

    again = client.post(url, {"score": "0"})
    assert again.status_code == 409
    assert "This survey has already been answered." in again.content.decode()
    assert client.get(url).status_code == 409
    assert list(Feedback.objects.values_list("nps", "complaint")) == [(9, "Great")]


def test_the_public_page_refuses_a_missing_or_out_of_range_score(client, rep, contact):
    url = reverse("surveys:answer", args=[_token(_send(rep, contact, kind=SurveyKind.CSAT))])
    assert len(re.findall(r'name="score"', client.get(url).content.decode())) == 5
    for data in ({}, {"score": "7"}):
        response = client.post(url, data)
        assert response.status_code == 400
        assert "Choose a score from 1 to 5." in response.content.decode()
    assert not Feedback.objects.exists()


def test_expired_and_invalid_links_get_a_clear_page(client, rep, contact):
    invitation = _send(rep, contact)
    _expire(invitation)

    expired = client.get(reverse("surveys:answer", args=[_token(invitation)]))
    assert expired.status_code == 410
    assert "This survey link has expired." in expired.content.decode()
    assert (
        client.post(reverse("surveys:answer", args=[_token(invitation)]), {"score": "9"}).status_code == 410
    )

    invalid = client.get(reverse("surveys:answer", args=[_token(invitation) + "x"]))
    assert invalid.status_code == 404
    assert "This survey link is not valid." in invalid.content.decode()
    assert not Feedback.objects.exists()


def test_the_public_page_speaks_the_contacts_browser_language(client, rep, contact):
    url = reverse("surveys:answer", args=[_token(_send(rep, contact))])
    assert '<html lang="zh-hans"' in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").content.decode()
    assert '<html lang="en"' in client.get(url, HTTP_ACCEPT_LANGUAGE="en-GB").content.decode()
    invalid = client.get(reverse("surveys:answer", args=["nonsense"]), HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert '<html lang="zh-hans"' in invalid.content.decode()


# --- the customer page: send and phone answers --------------------------------------------------------


def test_customer_page_shows_the_survey_panel_with_its_links(client, rep, contact):
    invitation = _send(rep, contact)
    surveys_services.answer_survey(token=_token(invitation), score=10)
    client.force_login(rep)

    html = client.get(reverse("customers:detail", args=[contact.customer.pk])).content.decode()

    assert 'id="survey-panel"' in html
    assert "Send survey" in html
    assert "answered: 10/10" in html


def test_send_from_the_customer_page(client, rep, contact, django_capture_on_commit_callbacks):
    client.force_login(rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("surveys:send", args=[contact.customer.pk]), {"contact": contact.pk, "kind": "csat"}
        )
    assert response.status_code == 302
    assert response["Location"].endswith(f"/customers/{contact.customer.pk}/#survey-panel")
    invitation = SurveyInvitation.objects.get()
    assert invitation.kind == "csat"
    assert f"http://testserver/s/{_token(invitation)}/" in mail.outbox[0].body


def test_send_for_a_customer_the_user_may_not_see_is_404(client, other_rep, contact):
    client.force_login(other_rep)
    response = client.post(
        reverse("surveys:send", args=[contact.customer.pk]), {"contact": contact.pk, "kind": "nps"}
    )
    assert response.status_code == 404
    assert not SurveyInvitation.objects.exists()
    assert mail.outbox == []


def test_a_phone_answer_is_recorded_as_phone_feedback(client, rep, contact):
    client.force_login(rep)
    response = client.post(
        reverse("surveys:phone", args=[contact.customer.pk]),
        {"contact": contact.pk, "nps": "6", "csat": "4", "comment": "Called back"},
    )
    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.nps, feedback.csat, feedback.channel, feedback.contact, feedback.recorded_by) == (
        6,
        4,
        FeedbackChannel.PHONE,
        contact,
        rep,
    )
    assert feedback.complaint == "Called back"


def test_a_phone_answer_needs_a_score_and_the_customers_own_contact(rep, contact):
    stranger = ContactFactory()
    with pytest.raises(exceptions.SurveyInvalid) as refused:
        surveys_services.record_phone_answer(
            actor=rep, customer=contact.customer, contact=stranger, nps=None, csat=None
        )
    assert set(refused.value.fields) == {"nps", "contact"}
    with pytest.raises(exceptions.SurveyInvalid):
        surveys_services.record_phone_answer(actor=rep, customer=contact.customer, nps=11)
    assert not Feedback.objects.exists()


def test_a_rep_cannot_record_a_phone_answer_for_another_reps_customer(client, other_rep, contact):
    with pytest.raises(exceptions.SurveyNotAllowed):
        surveys_services.record_phone_answer(actor=other_rep, customer=contact.customer, nps=9)
    client.force_login(other_rep)
    assert client.post(reverse("surveys:phone", args=[contact.customer.pk]), {"nps": "9"}).status_code == 404
    assert not Feedback.objects.exists()
