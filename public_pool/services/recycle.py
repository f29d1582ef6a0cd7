"""The recycle job: owned customers whose rule says so go back to a pool.

Set-based and bounded: for each enabled rule, batches of at most ``batch_size`` customers,
each batch ONE statement on PostgreSQL::

    WITH cand AS (SELECT … ORDER BY recycle_due_at LIMIT n FOR UPDATE SKIP LOCKED),
         moved AS (UPDATE customers … FROM cand … RETURNING …)
    , notices AS (INSERT INTO notifications SELECT … FROM moved)  -- the former owner's notice
    INSERT INTO pool events SELECT … FROM moved

in its own short transaction. Rows are reached through ``cust_rule_recycle_due`` (the rule,
then the deadline; owned rows with a deadline only) in deadline order, so a batch reads about
``batch_size`` rows however many are due; the moved leads are scored for the pool list in the
same UPDATE (one row version per customer), and nothing is loaded into Python but the ids of
one batch.

Correctness under overlap (DESIGN.md invariant 5): a run takes the job's run lock (a session
advisory lock on PostgreSQL, a ``JobLock`` row elsewhere: ``services/run_lock.py``) and an
overlapping run returns at once (``skipped``); with ``exclusive=False`` several runs share the
work instead, kept apart by ``SKIP LOCKED`` and by the candidate query re-checking the row
(PostgreSQL re-evaluates it on the latest row version before locking): a customer is recycled
at most once and gets exactly one event. Re-running is harmless (idempotent): a recycled
customer is pooled and no longer matches.

Re-verification: the stored ``recycle_due_at`` only selects candidates. Each is re-checked
against the rule's *current* conditions, exemptions and triggers (``policies.rule_conditions``,
``policies.live_due_expression``) at ``as_of``, so a stale stored deadline never recycles a
customer who is no longer due.
"""

from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, TypedDict, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, DateTimeField, Expression, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from crm_site.progress import Progress
from customers import services as customer_services
from customers.models import Customer
from public_pool.models import (
    Notification,
    NotificationKind,
    Pool,
    PoolEvent,
    PoolEventKind,
    PriorityWeights,
    RecycleRule,
)
from public_pool.services import team_chat
from public_pool.services._common import pooled_state, without_jit
from public_pool.services.policies import (
    RuleData,
    live_due_expression,
    recycle_trigger_expression,
    refresh_changed_pools,
    refresh_stale_recycle_policies,
    rule_conditions,
)
from public_pool.services.priority import priority_expression, weights_for
from public_pool.services.run_lock import job_lock


def _no_renew() -> None:
    return None


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class _DueAnnotations(TypedDict):
    live_due: datetime
    recycle_trigger: str


# pg advisory lock key of the recycle job (any constant bigint unique to this job).
RECYCLE_LOCK_KEY = 7_210_431_001


@dataclass(frozen=True)
class RecycleResult:
    as_of: datetime
    dry_run: bool
    recycled: int
    by_rule: dict[int, int] = field(default_factory=dict)
    policies_refreshed: int = 0
    skipped: bool = False  # another run held the lock; this one did nothing


def due_customers(
    *, rule: RecycleRule, as_of: datetime
) -> "QuerySet[WithAnnotations[Customer, _DueAnnotations]]":
    """Customers ``rule`` recycles at ``as_of``, re-verified against the rule's current values."""
    data = RuleData.from_rule(rule)
    return (
        Customer.objects.filter(owner__isnull=False, recycle_due_at__lte=as_of, recycle_rule_id=rule.pk)
        .filter(rule_conditions(pool=rule.pool, rule=data))
        .annotate(
            live_due=live_due_expression(data),
            recycle_trigger=recycle_trigger_expression(rule=data, as_of=as_of),
        )
        .filter(live_due__lte=as_of)
    )


@dataclass(frozen=True)
class RecycleCandidate:
    customer_id: int
    name: str
    owner_id: int
    rule_id: int
    target_pool_id: int
    due_at: datetime  # the stored deadline
    trigger: str  # no_followup / no_deal


