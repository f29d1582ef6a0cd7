"""Writes with business meaning on customer records.

Every service owns its transaction, checks who may do it, and keeps the stored
timestamps that KPIs and the public pool read (``last_followup_at``,
``first_won_at``, ``updated_at``) current with conditional updates, so concurrent
writers never move them backwards.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_site.exceptions import DomainError
from customers.models import (
    CompanySize,
    Contact,
    Customer,
    Deal,
    DealStage,
    Feedback,
    FeedbackChannel,
    FollowUp,
    Industry,
    Level,
    Role,
    Source,
    Tag,
    User,
)


class NotAllowed(DomainError):
    code = "permission_denied"
    status_code = 403


# Legal-form words that do not make two companies different ("Acme Ltd" == "ACME Limited").
_LEGAL_SUFFIXES = re.compile(
    r"(有限责任公司|股份有限公司|有限公司|集团|公司|\b(?:co|company|corp|corporation|inc|incorporated|"
    r"ltd|limited|llc|gmbh|plc|group)\b)"
)
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_company_name(name: str) -> str:
    """The form two spellings of one company share: case, width, punctuation and legal form folded."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    folded = _LEGAL_SUFFIXES.sub(" ", folded)
    return _NON_WORD.sub("", folded)


def normalize_phone(phone: str) -> str:
    """Digits only, with a leading ``+`` kept: ``+86 138-0000-0000`` → ``+8613800000000``."""
    phone = unicodedata.normalize("NFKC", phone).strip()
    digits = re.sub(r"\D", "", phone)
    return f"+{digits}" if phone.startswith("+") and digits else digits


@dataclass(frozen=True)
class CustomerData:
    """What a person types about a customer; services normalise it."""

    name: str
    industry: str = ""
    size: str = ""
    region: str = ""
    address: str = ""
    website: str = ""
    phone: str = ""
    email: str = ""
    source: str = Source.OTHER
    campaign_id: int | None = None
    level: str = Level.C
    is_protected: bool = False
    note: str = ""
    tags: tuple[str, ...] = ()


def _validate(data: CustomerData) -> None:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = str(_("A company name is required."))
    if data.industry and data.industry not in Industry.values:
        errors["industry"] = str(_("Unknown industry."))
    if data.size and data.size not in CompanySize.values:
        errors["size"] = str(_("Unknown company size."))
    if data.source not in Source.values:
        errors["source"] = str(_("Unknown source."))
    if data.level not in Level.values:
        errors["level"] = str(_("Unknown level."))
    if errors:
        raise CustomerInvalid(errors)


class CustomerInvalid(DomainError):
    code = "invalid"

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(_("Some fields are not valid."))
        self.fields = fields


def _set_tags(customer: Customer, names: tuple[str, ...]) -> None:
    wanted = {n.strip() for n in names if n.strip()}
    existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    missing = [Tag(name=n) for n in wanted - existing.keys()]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {t.name: t for t in Tag.objects.filter(name__in=wanted)}
    customer.tags.set(existing.values())


def _field_values(data: CustomerData) -> dict[str, object]:
    return {
        "name": data.name.strip(),
        "name_normalized": normalize_company_name(data.name),
        "industry": data.industry,
        "size": data.size,
        "region": data.region.strip(),
        "address": data.address.strip(),
        "website": data.website.strip(),
        "phone": normalize_phone(data.phone),
        "email": data.email.strip().lower(),
        "source": data.source,
        "campaign_id": data.campaign_id,
        "level": data.level,
        "is_protected": data.is_protected,
        "note": data.note,
    }


@transaction.atomic
def create_customer(*, actor: User, data: CustomerData, owner: User | None = None) -> Customer:
    """Create a customer owned by ``owner`` (default: the actor).

    A rep's new customer is always their own. A manager may give it to a member of a
    team they manage; an admin to anyone. Creating into a pool is the public pool's
    service (``public_pool.services``), which sets ``pool`` instead of ``owner``.
    """
    _validate(data)
    owner = owner or actor
    if owner.pk != actor.pk and not _may_act_for(actor=actor, rep=owner):
        raise NotAllowed(_("You may not create customers for this person."))
    now = timezone.now()
    customer = Customer.objects.create(
        **_field_values(data),
        owner=owner,
        team_id=owner.team_id,
        created_by=actor,
        created_at=now,
        updated_at=now,
        claimed_at=now,
    )
    _set_tags(customer, data.tags)
    return customer


@transaction.atomic
def update_customer(*, actor: User, customer: Customer, data: CustomerData) -> Customer:
    """Change a customer's details. Ownership changes are pool operations, not edits."""
    _validate(data)
    values = _field_values(data)
    if not _may_protect(actor):
        values.pop("is_protected")
    values["updated_at"] = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(**values)
    _set_tags(customer, data.tags)
    customer.refresh_from_db()
    return customer


def _may_protect(actor: User) -> bool:
    """Protection exempts a customer from recycling, so only managers and admins may set it."""
    return actor.is_admin or actor.role == Role.MANAGER


def _may_act_for(*, actor: User, rep: User) -> bool:
    if actor.is_admin:
        return True
    if actor.role == Role.MANAGER and rep.team_id is not None:
        return rep.team.manager_id == actor.pk or rep.team_id == actor.team_id
    return False


def _ensure_may_work(*, actor: User, customer: Customer) -> None:
    """Follow-ups and deals are logged by the owner, or by the owner's manager or an admin."""
    if customer.owner_id == actor.pk or actor.is_admin:
        return
    if (
        actor.role == Role.MANAGER
        and customer.owner is not None
        and _may_act_for(actor=actor, rep=customer.owner)
    ):
        return
    raise NotAllowed(_("Only the customer's owner may do this."))


@transaction.atomic
def log_followup(
    *, actor: User, customer: Customer, kind: str, note: str = "", at: datetime | None = None
) -> FollowUp:
    """Record a call, visit, e-mail, meeting or message.

    ``last_followup_at`` only moves forward (``GREATEST``), so back-dated entries and
    concurrent loggers cannot move it back.
    """
    _ensure_may_work(actor=actor, customer=customer)
    now = timezone.now()
    at = at or now
    if at > now + timedelta(minutes=5):
        raise CustomerInvalid({"at": str(_("A follow-up cannot be in the future."))})
    followup = FollowUp.objects.create(
        customer=customer, kind=kind, note=note, at=at, by=actor, created_at=now
    )
    Customer.objects.filter(pk=customer.pk).update(
        last_followup_at=Greatest(Coalesce(F("last_followup_at"), Value(at)), Value(at)), updated_at=now
    )
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
    _ensure_may_work(actor=actor, customer=customer)
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
    return deal


@transaction.atomic
def move_deal(*, actor: User, deal: Deal, stage: str) -> Deal:
    """Move a deal to ``stage``. Winning sets the customer's ``first_won_at`` if it is the first win."""
    _ensure_may_work(actor=actor, customer=deal.customer)
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
    _ensure_may_work(actor=actor, customer=customer)
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
