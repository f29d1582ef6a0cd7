"""Recycle rules: editing them, matching them to owned customers, previewing them.

Matching (documented on ``public_pool.models``): an owned customer follows the rules of its
``home_pool`` (or of the default pool when it has none); the first enabled rule whose
conditions match, by ``(priority, id)``, applies. Its parameters are copied onto the customer
row and ``recycle_due_at`` recomputed in the same UPDATE (:func:`policy_updates`):

- when a customer changes hands, inside that very UPDATE (``services.claims``);
- after a rule is created, changed, enabled, disabled or deleted, for the pool's owned
  customers, in batches by a task enqueued on commit (:func:`refresh_pool_recycle_policies`);
- for rows ``customers.services`` flagged ``recycle_policy_stale`` (level, tags, source edited;
  rows bulk-loaded by COPY), at the start of every recycle run
  (:func:`refresh_stale_recycle_policies`).

A deadline that is late to follow a rule change never recycles anyone wrongly: the recycle job
re-checks each candidate against the rule's current values (:func:`rule_conditions`,
:func:`live_due_expression`).
"""

from dataclasses import dataclass, fields, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    DateTimeField,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditArea
from customers import services as customer_services
from customers.models import Customer, Deal, Level, Source, Tag, Team, User, ValueTier
from public_pool import tasks
from public_pool.exceptions import InvalidInput
from public_pool.models import EXEMPT_STAGE_CHOICES, Pool, PoolEvent, RecycleRule
from public_pool.services._common import ensure_admin, get_pool, without_jit

# --- Matching -------------------------------------------------------------------------------


def _matching_rules(*, team_id: Expression | None = None, home_pool_id: Expression | None = None) -> QuerySet:
    """Rules that apply to the outer customer row, first one first (use inside a Subquery).

    ``team_id``/``home_pool_id`` stand in for the row's columns while an UPDATE changes them.
    """
    team = OuterRef("team_id") if team_id is None else team_id
    home_pool = OuterRef("home_pool_id") if home_pool_id is None else home_pool_id
    default_pool = Pool.objects.filter(is_default=True).values("pk")[:1]
    tags = Customer.tags.through.objects.filter(
        customer_id=OuterRef(OuterRef("pk")), tag_id=OuterRef("tag_id")
    )
    return RecycleRule.objects.filter(
        Q(team__isnull=True) | Q(team_id=team),
        Q(level="") | Q(level=OuterRef("level")),
        Q(value_tier="") | Q(value_tier=OuterRef("value_tier")),
        Q(source="") | Q(source=OuterRef("source")),
        Q(tag__isnull=True) | Q(Exists(tags)),
        enabled=True,
        pool_id=Coalesce(home_pool, Subquery(default_pool)),
    ).order_by("priority", "id")


def policy_updates(
    *,
    team_id: Expression | None = None,
    home_pool_id: int | None = None,
    claimed_at: datetime | None = None,
    owned: bool = False,
) -> dict[str, object]:
    """UPDATE assignments that match the recycle rule and set the copied policy and the deadline.

    One statement, whatever the number of rows. With no arguments they read the row's own
    columns (re-matching after a rule change); a service that hands customers to a rep passes
    the values its same UPDATE writes — the rep's team as an expression (``Value(None)`` for
    no team), the home pool, the claim time — because SQL assignments see the old row.
    """
    home_pool = None if home_pool_id is None else Value(home_pool_id)
    rules = _matching_rules(team_id=team_id, home_pool_id=home_pool)

    def column(name: str) -> Subquery:
        return Subquery(rules.values(name)[:1])

    exempt_stage = Coalesce(column("exempt_open_deal_from_stage"), Value(""))
    return {
        "recycle_rule_id": column("pk"),
        "recycle_idle_days": column("no_followup_days"),
        "recycle_deal_days": column("no_deal_days"),
        "recycle_exempt_stage": exempt_stage,
        "recycle_policy_stale": False,
        "recycle_due_at": customer_services.recycle_due_at_expression(
            rule_id=column("pk"),
            idle_days=column("no_followup_days"),
            deal_days=column("no_deal_days"),
            exempt_stage=exempt_stage,
            extension_days=Value(0) if claimed_at is not None else None,
            claimed_at=None if claimed_at is None else Value(claimed_at, output_field=DateTimeField()),
            owned=owned,
        ),
    }