def iter_recycle_candidates(*, as_of: datetime, chunk_size: int = 2000) -> Iterator[RecycleCandidate]:
    """What a run at ``as_of`` would recycle, re-verified, streamed rule by rule (dry runs).

    Reads only; rows are not locked, so a run starting meanwhile may take some of them.
    """
    for rule in (
        RecycleRule.objects.filter(enabled=True).select_related("pool").order_by("pool_id", "priority", "pk")
    ):
        rows = (
            due_customers(rule=rule, as_of=as_of)
            .order_by("recycle_due_at", "pk")
            .values_list("pk", "name", "owner_id", "recycle_due_at", "recycle_trigger")
        )
        for pk, name, owner_id, due_at, trigger in rows.iterator(chunk_size=chunk_size):
            yield RecycleCandidate(
                customer_id=pk,
                name=name,
                owner_id=owner_id,
                rule_id=rule.pk,
                target_pool_id=rule.effective_target_id,
                due_at=cast(datetime, due_at),  # due_customers filters on it: never NULL here
                trigger=trigger,
            )


def _notice_columns(data: RuleData) -> dict[str, Expression]:
    """What the ``recycled`` notice says besides names: since when the trigger's clock ran
    (last follow-up or claim; the claim for "no deal") and for how many days (the rule's,
    plus any extension granted), read from the row before the UPDATE clears it."""
    extension = Coalesce(F("recycle_extension_days"), Value(0))
    idle = Value(data.no_followup_days) if data.no_followup_days is not None else Value(None)
    deal = Value(data.no_deal_days) if data.no_deal_days is not None else Value(None)
    return {
        "notice_since": Case(
            When(recycle_trigger="no_followup", then=customer_services.recycle_clock_start()),
            default=customer_services.recycle_claim_time(),
            output_field=DateTimeField(),
        ),
        "notice_days": Case(
            When(recycle_trigger="no_followup", then=idle + extension),
            default=deal + extension,
            output_field=IntegerField(),
        ),
    }


@dataclass(frozen=True)
class _Target:
    """Where a rule's customers go: read once per rule and run, not once per batch."""

    pool_id: int
    name: str
    weights: PriorityWeights

    @classmethod
    def of(cls, rule: RecycleRule) -> "_Target":
        pool_id = rule.effective_target_id
        name = Pool.objects.filter(pk=pool_id).values_list("name", flat=True).first() or ""
        return cls(pool_id=pool_id, name=name, weights=weights_for(pool_id))


