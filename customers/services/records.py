"""Customer records: normalising names and phones, create and update with validation and tags,
and duplicate detection (same normalised company name, phone or e-mail)."""

import hashlib
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers import selectors
from customers.exceptions import CustomerInvalid, DuplicateCustomer, NotAllowed
from customers.models import (
    CompanySize,
    Customer,
    Industry,
    Level,
    Source,
    Tag,
    User,
)
from customers.normalization import normalize_company_name, normalize_phone
from customers.services._common import _may_act_for, _may_protect
from customers.services.deadlines import refresh_recycle_due


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
    if data.is_protected and not _may_protect(actor):
        raise NotAllowed(_("Only managers and admins may protect a customer."))
    lock_identities(data=data)  # the check below and the insert are one step for this company
    ensure_not_duplicate(data=data)  # DuplicateCustomer (409 "duplicate"): creates nothing
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
    # Level, tags, source or protection may change which recycle rule applies: the public pool
    # re-matches stale rows; the deadline under the current policy is refreshed now.
    values["recycle_policy_stale"] = True
    Customer.objects.filter(pk=customer.pk).update(**values)
    _set_tags(customer, data.tags)
    refresh_recycle_due(customers=Customer.objects.filter(pk=customer.pk))
    customer.refresh_from_db()
    return customer


# First key of the two-key advisory locks that serialise creating one company (any constant
# int4 unique to this use; the second key is a hash of the normalised name, phone or e-mail).
IDENTITY_LOCK_NAMESPACE = 0x43555354  # "CUST"


def _identity_keys(data: CustomerData) -> list[int]:
    identities = [
        f"name:{normalize_company_name(data.name)}",
        f"phone:{normalize_phone(data.phone)}" if normalize_phone(data.phone) else "",
        f"email:{data.email.strip().lower()}" if data.email.strip() else "",
    ]
    keys = {
        int.from_bytes(hashlib.blake2b(identity.encode(), digest_size=4).digest(), "big", signed=True)
        for identity in identities
        if identity
    }
    return sorted(keys)  # one order for every caller: two creators never deadlock


def lock_identities(*, data: CustomerData) -> None:
    """Serialise the duplicate check and the insert of one company until the transaction ends.

    A transaction-scoped PostgreSQL advisory lock per normalised name, phone and e-mail (taken
    in one order): a second creator of the same company waits here, then its duplicate check
    sees the first one's committed row and answers ``duplicate``. A hash collision only makes
    two different companies wait for each other. Must run inside the creating transaction. On
    SQLite, writers are serialised by the database itself, so nothing is taken.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for key in _identity_keys(data):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [IDENTITY_LOCK_NAMESPACE, key])


def ensure_not_duplicate(*, data: CustomerData) -> None:
    """Raise ``DuplicateCustomer`` if a customer with the same name, phone or e-mail exists."""
    matches = selectors.find_duplicate_customers(name=data.name, phone=data.phone, email=data.email)
    if matches:
        raise DuplicateCustomer(matches=matches)
