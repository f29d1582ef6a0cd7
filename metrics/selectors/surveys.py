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
- A phone answer is not tied to an invitation: an open link for the same contact stays open."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from customers import selectors as customer_selectors
from customers.models import Customer, User
from metrics.exceptions import (
    SurveyLinkInvalid,
)
from metrics.models import SurveyInvitation, SurveyKind

TOKEN_SALT = "metrics.surveys.invitation"  # noqa: S105 - a signing salt, not a secret


SCORE_RANGES = {SurveyKind.NPS: range(11), SurveyKind.CSAT: range(1, 6)}


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


def may_survey(*, user: User, customer: Customer) -> bool:
    return customer_selectors.customers_visible_to(user).filter(pk=customer.pk).exists()


def recent_invitations(*, customer: Customer, limit: int = 5) -> list[SurveyInvitation]:
    """The customer's latest survey links, newest first, for the customer page (one query)."""
    return list(
        SurveyInvitation.objects.filter(customer=customer)
        .select_related("contact", "sent_by", "feedback")
        .order_by("-sent_at", "-id")[:limit]
    )
