"""A customer's activity: follow-ups, deals and their stages, contacts and feedback; each keeps
the stored timestamps (``last_followup_at``, ``first_won_at``, ``updated_at``) and the recycle
deadline current with conditional updates, so concurrent writers never move them backwards."""

from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import (
    F,
    Q,
    Value,
)
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.exceptions import CustomerInvalid
from customers.models import (
    Contact,
    Customer,
    Deal,
    DealStage,
    Feedback,
    FeedbackChannel,
    FollowUp,
    User,
)
from customers.normalization import normalize_phone
from customers.services._common import _lock_for_work
from customers.services.deadlines import refresh_recycle_due

# What the follow-up form and the API answer for a blank (or whitespace-only) note.
BLANK_NOTE_MESSAGE = _("Write what happened: the note cannot be empty.")


def followup_earliest() -> datetime:
    """The earliest ``at`` a follow-up may have: 1 January 2000, 00:00 in the company's time zone."""
    return datetime(2000, 1, 1, tzinfo=timezone.get_default_timezone())


@transaction.atomic
def log_followup(
    *, actor: User, customer: Customer, kind: str, note: str = "", at: datetime | None = None
) -> FollowUp:
    """Record a call, visit, e-mail, meeting or message.

    ``at`` (default now) may not be in the future (5 minutes of clock skew allowed) nor before
    :data:`FOLLOWUP_EARLIEST` (``CustomerInvalid`` with ``fields["at"]``); a year-1 date is
    refused here, never written. The pages and the API also refuse a blank note
    (:data:`BLANK_NOTE_MESSAGE`). ``last_followup_at`` only moves forward (``GREATEST``), so
    back-dated entries and concurrent loggers cannot move it back.
    """
    customer = _lock_for_work(actor=actor, customer_id=customer.pk)
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise CustomerInvalid({"at": str(_("A follow-up cannot be in the future."))})
    if at < followup_earliest():
        raise CustomerInvalid({"at": str(_("A follow-up cannot be before 1 January 2000."))})
    followup = FollowUp.objects.create(
        customer=customer, kind=kind, note=note, at=at, by=actor, created_at=now
    )
    Customer.objects.filter(pk=customer.pk).update(
        last_followup_at=Greatest(Coalesce(F("last_followup_at"), Value(at)), Value(at)), updated_at=now
    )
    refresh_recycle_due(customers=Customer.objects.filter(pk=customer.pk))
    return followup


@transaction.atomic
def create_deal(
    *,
    actor: User,
    customer: Customer,
    title: str,
    amount: Decimal,
    stage: str = DealStage.LEAD,
    expected_close=None,
) -> Deal:
    customer = _lock_for_work(actor=actor, customer_id=customer.pk)
    now = timezone.now()
    deal = Deal.objects.create(
        customer=customer,
        owner=customer.owner or actor,
        title=title,
        amount=amount,
        stage=DealStage.LEAD,
        expected_close=expected_close,
        created_at=now,
        updated_at=now,
    )
    if stage != DealStage.LEAD:
        deal = move_deal(actor=actor, deal=deal, stage=stage)
    Customer.objects.filter(pk=customer.pk).update(updated_at=now)
    refresh_recycle_due(customers=Customer.objects.filter(pk=customer.pk))
    return deal


@transaction.atomic
def move_deal(*, actor: User, deal: Deal, stage: str) -> Deal:
    """Move a deal to ``stage``. Winning sets the customer's ``first_won_at`` if it is the first win."""
    _lock_for_work(actor=actor, customer_id=deal.customer_id)
    if stage not in DealStage.values:
        raise CustomerInvalid({"stage": str(_("Unknown stage."))})
    now = timezone.now()
    closed_at = now if stage in DealStage.closed_stages() else None
    if deal.stage in DealStage.closed_stages() and stage in DealStage.closed_stages():
        closed_at = deal.closed_at
    Deal.objects.filter(pk=deal.pk).update(stage=stage, closed_at=closed_at, updated_at=now)
    if stage == DealStage.WON:
        Customer.objects.filter(
            Q(first_won_at__isnull=True) | Q(first_won_at__gt=closed_at), pk=deal.customer_id
        ).update(first_won_at=closed_at)
    elif deal.stage == DealStage.WON:
        _recompute_first_won(customer_id=deal.customer_id)
    Customer.objects.filter(pk=deal.customer_id).update(updated_at=now)
    refresh_recycle_due(customers=Customer.objects.filter(pk=deal.customer_id))
    deal.refresh_from_db()
    return deal


def _recompute_first_won(*, customer_id: int) -> None:
    first = (
        Deal.objects.filter(customer_id=customer_id, stage=DealStage.WON)
        .order_by("closed_at")
        .values_list("closed_at", flat=True)
        .first()
    )
    Customer.objects.filter(pk=customer_id).update(first_won_at=first)


@transaction.atomic
def add_contact(
    *,
    actor: User,
    customer: Customer,
    name: str,
    title: str = "",
    phone: str = "",
    email: str = "",
    wechat: str = "",
    is_primary: bool = False,
) -> Contact:
    customer = _lock_for_work(actor=actor, customer_id=customer.pk)
    if not name.strip():
        raise CustomerInvalid({"name": str(_("A contact needs a name."))})
    if is_primary:
        Contact.objects.filter(customer=customer, is_primary=True).update(is_primary=False)
    return Contact.objects.create(
        customer=customer,
        name=name.strip(),
        title=title.strip(),
        phone=normalize_phone(phone),
        email=email.strip().lower(),
        wechat=wechat.strip(),
        is_primary=is_primary,
    )


@transaction.atomic
def record_feedback(
    *,
    actor: User | None,
    customer: Customer,
    nps: int | None = None,
    csat: int | None = None,
    complaint: str = "",
    contact: Contact | None = None,
    channel: str = FeedbackChannel.MANUAL,
    at: datetime | None = None,
) -> Feedback:
    """Store one answer (NPS 0–10, CSAT 1–5, complaint). ``actor`` is None for a survey link."""
    errors = {}
    if nps is not None and not 0 <= nps <= 10:
        errors["nps"] = str(_("NPS is a score from 0 to 10."))
    if csat is not None and not 1 <= csat <= 5:
        errors["csat"] = str(_("CSAT is a score from 1 to 5."))
    if nps is None and csat is None and not complaint.strip():
        errors["nps"] = str(_("Give a score or a complaint."))
    if errors:
        raise CustomerInvalid(errors)
    return Feedback.objects.create(
        customer=customer,
        contact=contact,
        nps=nps,
        csat=csat,
        complaint=complaint.strip(),
        channel=channel,
        at=at or timezone.now(),
        recorded_by=actor,
    )