def _rule_selects(rule: RecycleRule, *, customer: Customer, team_id: int | None, tag_ids: set[int]) -> bool:
    """Python twin of the conditions in :func:`_matching_rules` (kept equal by a parity test)."""
    return (
        (rule.team_id is None or rule.team_id == team_id)
        and (not rule.level or rule.level == customer.level)
        and (not rule.value_tier or rule.value_tier == customer.value_tier)
        and (not rule.source or rule.source == customer.source)
        and (rule.tag_id is None or rule.tag_id in tag_ids)
    )


def take_policy(
    *, customer: Customer, team_id: int | None, home_pool_id: int | None, claimed_at: datetime
) -> dict[str, object]:
    """The policy columns and deadline of ONE customer being handed to a rep now, as plain values.

    For the hot single-customer paths (claim, claim next best, transfer) the rule is matched in
    Python over the pool's few rules (one small query, plus the customer's tags or deals only
    when a rule needs them), so the UPDATE that follows writes constants: cheap to build, plan
    and run. At the moment of taking, the formula of ``recycle_due_at_expression`` reduces to
    ``claimed_at + min(active triggers)``: the clock starts now and no deal can have been won
    since now. A parity test checks this against the set-based SQL path. A rule edited
    meanwhile is re-applied by the pool's re-matching task, and the recycle job checks every
    candidate against the rule's current values anyway.
    """
    none: dict[str, object] = {
        "recycle_rule_id": None,
        "recycle_idle_days": None,
        "recycle_deal_days": None,
        "recycle_exempt_stage": "",
        "recycle_policy_stale": False,
        "recycle_due_at": None,
    }
    pool_id = home_pool_id or Pool.objects.filter(is_default=True).values_list("pk", flat=True).first()
    if pool_id is None:  # no home pool and no default pool: no rule applies
        return none
    rules = list(RecycleRule.objects.filter(enabled=True, pool_id=pool_id).order_by("priority", "id"))
    if not rules:
        return none
    tag_ids = set(customer.tags.values_list("pk", flat=True)) if any(r.tag_id for r in rules) else set()
    rule = next(
        (r for r in rules if _rule_selects(r, customer=customer, team_id=team_id, tag_ids=tag_ids)), None
    )
    if rule is None:
        return none
    values = none | {
        "recycle_rule_id": rule.pk,
        "recycle_idle_days": rule.no_followup_days,
        "recycle_deal_days": rule.no_deal_days,
        "recycle_exempt_stage": rule.exempt_open_deal_from_stage,
    }
    exempt = customer.is_protected or (
        bool(rule.exempt_open_deal_from_stage)
        and Deal.objects.filter(
            customer_id=customer.pk,
            stage__in=customer_services.stages_at_or_past(rule.exempt_open_deal_from_stage),
        ).exists()
    )
    if exempt:
        return values
    clock = max(customer.last_followup_at or claimed_at, claimed_at)
    deadlines = []
    if rule.no_followup_days:
        deadlines.append(clock + timedelta(days=rule.no_followup_days))
    if rule.no_deal_days:
        deadlines.append(claimed_at + timedelta(days=rule.no_deal_days))
    values["recycle_due_at"] = min(deadlines)
    return values


def refresh_recycle_policies(*, customers: QuerySet[Customer]) -> int:
    """Re-match the recycle rule of the owned ``customers`` and recompute their deadlines.

    One set-based UPDATE; returns how many owned customers were refreshed. Call it inside the
    transaction that changed what the rules depend on.
    """
    return customers.filter(owner__isnull=False).update(**policy_updates())