def _batch_postgres(
    *, rule: RecycleRule, target: _Target, as_of: datetime, now: datetime, batch_size: int
) -> list[int]:
    candidates = (
        due_customers(rule=rule, as_of=as_of)
        .annotate(
            new_priority=priority_expression(target.weights, now),
            **_notice_columns(RuleData.from_rule(rule)),
        )
        # Index order only (no tie-breaker): a batch stops after ``batch_size`` index entries
        # instead of sorting every row that shares a deadline.
        .order_by("recycle_due_at")
        .select_for_update(skip_locked=True, of=("self",))
        .values(
            "pk",
            "owner_id",
            "recycle_trigger",
            "new_priority",
            "recycle_due_at",
            "notice_since",
            "notice_days",
        )[:batch_size]
    )
    select_sql, select_params = candidates.query.sql_with_params()
    customers, events = Customer._meta.db_table, PoolEvent._meta.db_table
    notices = Notification._meta.db_table
    # The former owner's ``recycled`` notice is written by the same statement (exactly one per
    # customer moved): ``params`` as ``Notification.message`` reads them.
    sql = f"""
        WITH cand (id, owner_id, recycle_trigger, priority, due_at, since, days) AS ({select_sql}),
        moved AS (
            UPDATE {customers} AS c
            SET owner_id = NULL, team_id = NULL, pool_id = %s, home_pool_id = %s, pooled_at = %s,
                claimed_at = NULL, updated_at = %s, recycle_due_at = NULL, recycle_rule_id = NULL,
                recycle_idle_days = NULL, recycle_deal_days = NULL, recycle_exempt_stage = '',
                recycle_extension_days = 0, recycle_policy_stale = false, priority_score = cand.priority
            FROM cand
            WHERE c.id = cand.id AND c.owner_id IS NOT NULL
            RETURNING c.id, c.name, cand.owner_id, cand.recycle_trigger, cand.due_at, cand.since, cand.days
        ),
        notices AS (
            INSERT INTO {notices} (user_id, kind, customer_id, due_at, params, created_at)
            SELECT owner_id, %s, id, due_at,
                   jsonb_build_object('customer', name, 'rule', %s::text, 'pool', %s::text,
                                      'trigger', recycle_trigger, 'since', since, 'days', days),
                   %s
            FROM moved
        )
        INSERT INTO {events}
            (customer_id, kind, actor_id, from_owner_id, to_owner_id, from_pool_id, to_pool_id,
             reason, note, rule_id, override, at)
        SELECT id, %s, NULL, owner_id, NULL, NULL, %s, recycle_trigger, '', %s, false, %s FROM moved
        RETURNING customer_id
    """  # noqa: S608 -- table names come from model metadata; every value is a parameter
    params = [
        *select_params,
        target.pool_id,
        target.pool_id,
        now,
        now,
        NotificationKind.RECYCLED.value,
        rule.name,
        target.name,
        now,
        PoolEventKind.RECYCLE.value,
        target.pool_id,
        rule.pk,
        now,
    ]
    with connection.cursor() as cursor:
        # The planner cannot tell how many of the rule's due rows pass the re-check (a CASE over
        # won deals), guesses a handful, and would read every due row of the rule through a
        # bitmap scan, re-check and sort them all, then keep ``batch_size``: each batch paying for
        # all the batches after it. Without bitmap scans it walks ``cust_rule_recycle_due`` in
        # deadline order and stops after ``batch_size`` rows (bench/README.md, "Recycle job").
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _batch_generic(
    *, rule: RecycleRule, target: _Target, as_of: datetime, now: datetime, batch_size: int
) -> list[int]:
    """The same batch for SQLite: read the candidates, move them, log what the UPDATE moved.

    The transaction began IMMEDIATE (settings), so no other writer runs between the read and
    the UPDATE; still, the UPDATE re-checks ``owner IS NOT NULL`` and answers the ids it
    really moved (``RETURNING``), and only those get an event.
    """
    rows = list(
        due_customers(rule=rule, as_of=as_of)
        .annotate(**_notice_columns(RuleData.from_rule(rule)))
        .order_by("recycle_due_at", "pk")
        .values_list(
            "pk", "owner_id", "recycle_trigger", "name", "recycle_due_at", "notice_since", "notice_days"
        )[:batch_size]
    )
    if not rows:
        return []
    update = Customer.objects.filter(pk__in=[row[0] for row in rows], owner__isnull=False)
    query = cast(UpdateQuery, update.query.chain(UpdateQuery))
    query.add_update_values(
        {
            **pooled_state(pool_id=target.pool_id, now=now),
            "priority_score": priority_expression(target.weights, now),
        }
    )
    sql, params = query.get_compiler(connection.alias).as_sql()
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {connection.ops.quote_name('id')}", params)
        moved = {row[0] for row in cursor.fetchall()}
    PoolEvent.objects.bulk_create(
        PoolEvent(
            customer_id=pk,
            kind=PoolEventKind.RECYCLE,
            from_owner_id=owner_id,
            to_pool_id=target.pool_id,
            reason=trigger,
            rule=rule,
            at=now,
        )
        for pk, owner_id, trigger, *_notice in rows
        if pk in moved
    )
    Notification.objects.bulk_create(
        Notification(
            user_id=owner_id,
            kind=NotificationKind.RECYCLED,
            customer_id=pk,
            due_at=due_at,
            params={
                "customer": name,
                "rule": rule.name,
                "pool": target.name,
                "trigger": trigger,
                "since": since.isoformat() if since else None,
                "days": days,
            },
            created_at=now,
        )
        for pk, owner_id, trigger, name, due_at, since, days in rows
        if pk in moved
    )
    return [row[0] for row in rows if row[0] in moved]


