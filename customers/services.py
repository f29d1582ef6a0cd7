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

from django.db import connection, transaction
from django.db.models import (
    Case,
    DateTimeField,
    DurationField,
    Exists,
    Expression,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import Exact, IsNull
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
    if data.is_protected and not _may_protect(actor):
        raise NotAllowed(_("Only managers and admins may protect a customer."))
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
    refresh_recycle_due(customers=Customer.objects.filter(pk=customer.pk))
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


# --- Recycle deadline ---------------------------------------------------------------------------
# The public pool copies the recycle rule that applies onto the customer row
# (``recycle_idle_days``, ``recycle_deal_days``, ``recycle_exempt_stage``; plus the granted
# ``recycle_extension_days``). ``recycle_due_at`` is then a function of the row and its deals,
# recomputed in one UPDATE whenever an input changes: a follow-up pushes it out at once, a deal
# won after the claim clears the "no deal" trigger, an open deal far enough along or protection
# clears the deadline. The expression parts are public so the recycle job can evaluate a live rule
# with the very same formula.


class Days(Func):
    """``amount`` whole days as an interval: PostgreSQL ``* INTERVAL '1 day'``; on SQLite, where
    Django keeps durations as microseconds and refuses ``integer * duration``, a plain product."""

    arity = 1
    output_field = DurationField()
    template = "(%(expressions)s * INTERVAL '1 day')"

    def as_sqlite(self, compiler, connection, **extra_context):  # type: ignore[no-untyped-def]
        return self.as_sql(compiler, connection, template="(%(expressions)s * 86400000000)", **extra_context)


def days(amount: Expression | F | int) -> Days:
    """``amount`` whole days as an interval (``amount`` a column, an expression or a number)."""
    return Days(amount if hasattr(amount, "resolve_expression") else Value(amount))


def recycle_claim_time(claimed_at: Expression | None = None) -> Coalesce:
    """When the current ownership began (``created_at`` for rows that never recorded a claim).

    ``claimed_at`` stands in for the column while a claim is being written (the UPDATE that sets
    it sees the old value).
    """
    return Coalesce(F("claimed_at") if claimed_at is None else claimed_at, F("created_at"))


def recycle_clock_start(claimed_at: Expression | None = None) -> Greatest:
    """When the "no follow-up" clock last restarted: the later of the last follow-up and the claim.

    A previous owner's follow-ups therefore never count against a new owner.
    """
    claimed = recycle_claim_time(claimed_at)
    return Greatest(Coalesce(F("last_followup_at"), claimed), claimed)


def won_since_claim(claimed_at: Expression | None = None) -> Exists:
    """The customer has a deal won during the current ownership: the "no deal" trigger is met."""
    since = Coalesce(OuterRef("claimed_at"), OuterRef("created_at")) if claimed_at is None else claimed_at
    return Exists(Deal.objects.filter(customer_id=OuterRef("pk"), stage=DealStage.WON, closed_at__gte=since))


def stages_at_or_past(stage: str) -> list[str]:
    """The open stages from ``stage`` on, in pipeline order (empty for a closed or blank stage)."""
    open_stages = [str(s) for s in DealStage.open_stages()]
    return open_stages[open_stages.index(stage) :] if stage in open_stages else []


def open_deal_at_or_past(stage: str) -> Exists:
    """The customer has an open deal at ``stage`` or further along."""
    return Exists(Deal.objects.filter(customer_id=OuterRef("pk"), stage__in=stages_at_or_past(stage)))


def recycle_due_at_expression(
    *,
    rule_id: Expression | None = None,
    idle_days: Expression | None = None,
    deal_days: Expression | None = None,
    exempt_stage: Expression | None = None,
    extension_days: Expression | None = None,
    claimed_at: Expression | None = None,
    owned: bool = False,
) -> Case:
    """``recycle_due_at`` from the row's stored policy: the earlier of the two triggers, or NULL.

    NULL (never recycled) for pooled or protected customers, rows without a rule, rows exempt
    by an open deal at or past the rule's stage, and rows whose every trigger is off or met.
    Each argument replaces the column of the same meaning (default: the row's own columns), so
    the public pool can compute the deadline in the very UPDATE that sets the policy or the
    owner; ``owned=True`` says the row is owned after that UPDATE.
    """
    rule_id = F("recycle_rule_id") if rule_id is None else rule_id
    idle_days = F("recycle_idle_days") if idle_days is None else idle_days
    deal_days = F("recycle_deal_days") if deal_days is None else deal_days
    exempt_stage = F("recycle_exempt_stage") if exempt_stage is None else exempt_stage
    extension = days(F("recycle_extension_days") if extension_days is None else extension_days)
    idle_due = recycle_clock_start(claimed_at) + days(idle_days) + extension
    deal_due = recycle_claim_time(claimed_at) + days(deal_days) + extension
    idle_off = Q(IsNull(idle_days, True))
    deal_off = Q(IsNull(deal_days, True)) | Q(won_since_claim(claimed_at))
    exempt = Q(is_protected=True) | Q(IsNull(rule_id, True))
    if not owned:
        exempt |= Q(owner__isnull=True)
    for stage in DealStage.open_stages():
        exempt |= Q(Exact(exempt_stage, Value(str(stage)))) & Q(open_deal_at_or_past(stage))
    return Case(
        When(exempt | (idle_off & deal_off), then=Value(None)),
        When(idle_off, then=deal_due),
        When(deal_off, then=idle_due),
        default=Least(idle_due, deal_due),
        output_field=DateTimeField(),
    )


def refresh_recycle_due(*, customers: QuerySet[Customer]) -> int:
    """Recompute ``recycle_due_at`` of ``customers`` in one UPDATE; returns the rows written.

    Call it inside the transaction that changed an input (follow-up, deal, protection, claim,
    policy). Concurrent writers serialise on the row lock the UPDATE takes, and the value is
    computed from the committed state, so the last writer leaves the right deadline.
    """
    return customers.update(recycle_due_at=recycle_due_at_expression())


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


@transaction.atomic
def change_user_team(*, user: User, team_id: int | None) -> None:
    """Move a person to another team, taking their customers along.

    ``Customer.team`` is the owner's team kept on the row (a manager's list is one index
    scan on it), so it must follow the owner: one set-based UPDATE in the same transaction.
    """
    User.objects.filter(pk=user.pk).update(team_id=team_id)
    Customer.objects.filter(owner_id=user.pk).exclude(team_id=team_id).update(
        # A recycle rule may name the team: the public pool re-matches flagged rows.
        team_id=team_id,
        updated_at=timezone.now(),
        recycle_policy_stale=True,
    )
    user.team_id = team_id


# --- duplicate detection (appended) ------------------------------------------------------------


class DuplicateCustomer(DomainError):
    """Creating a customer that already exists (same normalised company name, phone or e-mail).

    Answers 409 ``duplicate``. ``matches`` are the existing rows (for pages); ``duplicates`` is
    what may be told to anyone: where each one is — ``{"where": "pool", "pool": name,
    "pool_id": id, "customer_id": id, "fields": [...]}`` or ``{"where": "owner", "owner": name,
    "fields": [...]}`` (an owned customer is described by its owner's name only) — and
    ``fields`` maps each matched input field to a message saying where, so the API's error body
    carries it (``crm_site.api.exception_handler``).
    """

    code = "duplicate"
    status_code = 409

    def __init__(self, *, matches: list[Customer]) -> None:
        super().__init__(_("This customer already exists."))
        self.matches = matches
        self.duplicates: list[dict[str, object]] = []
        self.fields: dict[str, str] = {}
        for customer in matches:
            matched = list(getattr(customer, "duplicate_fields", []))
            if customer.pool_id is not None:
                entry: dict[str, object] = {
                    "where": "pool",
                    "pool": customer.pool.name,
                    "pool_id": customer.pool_id,
                    "customer_id": customer.pk,
                    "fields": matched,
                }
                message = str(_("Already in the public pool “%(pool)s”.") % {"pool": customer.pool.name})
            else:
                owner = customer.owner
                owner_name = (owner.get_full_name() or owner.username) if owner else ""
                entry = {"where": "owner", "owner": owner_name, "fields": matched}
                message = str(_("Already owned by %(owner)s.") % {"owner": owner_name})
            self.duplicates.append(entry)
            for field in matched:
                self.fields.setdefault(field, message)


def ensure_not_duplicate(*, data: CustomerData) -> None:
    """Raise ``DuplicateCustomer`` if a customer with the same name, phone or e-mail exists."""
    from customers.selectors import find_duplicate_customers  # selectors import this module

    matches = find_duplicate_customers(name=data.name, phone=data.phone, email=data.email)
    if matches:
        raise DuplicateCustomer(matches=matches)


@transaction.atomic
def set_value_tiers(*, tiers_sql: str, params: list[object]) -> int:
    """Write computed value tiers (``ValueTier``) in one set-based UPDATE; return rows changed.

    ``tiers_sql`` is a SELECT yielding ``(customer_id, tier)`` — the metrics app computes it from
    lifetime value (``metrics.tiers``), so this app need not know how. Customers it leaves out
    get no tier (``""``). Only rows whose tier changes are written, so a re-run writes nothing.
    ``updated_at`` is left alone: a nightly recomputation is not an edit. A changed tier may
    change which recycle rule applies (rules can filter on ``value_tier``), so owned rows that
    change are marked ``recycle_policy_stale`` for the public pool to re-match.
    PostgreSQL and SQLite ≥ 3.33 (UPDATE … FROM).
    """
    table = connection.ops.quote_name(Customer._meta.db_table)
    sql = f"""
        UPDATE {table} SET value_tier = wanted.tier,
            recycle_policy_stale = ({table}.recycle_policy_stale OR {table}.owner_id IS NOT NULL)
        FROM (
            SELECT c.id, COALESCE(t.tier, '') AS tier
            FROM {table} c LEFT JOIN ({tiers_sql}) t ON t.customer_id = c.id
        ) wanted
        WHERE wanted.id = {table}.id AND {table}.value_tier <> wanted.tier
    """  # noqa: S608 -- the table name from model metadata; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
