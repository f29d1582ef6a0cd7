"""The recycle deadline (``recycle_due_at``) of a customer row, as SQL expressions the public pool's
services and recycle job reuse."""

from dataclasses import dataclass
from datetime import datetime, timedelta

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
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, Greatest, Least
from django.db.models.lookups import Exact, IsNull

from customers.models import (
    Customer,
    Deal,
    DealStage,
)

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

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="(%(expressions)s * 86400000000)", **extra_context)


def days(amount: Combinable | int) -> Days:
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
    rule_id: Combinable | None = None,
    idle_days: Combinable | None = None,
    deal_days: Combinable | None = None,
    exempt_stage: Combinable | None = None,
    extension_days: Combinable | None = None,
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


# --- The deadline of one loaded row, in Python (no query) ------------------------------------


@dataclass(frozen=True)
class DeadlineParts:
    """What sets a loaded customer's ``recycle_due_at``: the trigger that comes first and when
    each trigger's clock started, from the row's own columns (the same formula as
    :func:`recycle_due_at_expression`, evaluated in Python)."""

    trigger: str  # "no_followup" or "no_deal"
    idle_since: datetime | None  # when the "no follow-up" clock last restarted (None: off)
    idle_due: datetime | None
    deal_since: datetime | None  # the claim (None: the "no deal" trigger is off or met)
    deal_due: datetime | None
    extension_days: int


def deadline_parts(customer: Customer) -> DeadlineParts | None:
    """None when the customer is not owned or has no deadline."""
    due = customer.recycle_due_at
    if customer.owner_id is None or due is None or customer.recycle_rule_id is None:
        return None
    claimed = customer.claimed_at or customer.created_at
    extension = customer.recycle_extension_days or 0
    idle_since = idle_due = deal_since = deal_due = None
    if customer.recycle_idle_days is not None:
        idle_since = max(customer.last_followup_at or claimed, claimed)
        idle_due = idle_since + timedelta(days=customer.recycle_idle_days + extension)
    if customer.recycle_deal_days is not None:
        deal_since = claimed
        deal_due = claimed + timedelta(days=customer.recycle_deal_days + extension)
    # The stored deadline is the earlier live trigger. A deadline equal to the idle one (within
    # rounding) is the "no follow-up" trigger; a "no deal" deadline earlier than it is met (a
    # deal was won since the claim), so it no longer applies.
    if idle_due is not None and abs((idle_due - due).total_seconds()) < 1:
        trigger = "no_followup"
        if deal_due is not None and deal_due < due - timedelta(seconds=1):
            deal_since = deal_due = None
    else:
        trigger = "no_deal" if deal_due is not None else "no_followup"
    return DeadlineParts(
        trigger=trigger,
        idle_since=idle_since,
        idle_due=idle_due,
        deal_since=deal_since,
        deal_due=deal_due,
        extension_days=extension,
    )


def owned_deadline(customer: Customer) -> tuple[datetime | None, int | None]:
    """The recycle deadline and its rule as the API shows them: only while the customer is owned
    and a rule applies, else ``(None, None)``."""
    if customer.owner_id is None or customer.recycle_due_at is None:
        return None, None
    return customer.recycle_due_at, customer.recycle_rule_id


def recycle_trigger(customer: Customer) -> str | None:
    """``no_followup`` / ``no_deal``: what the owner must do to keep the customer (None: no deadline)."""
    parts = deadline_parts(customer)
    return parts.trigger if parts else None
