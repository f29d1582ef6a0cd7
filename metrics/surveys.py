"""NPS and CSAT surveys: send a contact a signed, expiring link; record the one answer it allows;
record answers gathered by phone. Every answer becomes a ``customers.Feedback`` row (through
``customers.services.record_feedback``), which is what the ``nps`` and ``csat`` KPIs count.

Decisions where the issue is silent:

- Who may survey a customer is who may see it (``customers.selectors.customers_visible_to``):
  the owner, the owner's manager, an admin. A rep never surveys another rep's customer.
- The link's token is ``django.core.signing`` over the invitation's id (salted), so it cannot
  be guessed or altered; expiry is the row's ``expires_at`` (``METRICS_SURVEY_LINK_DAYS`` after
  sending), not the signature's age, so the stored deadline is the one truth.
- One answer per link, race-free: the answer first claims the row with
  ``UPDATE … SET answered_at = now WHERE answered_at IS NULL AND expires_at > now`` and writes
  the feedback in the same transaction only when that UPDATE matched a row. Two answers at
  once: the second waits on the row lock, then matches nothing.
- The comment box asks what we could do better and is stored in ``Feedback.complaint``, the
  model's only free-text field (a separate comment field would need a customers migration).
- The e-mail is written in the sender's current language (the page they sent it from); the
  public page speaks the contact's browser language (``Accept-Language``). It is sent after
  the invitation is committed (``transaction.on_commit``), never inside the transaction.
- A phone answer is not tied to an invitation: an open link for the same contact stays open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core import mail, signing
from django.db import transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import Contact, Customer, Feedback, FeedbackChannel, User
from metrics.exceptions import (
    SurveyAlreadyAnswered,
    SurveyInvalid,
    SurveyLinkExpired,
    SurveyLinkInvalid,
    SurveyNotAllowed,
)
from metrics.models import SurveyInvitation, SurveyKind

TOKEN_SALT = "metrics.surveys.invitation"  # noqa: S105 - a signing salt, not a secret
SCORE_RANGES = {SurveyKind.NPS: range(11), SurveyKind.CSAT: range(1, 6)}


# --- links --------------------------------------------------------------------------------------


def token_for(invitation: SurveyInvitation) -> str:
    """The same token every time for an invitation (no timestamp: the row holds the expiry)."""
    return signing.Signer(salt=TOKEN_SALT).sign_object(invitation.pk)


def survey_path(invitation: SurveyInvitation) -> str:
    return reverse("surveys:answer", args=[token_for(invitation)])


def survey_link(invitation: SurveyInvitation, *, base_url: str | None = None) -> str:
    """The absolute link: ``base_url`` (a request's ``build_absolute_uri('/')``) or ``CRM_SITE_URL``."""
    return (base_url or settings.CRM_SITE_URL).rstrip("/") + survey_path(invitation)


def invitation_for_token(*, token: str) -> SurveyInvitation:
    """The invitation a token names, whatever its state; ``SurveyLinkInvalid`` otherwise."""
    try:
        pk = signing.Signer(salt=TOKEN_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError) as error:
        raise SurveyLinkInvalid() from error
    if not isinstance(pk, int):
        raise SurveyLinkInvalid()
    invitation = SurveyInvitation.objects.select_related("customer", "contact").filter(pk=pk).first()
    if invitation is None:
        raise SurveyLinkInvalid()
    return invitation


@dataclass(frozen=True, slots=True)
class LinkState:
    invitation: SurveyInvitation
    is_answered: bool
    is_expired: bool

    @property
    def is_open(self) -> bool:
        return not (self.is_answered or self.is_expired)


def link_state(*, token: str) -> LinkState:
    """What the public page shows for a token (raises ``SurveyLinkInvalid``)."""
    invitation = invitation_for_token(token=token)
    return LinkState(
        invitation=invitation,
        is_answered=invitation.answered_at is not None,
        is_expired=invitation.expires_at <= timezone.now(),
    )


# --- sending ------------------------------------------------------------------------------------


def may_survey(*, user: User, customer: Customer) -> bool:
    return customer_selectors.customers_visible_to(user).filter(pk=customer.pk).exists()


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


# --- answering ----------------------------------------------------------------------------------


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


def recent_invitations(*, customer: Customer, limit: int = 5) -> list[SurveyInvitation]:
    """The customer's latest survey links, newest first, for the customer page (one query)."""
    return list(
        SurveyInvitation.objects.filter(customer=customer)
        .select_related("contact", "sent_by", "feedback")
        .order_by("-sent_at", "-id")[:limit]
    )