def refresh_stale_recycle_policies(*, batch_size: int = 5000) -> int:
    """Re-match every owned customer flagged stale, in batches of ``batch_size`` (own transactions).

    Rows another worker is refreshing are skipped (``SKIP LOCKED``); that worker covers them.
    """
    total = 0
    while True:
        with transaction.atomic():
            without_jit()
            ids = list(
                Customer.objects.filter(owner__isnull=False, recycle_policy_stale=True)
                .order_by("pk")
                .select_for_update(skip_locked=True, of=("self",))
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                total += refresh_recycle_policies(customers=Customer.objects.filter(pk__in=ids))
        if len(ids) < batch_size:
            return total


def pool_rule_scope(pool: Pool) -> QuerySet[Customer]:
    """Owned customers whose rules are ``pool``'s."""
    scope = Q(home_pool=pool)
    if pool.is_default:
        scope |= Q(home_pool__isnull=True)
    return Customer.objects.filter(scope, owner__isnull=False)


def refresh_pool_recycle_policies(*, pool_id: int, batch_size: int | None = None) -> int:
    """Re-match every owned customer of a pool after its rules changed, in id-ordered batches
    (each its own short transaction), then stamp the pool's ``rules_applied_at``.

    Idempotent; runs as a task after each rule edit and, for pools a missing worker left
    behind, at the start of the recycle job. Until it has run, the recycle job still checks
    every candidate against the rules' current values, so a laxer rule never recycles early;
    a stricter one takes effect when this finishes.
    """
    batch_size = batch_size or settings.PUBLIC_POOL_RECYCLE_BATCH_SIZE
    started = timezone.now()
    pool = get_pool(pool_id)
    scope = pool_rule_scope(pool)
    total, last = 0, 0
    while True:
        ids = list(scope.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            without_jit()
            total += refresh_recycle_policies(customers=scope.filter(pk__gte=ids[0], pk__lte=ids[-1]))
        last = ids[-1]
    Pool.objects.filter(
        Q(rules_changed_at__isnull=True) | Q(rules_changed_at__lte=started), pk=pool.pk
    ).update(rules_applied_at=started)
    return total


def refresh_changed_pools(*, batch_size: int | None = None) -> int:
    """Re-match the customers of every pool whose rules changed since they were last applied."""
    changed = Pool.objects.filter(rules_changed_at__isnull=False).filter(
        Q(rules_applied_at__isnull=True) | Q(rules_applied_at__lt=F("rules_changed_at"))
    )
    return sum(
        refresh_pool_recycle_policies(pool_id=pk, batch_size=batch_size)
        for pk in changed.values_list("pk", flat=True)
    )


# --- The live formula (re-verification at run time, preview) --------------------------------


@dataclass(frozen=True)
class RuleData:
    """What an admin sets on a rule. ``None`` days turn a trigger off."""

    name: str
    enabled: bool = True
    priority: int = 100
    team_id: int | None = None
    level: str = ""
    value_tier: str = ""
    tag_id: int | None = None
    source: str = ""
    no_followup_days: int | None = None
    no_deal_days: int | None = None
    exempt_open_deal_from_stage: str = ""
    warn_days: int = 3
    target_pool_id: int | None = None

    @classmethod
    def from_rule(cls, rule: RecycleRule) -> "RuleData":
        return cls(**{f.name: getattr(rule, f.name) for f in fields(cls)})


def rule_conditions(*, pool: Pool, rule: RuleData) -> Q:
    """Owned customers of ``pool`` that ``rule``'s conditions select and its exemptions spare."""
    condition = Q(owner__isnull=False, is_protected=False)
    in_pool = Q(home_pool_id=pool.pk)
    if pool.is_default:
        in_pool |= Q(home_pool__isnull=True)
    condition &= in_pool
    if rule.team_id is not None:
        condition &= Q(team_id=rule.team_id)
    if rule.level:
        condition &= Q(level=rule.level)
    if rule.value_tier:
        condition &= Q(value_tier=rule.value_tier)
    if rule.source:
        condition &= Q(source=rule.source)
    if rule.tag_id is not None:
        condition &= Q(
            Exists(Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag_id=rule.tag_id))
        )
    if rule.exempt_open_deal_from_stage:
        condition &= ~Q(customer_services.open_deal_at_or_past(rule.exempt_open_deal_from_stage))
    return condition


def _idle_due(rule: RuleData) -> Expression:
    extension = customer_services.days(Coalesce("recycle_extension_days", Value(0)))
    return (
        customer_services.recycle_clock_start()
        + customer_services.days(rule.no_followup_days or 0)
        + extension
    )


def _deal_due(rule: RuleData) -> Expression:
    extension = customer_services.days(Coalesce("recycle_extension_days", Value(0)))
    return customer_services.recycle_claim_time() + customer_services.days(rule.no_deal_days or 0) + extension


def live_due_expression(rule: RuleData) -> Case:
    """The deadline ``rule`` gives a customer, from the rule's current values (not the row's copy).

    Same formula as ``customers.services.recycle_due_at_expression``; conditions and exemptions
    are :func:`rule_conditions`.
    """
    won = Q(customer_services.won_since_claim())
    if rule.no_followup_days and rule.no_deal_days:
        return Case(
            When(won, then=_idle_due(rule)),
            default=Least(_idle_due(rule), _deal_due(rule)),
            output_field=DateTimeField(),
        )
    if rule.no_followup_days:
        return Case(default=_idle_due(rule), output_field=DateTimeField())
    if rule.no_deal_days:
        return Case(When(won, then=Value(None)), default=_deal_due(rule), output_field=DateTimeField())
    return Case(default=Value(None), output_field=DateTimeField())


def recycle_trigger_expression(*, rule: RuleData, as_of: datetime) -> Case:
    """Which trigger fired at ``as_of``: ``no_followup`` (checked first) or ``no_deal``."""
    if rule.no_followup_days:
        return Case(
            When(LessThanOrEqual(_idle_due(rule), Value(as_of)), then=Value("no_followup")),
            default=Value("no_deal"),
        )
    return Case(default=Value("no_deal"))


# --- Editing ---------------------------------------------------------------------------------


def validate_rule(*, pool: Pool, rule: RuleData) -> None:
    """Raise :class:`InvalidInput` naming each bad field."""
    errors: dict[str, str] = {}
    if not rule.name.strip():
        errors["name"] = _("A rule needs a name.")
    if rule.no_followup_days is None and rule.no_deal_days is None:
        errors["no_followup_days"] = _("Set days without follow-up, days without a deal, or both.")
    for field in ("no_followup_days", "no_deal_days"):
        value = getattr(rule, field)
        if value is not None and not 1 <= value <= 3650:
            errors[field] = _("Give a number of days from 1 to 3650.")
    if not 0 <= rule.warn_days <= 365:
        errors["warn_days"] = _("Give a number of days from 0 to 365.")
    if not 0 <= rule.priority <= 32767:
        errors["priority"] = _("Give a number from 0 to 32767.")
    if rule.level and rule.level not in Level.values:
        errors["level"] = _("Unknown level.")
    if rule.value_tier and rule.value_tier not in ValueTier.values:
        errors["value_tier"] = _("Unknown value tier.")
    if rule.source and rule.source not in Source.values:
        errors["source"] = _("Unknown source.")
    if rule.exempt_open_deal_from_stage and rule.exempt_open_deal_from_stage not in dict(
        EXEMPT_STAGE_CHOICES
    ):
        errors["exempt_open_deal_from_stage"] = _("Choose an open deal stage.")
    if rule.team_id is not None and not Team.objects.filter(pk=rule.team_id).exists():
        errors["team_id"] = _("Unknown team.")
    if rule.tag_id is not None and not Tag.objects.filter(pk=rule.tag_id).exists():
        errors["tag_id"] = _("Unknown tag.")
    if rule.target_pool_id is not None and not Pool.objects.filter(pk=rule.target_pool_id).exists():
        errors["target_pool_id"] = _("Unknown pool.")
    if errors:
        raise InvalidInput(errors)


def _rule_values(rule: RuleData) -> dict[str, object]:
    values = {f.name: getattr(rule, f.name) for f in fields(RuleData)}
    values["name"] = rule.name.strip()
    return values


def rule_snapshot(rule: RecycleRule) -> dict[str, object]:
    """A rule's settings as the audit log shows them (names, not ids)."""
    values = _rule_values(RuleData.from_rule(rule))
    for name in ("team_id", "tag_id", "target_pool_id"):
        values.pop(name)
    values["team"] = Team.objects.filter(pk=rule.team_id or 0).values_list("name", flat=True).first()
    values["tag"] = Tag.objects.filter(pk=rule.tag_id or 0).values_list("name", flat=True).first()
    values["target_pool"] = (
        Pool.objects.filter(pk=rule.target_pool_id or 0).values_list("name", flat=True).first()
    )
    values["pool"] = rule.pool.name
    return values


def _audit_rule(
    actor: User, rule: RecycleRule, before: dict[str, object] | None, after: dict[str, object] | None
) -> None:
    audit.record_change(
        actor=actor,
        area=AuditArea.RECYCLE_RULE,
        object_id=rule.pk,
        label=f"{rule.pool.name} · {rule.name}",
        before=before,
        after=after,
    )


def _rules_changed(pool: Pool) -> None:
    """Stamp the pool and re-match its customers in the background once the edit commits."""
    Pool.objects.filter(pk=pool.pk).update(rules_changed_at=timezone.now())
    tasks.refresh_pool_recycle_policies_task.delay_on_commit(pool_id=pool.pk)  # type: ignore[attr-defined]  # Celery 5.4+, not in celery-types


@transaction.atomic
def create_recycle_rule(*, actor: User, pool_id: int, rule: RuleData) -> RecycleRule:
    """Add a rule to a pool (admins); the pool's owned customers are re-matched after commit."""
    ensure_admin(actor)
    pool = get_pool(pool_id)
    validate_rule(pool=pool, rule=rule)
    now = timezone.now()
    created = RecycleRule.objects.create(pool=pool, created_at=now, updated_at=now, **_rule_values(rule))
    _audit_rule(actor, created, None, rule_snapshot(created))
    _rules_changed(pool)
    return created


@transaction.atomic
def update_recycle_rule(*, actor: User, rule_id: int, rule: RuleData) -> RecycleRule:
    """Change a rule (admins); deadlines of the pool's owned customers follow after commit."""
    ensure_admin(actor)
    current = RecycleRule.objects.select_for_update().select_related("pool").get(pk=rule_id)
    validate_rule(pool=current.pool, rule=rule)
    before = rule_snapshot(current)
    RecycleRule.objects.filter(pk=rule_id).update(updated_at=timezone.now(), **_rule_values(rule))
    _rules_changed(current.pool)
    updated = RecycleRule.objects.select_related("pool").get(pk=rule_id)
    _audit_rule(actor, updated, before, rule_snapshot(updated))
    return updated


def set_recycle_rule_enabled(*, actor: User, rule_id: int, enabled: bool) -> RecycleRule:
    """Enable or disable a rule (admins)."""
    rule = RecycleRule.objects.get(pk=rule_id)
    return update_recycle_rule(
        actor=actor, rule_id=rule_id, rule=replace(RuleData.from_rule(rule), enabled=enabled)
    )


class RuleInUse(InvalidInput):
    code = "rule_in_use"
    status_code = 409

    def __init__(self) -> None:
        super().__init__({"rule": _("This rule has recycled customers; disable it instead of deleting it.")})


@transaction.atomic
def delete_recycle_rule(*, actor: User, rule_id: int) -> None:
    """Delete a rule that never recycled anyone (admins); the log keeps the others, so disable them."""
    ensure_admin(actor)
    rule = RecycleRule.objects.select_for_update().select_related("pool").get(pk=rule_id)
    if PoolEvent.objects.filter(rule=rule).exists():
        raise RuleInUse()
    # Its customers have no rule (hence no deadline) until the pool is re-matched after commit.
    Customer.objects.filter(recycle_rule=rule).update(
        recycle_rule=None,
        recycle_idle_days=None,
        recycle_deal_days=None,
        recycle_exempt_stage="",
        recycle_due_at=None,
    )
    before = rule_snapshot(rule)
    rule_pk = rule.pk
    rule.delete()
    rule.pk = rule_pk
    _audit_rule(actor, rule, before, None)
    _rules_changed(rule.pool)


# --- Preview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewRow:
    customer_id: int
    name: str
    owner: str
    due_at: datetime


@dataclass(frozen=True)
class RulePreview:
    due_now: int
    due_within_warning: int
    sample: list[PreviewRow]


def preview_rule(
    *, pool_id: int, rule: RuleData, as_of: datetime | None = None, sample_size: int = 10
) -> RulePreview:
    """What ``rule`` (saved or not) would do at ``as_of``: recycle ``due_now`` customers now and
    ``due_within_warning`` more within its warning window, with the soonest as a sample.

    Counts every owned customer of the pool the rule selects, as if no other rule came first.
    Two queries (one aggregate, one sample); nothing is written.
    """
    pool = get_pool(pool_id)
    as_of = as_of or timezone.now()
    if rule.no_followup_days is None and rule.no_deal_days is None:
        return RulePreview(due_now=0, due_within_warning=0, sample=[])
    horizon = as_of + timedelta(days=rule.warn_days)
    matched = (
        Customer.objects.filter(rule_conditions(pool=pool, rule=rule))
        .annotate(live_due=live_due_expression(rule))
        .filter(live_due__isnull=False, live_due__lte=horizon)
    )
    counts = matched.aggregate(
        now=Count("pk", filter=Q(live_due__lte=as_of)),
        soon=Count("pk", filter=Q(live_due__gt=as_of)),
    )
    sample = [
        PreviewRow(customer_id=c.pk, name=c.name, owner=str(c.owner), due_at=c.live_due)
        for c in matched.select_related("owner").order_by("live_due", "pk")[:sample_size]
    ]
    return RulePreview(due_now=counts["now"], due_within_warning=counts["soon"], sample=sample)
