"""Send surveys and record answers (``send_survey``, ``answer_survey``, ``record_phone_answer``);
tokens, links and who may survey whom are in ``metrics.selectors.surveys``."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import services as customer_services
from customers.models import Contact, Customer, Feedback, FeedbackChannel, User
from metrics.exceptions import (
    SurveyAlreadyAnswered,
    SurveyInvalid,
    SurveyLinkExpired,
    SurveyNotAllowed,
)
from metrics.models import SurveyInvitation, SurveyKind
from metrics.selectors.surveys import SCORE_RANGES, invitation_for_token, may_survey, survey_link


def _ensure_may_survey(*, user: User, customer: Customer) -> None:
    if not may_survey(user=user, customer=customer):
        raise SurveyNotAllowed(
            gettext_lazy("Only the customer's owner, their manager or an admin may do this.")
        )


def send_survey(
    *, sender: User, contact: Contact, kind: str, base_url: str | None = None
) -> SurveyInvitation:
    """Create a survey invitation for ``contact`` and e-mail them its link.

    Raises ``SurveyNotAllowed`` (not the owner, their manager or an admin) and ``SurveyInvalid``
    (unknown kind, contact without an e-mail address). The e-mail goes out once the invitation
    is committed (at once when no transaction is open); a failing mail server raises after the
    invitation exists, and sending again makes a new link.
    """
    invitation = _create_invitation(sender=sender, contact=contact, kind=kind)
    transaction.on_commit(partial(_email_invitation, invitation=invitation, base_url=base_url))
    return invitation


@transaction.atomic
def _create_invitation(*, sender: User, contact: Contact, kind: str) -> SurveyInvitation:
    customer = contact.customer
    _ensure_may_survey(user=sender, customer=customer)
    errors = {}
    if kind not in SurveyKind.values:
        errors["kind"] = _("Choose NPS or CSAT.")
    if not contact.email:
        errors["contact"] = _("This contact has no e-mail address.")
    if errors:
        raise SurveyInvalid(errors)
    now = timezone.now()
    return SurveyInvitation.objects.create(
        customer=customer,
        contact=contact,
        kind=kind,
        sent_by=sender,
        sent_at=now,
        expires_at=now + timedelta(days=settings.METRICS_SURVEY_LINK_DAYS),
    )


def _email_invitation(*, invitation: SurveyInvitation, base_url: str | None) -> None:
    link = survey_link(invitation, base_url=base_url)
    if invitation.kind == SurveyKind.NPS:
        question = _("How likely are you to recommend us to a friend or colleague?")
    else:
        question = _("How satisfied are you with our service?")
    expires = formats.date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT")
    body = "\n\n".join(
        [
            _("Hello %(name)s,") % {"name": invitation.contact.name},
            question,
            _("It takes one click to answer: %(link)s") % {"link": link},
            _("The link works once and until %(date)s.") % {"date": expires},
            _("Thank you!"),
        ]
    )
    mail.EmailMessage(subject=question, body=body, to=[invitation.contact.email]).send()


def _check_score(kind: str, score: int | None, field: str = "score") -> dict[str, str]:
    if score is None or score not in SCORE_RANGES[SurveyKind(kind)]:
        if kind == SurveyKind.NPS:
            return {field: _("Choose a score from 0 to 10.")}
        return {field: _("Choose a score from 1 to 5.")}
    return {}


@transaction.atomic
def answer_survey(*, token: str, score: int, comment: str = "") -> Feedback:
    """Record the contact's answer to the survey ``token`` names, once.

    Raises ``SurveyLinkInvalid``, ``SurveyInvalid`` (score out of range), ``SurveyLinkExpired``
    and ``SurveyAlreadyAnswered``; exactly one of any number of concurrent answers wins.
    """
    invitation = invitation_for_token(token=token)
    errors = _check_score(invitation.kind, score)
    if errors:
        raise SurveyInvalid(errors)
    now = timezone.now()
    claimed = SurveyInvitation.objects.filter(
        pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now
    ).update(answered_at=now)
    if not claimed:
        invitation.refresh_from_db(fields=["answered_at", "expires_at"])
        if invitation.answered_at is not None:
            raise SurveyAlreadyAnswered()
        raise SurveyLinkExpired()
    is_nps = invitation.kind == SurveyKind.NPS
    feedback = customer_services.record_feedback(
        actor=None,
        customer=invitation.customer,
        nps=score if is_nps else None,
        csat=None if is_nps else score,
        complaint=comment.strip(),
        contact=invitation.contact,
        channel=FeedbackChannel.SURVEY,
        at=now,
    )
    SurveyInvitation.objects.filter(pk=invitation.pk).update(feedback=feedback)
    return feedback


@transaction.atomic
def record_phone_answer(
    *,
    actor: User,
    customer: Customer,
    contact: Contact | None = None,
    nps: int | None = None,
    csat: int | None = None,
    comment: str = "",
) -> Feedback:
    """An NPS and/or CSAT answer gathered by phone, stored as feedback with channel ``phone``.

    Same people as ``send_survey``; at least one score; the contact, when given, must be the
    customer's.
    """
    _ensure_may_survey(user=actor, customer=customer)
    errors: dict[str, str] = {}
    if nps is None and csat is None:
        errors["nps"] = _("Give an NPS or a CSAT score.")
    if nps is not None:
        errors |= _check_score(SurveyKind.NPS, nps, "nps")
    if csat is not None:
        errors |= _check_score(SurveyKind.CSAT, csat, "csat")
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = _("This contact belongs to another customer.")
    if errors:
        raise SurveyInvalid(errors)
    return customer_services.record_feedback(
        actor=actor,
        customer=customer,
        nps=nps,
        csat=csat,
        complaint=comment.strip(),
        contact=contact,
        channel=FeedbackChannel.PHONE,
    )