def recycle_stale_customers(
    *,
    as_of: datetime | None = None,
    dry_run: bool = False,
    batch_size: int | None = None,
    exclusive: bool = True,
    progress: Progress | None = None,
) -> RecycleResult:
    """Apply every enabled recycle rule as of ``as_of`` (default: now).

    ``dry_run`` counts what would move per rule and changes nothing (stale policies are not
    re-matched either; ``selectors.recycle_candidates`` lists the stored deadlines). Otherwise:
    re-match stale policies, then recycle rule by rule in batches of ``batch_size`` (default
    ``PUBLIC_POOL_RECYCLE_BATCH_SIZE``), each batch its own transaction, one ``recycle`` event
    per customer naming the rule and the trigger (``reason`` = ``no_followup``/``no_deal``), and
    one ``recycled`` notification to the former owner, written by the same statement.
    Events and ``pooled_at`` carry the real time of the move, not ``as_of``. After each batch
    commits, its notices are queued for the former owners' team chats (``team_chat``).

    ``exclusive`` (default) makes an overlapping run return at once with ``skipped=True``;
    without it, overlapping runs split the work. At-least-once safe: run it as often as you like.

    ``progress`` (``manage.py recycle_pool`` on a terminal) is told the customers due (counted
    once more before the batches, only when it is given) and each batch moved.
    """
    as_of = as_of or timezone.now()
    batch_size = batch_size or settings.PUBLIC_POOL_RECYCLE_BATCH_SIZE
    rules = list(
        RecycleRule.objects.filter(enabled=True).select_related("pool").order_by("pool_id", "priority", "pk")
    )
    if dry_run:
        with transaction.atomic():
            counts = {rule.pk: due_customers(rule=rule, as_of=as_of).count() for rule in rules}
        return RecycleResult(as_of=as_of, dry_run=True, recycled=sum(counts.values()), by_rule=counts)

    batch = _batch_postgres if connection.vendor == "postgresql" else _batch_generic
    lock = (
        job_lock("recycle_pool", advisory_key=RECYCLE_LOCK_KEY)
        if exclusive
        else nullcontext((True, _no_renew))
    )
    with lock as (acquired, renew):
        if not acquired:
            return RecycleResult(as_of=as_of, dry_run=False, recycled=0, skipped=True)
        refreshed = refresh_changed_pools(batch_size=batch_size)
        refreshed += refresh_stale_recycle_policies(batch_size=batch_size)
        by_rule: dict[int, int] = {}
        chats = team_chat.any_team_chat()
        if progress is not None:
            progress.add_total(sum(due_customers(rule=rule, as_of=as_of).count() for rule in rules))
        for rule in rules:
            target = _Target.of(rule)
            while True:
                now = timezone.now()
                with transaction.atomic():
                    without_jit()
                    moved = batch(rule=rule, target=target, as_of=as_of, now=now, batch_size=batch_size)
                if moved and chats:  # after the commit: never an HTTP call inside the batch
                    team_chat.announce_where(
                        Notification.objects.filter(
                            kind=NotificationKind.RECYCLED, created_at=now, customer_id__in=moved
                        )
                    )
                if moved:
                    by_rule[rule.pk] = by_rule.get(rule.pk, 0) + len(moved)
                    if progress is not None:
                        progress.advance(len(moved))
                renew()  # a long run keeps its lock
                if len(moved) < batch_size:
                    break
    return RecycleResult(
        as_of=as_of,
        dry_run=False,
        recycled=sum(by_rule.values()),
        by_rule=by_rule,
        policies_refreshed=refreshed,
    )
