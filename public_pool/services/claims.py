"""Ownership changes: claim, release, assign, transfer, move, create into a pool (distribution:
``distribution``).

Every function here is one transaction that changes ownership with a *conditional* UPDATE
(it matches only while the customer is still in the state the caller saw), writes exactly one
``PoolEvent`` per customer moved, and re-matches the recycle policy or the priority of what it
moved. No lock outlives the call.

Limits (``Pool.max_held_per_rep``, ``Pool.max_claims_per_day``) are race-free: the rep's user
row is locked (``FOR NO KEY UPDATE``) before counting, so a rep's concurrent claims queue
there and each counts what the previous one committed. What they count:

- held: customers the rep owns now whose ``home_pool`` is this pool (taken from it, by claim,
  assignment or transfer, and not given back);
- per day: leads the rep claimed or was assigned from this pool since midnight in
  ``settings.TIME_ZONE`` (``claim``/``assign`` events).

Cooldown: a rep may not claim (or be given by distribution) a lead they released, lost to
recycling or lost to an admin move within the pool's ``cooldown_days``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BigIntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import services as customer_services
from customers.models import Customer, User
from public_pool import selectors
from public_pool.exceptions import (
    AlreadyClaimed,
    Cooldown,
    InvalidInput,
    NotOwned,
    NotPoolMember,
    PoolEmpty,
    PoolRequired,
    ReasonRequired,
)
from public_pool.models import LOSS_KINDS, Pool, PoolEvent, PoolEventKind, ReleaseReason
from public_pool.services import lean
from public_pool.services._common import (
    ensure_admin,
    ensure_manages,
    ensure_room,
    get_customer,
    get_pool,
    limits_apply,
    lock_reps,
    owned_state,
    pooled_state,
    would_exceed,
)
from public_pool.services.policies import policy_updates, take_policy
from public_pool.services.priority import priority_expression, weights_for


def _team_is_member(user: User, pool_id: int) -> bool:
    """Whether ``user``'s own team may use ``pool_id`` (for admins, whom ``may_use_pool`` lets
    see every pool: a lead an admin holds is counted in the team views and KPIs of that team)."""
    return (
        user.team_id is not None
        and Pool.teams.through.objects.filter(pool_id=pool_id, team_id=user.team_id).exists()
    )


def _ensure_may_take(*, rep: User, pool_id: int) -> None:
    """The taker's team must be a member of the pool. Admins see every pool, but a lead they
    take themselves lands in their own team, so they too must belong to a member team; to give
    a lead to anyone else they assign it (a non-member rep only with a logged override)."""
    if not selectors.may_use_pool(rep, pool_id):
        raise NotPoolMember()
    if rep.is_admin and not _team_is_member(rep, pool_id):
        raise NotPoolMember()


def _ensure_not_in_cooldown(*, rep: User, customer_id: int, pool: Pool, now: datetime) -> None:
    if pool.cooldown_days <= 0:
        return
    last_loss = (
        PoolEvent.objects.filter(
            customer_id=customer_id,
            from_owner_id=rep.pk,
            kind__in=LOSS_KINDS,
            at__gt=now - timedelta(days=pool.cooldown_days),
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if last_loss is not None:
        raise Cooldown(until=last_loss + timedelta(days=pool.cooldown_days))


def _take_one(*, rep: User, pool: Pool, customer: Customer, now: datetime) -> bool:
    """Conditional UPDATE: give ``customer`` to ``rep`` if it still sits in ``pool``.

    One statement sets the owner, the recycle policy and the deadline (one row version); it
    matches only while the row is still pooled there, so of racing takers exactly one wins. On
    success ``customer`` (the instance) is brought up to date, sparing a re-read.
    """
    values = owned_state(rep=rep, home_pool_id=pool.pk, now=now) | take_policy(
        customer=customer, team_id=rep.team_id, home_pool_id=pool.pk, claimed_at=now
    )
    if not Customer.objects.filter(pk=customer.pk, pool_id=pool.pk, owner__isnull=True).update(**values):
        return False
    for name, value in values.items():
        setattr(customer, name, value)
    customer.owner, customer.pool = rep, None
    return True


def take_many(*, rep: User, pool: Pool, customer_ids: list[int], now: datetime) -> int:
    """Set-based :func:`_take_one` for bulk assignment and distribution (rule matched in SQL)."""
    values = owned_state(rep=rep, home_pool_id=pool.pk, now=now) | policy_updates(
        team_id=Value(rep.team_id, output_field=BigIntegerField()),
        home_pool_id=pool.pk,
        claimed_at=now,
        owned=True,
    )
    return Customer.objects.filter(pk__in=customer_ids, pool_id=pool.pk, owner__isnull=True).update(**values)


def claim_customer(*, rep: User, customer_id: int) -> Customer:
    """Give the pooled customer ``customer_id`` to ``rep``, who must be allowed to use its pool.

    Raises ``AlreadyClaimed`` (someone was first: exactly one of any number of simultaneous
    claimers wins), ``NotPoolMember``, ``Cooldown``, ``LimitReached``, ``DailyLimitReached``,
    ``CustomerNotFound``. Writes one ``claim`` event.

    On PostgreSQL the claim is tried first in one statement (``lean.claim``: limits, cooldown,
    membership, rule and deadline, event), which is its own transaction unless the caller has
    one open; the checked path, in a transaction, runs only when that refused, to raise the
    exact error.
    """
    taken = lean.claim(rep=rep, customer_id=customer_id)
    if taken is not None:
        return taken
    return _claim_customer_checked(rep=rep, customer_id=customer_id)


@transaction.atomic
def _claim_customer_checked(*, rep: User, customer_id: int) -> Customer:
    now = timezone.now()
    customer = get_customer(customer_id)
    pool = customer.pool
    if pool is None:
        raise AlreadyClaimed(customer_id=customer_id)
    _ensure_may_take(rep=rep, pool_id=pool.pk)
    _ensure_not_in_cooldown(rep=rep, customer_id=customer_id, pool=pool, now=now)
    if limits_apply(pool):
        lock_reps([rep.pk])
        ensure_room(pool=pool, rep_id=rep.pk, count=1, now=now)
    if not _take_one(rep=rep, pool=pool, customer=customer, now=now):
        raise AlreadyClaimed(customer_id=customer_id)
    PoolEvent.objects.create(
        customer_id=customer_id, kind=PoolEventKind.CLAIM, actor=rep, from_pool=pool, to_owner=rep, at=now
    )
    return customer


def claim_next_best(*, rep: User, pool_id: int) -> Customer:
    """Claim the highest-priority lead of ``pool_id`` that ``rep`` may take now.

    Leads in the rep's cooldown are skipped. Under concurrency each caller locks a different
    lead (``FOR UPDATE SKIP LOCKED`` on the candidate), so simultaneous callers never collide
    or wait on one another. Raises ``PoolEmpty`` when no lead is left for the rep, and the
    limit/membership errors of :func:`claim_customer`. Writes one ``claim`` event.

    On PostgreSQL tried first in one statement (``lean.claim_next``), as :func:`claim_customer`.
    """
    taken, empty = lean.claim_next(rep=rep, pool_id=pool_id)
    if taken is not None:
        return taken
    if empty:
        raise PoolEmpty()
    return _claim_next_best_checked(rep=rep, pool_id=pool_id)


@transaction.atomic
def _claim_next_best_checked(*, rep: User, pool_id: int) -> Customer:
    now = timezone.now()
    pool = get_pool(pool_id)
    _ensure_may_take(rep=rep, pool_id=pool.pk)
    if limits_apply(pool):
        lock_reps([rep.pk])
        ensure_room(pool=pool, rep_id=rep.pk, count=1, now=now)
    candidates = Customer.objects.filter(pool_id=pool.pk)
    if pool.cooldown_days > 0:
        candidates = candidates.exclude(selectors.in_cooldown(rep_id=rep.pk, pool=pool, now=now))
    customer = (
        candidates.order_by("-priority_score", "pk").select_for_update(skip_locked=True, of=("self",)).first()
    )
    if customer is None or not _take_one(rep=rep, pool=pool, customer=customer, now=now):
        raise PoolEmpty()
    PoolEvent.objects.create(
        customer_id=customer.pk, kind=PoolEventKind.CLAIM, actor=rep, from_pool=pool, to_owner=rep, at=now
    )
    return customer


def _lost_by(user: User, customer_id: int) -> bool:
    """Whether ``user`` once owned the customer and lost it (an event moved it from them)."""
    return PoolEvent.objects.filter(customer_id=customer_id, from_owner_id=user.pk).exists()


def _release_target(*, actor: User, customer: Customer, pool_id: int | None) -> Pool:
    if pool_id is not None:
        pool = get_pool(pool_id)
        if not actor.is_admin and not selectors.may_use_pool(actor, pool.pk):
            raise NotPoolMember()
        return pool
    if customer.home_pool_id is not None:
        return get_pool(customer.home_pool_id)
    default = Pool.objects.filter(is_default=True).first()
    if default is None:
        raise PoolRequired()
    return default


@transaction.atomic
def release_customer(
    *, actor: User, customer_id: int, reason: str, note: str = "", pool_id: int | None = None
) -> Customer:
    """Give an owned customer back to a pool, with a reason (a ``ReleaseReason`` code) and a note.

    Allowed to the owner, their manager and admins. The customer goes to ``pool_id`` (which the
    actor must be allowed to use), else to its home pool, else to the default pool. Raises
    ``ReasonRequired`` (no, unknown or inactive reason; a reason that needs a note without
    one), ``NotOwned`` (pooled, or the owner changed meanwhile), ``NotAllowed``,
    ``PoolRequired``. Writes one ``release`` event; the releasing owner's cooldown starts.

    On PostgreSQL tried first in two statements (``lean.release``);
    :func:`release_customer_checked` runs only when that refused, to raise the exact error.
    """
    fast = lean.release(actor=actor, customer_id=customer_id, reason=reason, note=note, pool_id=pool_id)
    if fast is not None:
        return fast
    return release_customer_checked(
        actor=actor, customer_id=customer_id, reason=reason, note=note, pool_id=pool_id
    )


@transaction.atomic
def release_customer_checked(
    *, actor: User, customer_id: int, reason: str, note: str = "", pool_id: int | None = None
) -> Customer:
    """:func:`release_customer` without its fast path: every check in order, then the change.

    For a caller that has just tried ``lean.release`` itself (the API view, which checks the
    customer's visibility in between), so that a refusal does not run the fast path twice."""
    now = timezone.now()
    code = reason.strip()
    if not code:
        raise ReasonRequired(_("Choose a reason for releasing this customer."))
    release_reason = ReleaseReason.objects.filter(code=code, active=True).first()
    if release_reason is None:
        raise ReasonRequired(_("Choose one of the listed reasons."))
    if release_reason.requires_note and not note.strip():
        raise ReasonRequired(_("This reason needs a short explanation."))
    customer = get_customer(customer_id)
    if customer.owner is None:
        raise NotOwned(customer_id=customer_id)
    if customer.owner_id != actor.pk:
        if not selectors.manages(actor, customer.owner) and _lost_by(actor, customer_id):
            # A transfer, recycle or move took it from the actor a moment ago: a conflict with
            # the current state (409), as when the update below finds the owner changed.
            raise NotOwned(customer_id=customer_id)
        ensure_manages(actor, customer.owner)
    pool = _release_target(actor=actor, customer=customer, pool_id=pool_id)
    released = Customer.objects.filter(pk=customer_id, owner_id=customer.owner_id).update(
        **pooled_state(pool_id=pool.pk, now=now),
        priority_score=priority_expression(weights_for(pool.pk), now),
    )
    if released == 0:
        raise NotOwned(customer_id=customer_id)
    PoolEvent.objects.create(
        customer_id=customer_id,
        kind=PoolEventKind.RELEASE,
        actor=actor,
        from_owner_id=customer.owner_id,
        to_pool=pool,
        reason=code,
        note=note.strip(),
        at=now,
    )
    return get_customer(customer_id)


@dataclass(frozen=True)
class AssignResult:
    """``assigned``: customer ids now the rep's; ``skipped``: id → why not (``already_claimed``,
    ``not_found``)."""

    assigned: list[int]
    skipped: dict[int, str] = field(default_factory=dict)
    override_used: bool = False


@transaction.atomic
def assign_customers(
    *, actor: User, rep: User, customer_ids: Sequence[int], override: bool = False, note: str = ""
) -> AssignResult:
    """Give pooled leads to ``rep`` (bulk); the rep's manager or an admin.

    All or nothing on limits: unless ``override``, if the leads still pooled would take the rep
    past a pool's held or daily limit, nothing is assigned (``LimitReached`` /
    ``DailyLimitReached``). With ``override`` the limits are skipped and, where they were
    actually exceeded, the events say so (``override=True``). Leads someone else took first are
    skipped and reported. The rep's team must be a member of each lead's pool
    (``NotPoolMember``); only an admin may assign past that, with ``override``, which the events
    log, and never to someone without a team (the lead's team is the rep's). Writes one
    ``assign`` event per lead assigned.
    """
    ensure_manages(actor, rep)
    if not rep.is_active:
        raise InvalidInput({"rep": _("This person is not active.")})
    now = timezone.now()
    wanted = sorted(set(customer_ids))
    lock_reps([rep.pk])
    # Lock the leads still pooled (waiting for a claim in flight, then re-checking), in id order.
    rows = list(
        Customer.objects.filter(pk__in=wanted, pool__isnull=False)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "pool_id")
    )
    found = set(Customer.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    skipped = {pk: ("already_claimed" if pk in found else "not_found") for pk in wanted}
    by_pool: dict[int, list[int]] = {}
    for pk, pool_id in rows:
        by_pool.setdefault(pool_id, []).append(pk)
        skipped.pop(pk)
    pools = Pool.objects.in_bulk(list(by_pool))
    overridden: set[int] = set()
    for pool_id, ids in by_pool.items():
        pool = pools[pool_id]
        if not actor.is_admin and not selectors.may_use_pool(actor, pool_id):
            raise NotPoolMember()
        member = selectors.may_use_pool(rep, pool_id) and (not rep.is_admin or _team_is_member(rep, pool_id))
        if not member:
            # Only an admin may give a lead to someone whose team may not use its pool, with an
            # explicit override that the events log; never to someone with no team at all.
            if not (actor.is_admin and override and rep.team_id is not None):
                raise NotPoolMember()
            overridden.add(pool_id)
        if override:
            if would_exceed(pool=pool, rep_id=rep.pk, count=len(ids), now=now):
                overridden.add(pool_id)
        else:
            ensure_room(pool=pool, rep_id=rep.pk, count=len(ids), now=now)
    assigned: list[int] = []
    events: list[PoolEvent] = []
    for pool_id, ids in by_pool.items():
        take_many(rep=rep, pool=pools[pool_id], customer_ids=ids, now=now)
        assigned.extend(ids)
        events.extend(
            PoolEvent(
                customer_id=pk,
                kind=PoolEventKind.ASSIGN,
                actor=actor,
                from_pool_id=pool_id,
                to_owner=rep,
                override=pool_id in overridden,
                note=note.strip(),
                at=now,
            )
            for pk in ids
        )
    PoolEvent.objects.bulk_create(events)
    return AssignResult(assigned=assigned, skipped=skipped, override_used=bool(overridden))


def assign_customer(
    *, actor: User, customer_id: int, rep: User, override: bool = False, note: str = ""
) -> Customer:
    """Give one pooled lead to ``rep`` (see :func:`assign_customers`); ``AlreadyClaimed`` if it is gone.

    On PostgreSQL tried first in two statements (``lean.assign``); :func:`assign_customer_checked`
    runs only when that refused."""
    with transaction.atomic():
        taken = lean.assign(actor=actor, customer_id=customer_id, rep_id=rep.pk, override=override, note=note)
    if taken is not None:
        return taken
    return assign_customer_checked(
        actor=actor, customer_id=customer_id, rep=rep, override=override, note=note
    )


def assign_customer_checked(
    *, actor: User, customer_id: int, rep: User, override: bool = False, note: str = ""
) -> Customer:
    """:func:`assign_customer` without its fast path, for a caller that has just tried
    ``lean.assign`` itself (the API view), so that a refusal does not run it twice."""
    result = assign_customers(actor=actor, rep=rep, customer_ids=[customer_id], override=override, note=note)
    if result.skipped.get(customer_id) == "not_found":
        get_customer(customer_id)  # raises CustomerNotFound
    if not result.assigned:
        raise AlreadyClaimed(customer_id=customer_id)
    return get_customer(customer_id)


@transaction.atomic
def transfer_customer(
    *, actor: User, customer_id: int, to_rep: User, override: bool = False, note: str = ""
) -> Customer:
    """Move an owned customer to another rep; a manager of both reps, or an admin.

    The new owner starts a fresh ownership (``claimed_at`` now, no extension) and counts the
    customer against the held limit of its home pool unless ``override`` (logged when used).
    Raises ``NotOwned``, ``NotAllowed``, ``LimitReached``, ``InvalidInput`` (same rep, inactive).
    Writes one ``transfer`` event.
    """
    now = timezone.now()
    customer = get_customer(customer_id)
    if customer.owner is None:
        raise NotOwned(customer_id=customer_id)
    if customer.owner_id == to_rep.pk:
        raise InvalidInput({"rep": _("The customer already belongs to this rep.")})
    if not to_rep.is_active:
        raise InvalidInput({"rep": _("This person is not active.")})
    ensure_manages(actor, customer.owner)
    ensure_manages(actor, to_rep)
    overridden = False
    home_pool = customer.home_pool
    if home_pool is not None and home_pool.max_held_per_rep is not None:
        lock_reps([to_rep.pk])
        if override:
            overridden = would_exceed(pool=home_pool, rep_id=to_rep.pk, count=1, now=now, daily=False)
        else:
            ensure_room(pool=home_pool, rep_id=to_rep.pk, count=1, now=now, daily=False)
    values = owned_state(rep=to_rep, home_pool_id=customer.home_pool_id, now=now) | take_policy(
        customer=customer, team_id=to_rep.team_id, home_pool_id=customer.home_pool_id, claimed_at=now
    )
    moved = Customer.objects.filter(pk=customer_id, owner_id=customer.owner_id).update(**values)
    if moved == 0:
        raise NotOwned(customer_id=customer_id)
    PoolEvent.objects.create(
        customer_id=customer_id,
        kind=PoolEventKind.TRANSFER,
        actor=actor,
        from_owner_id=customer.owner_id,
        to_owner=to_rep,
        override=overridden,
        note=note.strip(),
        at=now,
    )
    return get_customer(customer_id)


class StateChanged(AlreadyClaimed):
    code = "changed"


@transaction.atomic
def move_customer_to_pool(*, actor: User, customer_id: int, pool_id: int, note: str = "") -> Customer:
    """Put a customer (pooled elsewhere, or owned) into ``pool_id``; admins only.

    An owner who loses a customer this way starts a cooldown as after a release. Raises
    ``InvalidInput`` (already there), ``StateChanged`` (it changed hands meanwhile; code
    ``changed``). Writes one ``move`` event.
    """
    ensure_admin(actor)
    now = timezone.now()
    customer = get_customer(customer_id)
    pool = get_pool(pool_id)
    if customer.pool_id == pool.pk:
        raise InvalidInput({"pool": _("The customer is already in this pool.")})
    moved = Customer.objects.filter(pk=customer_id, owner_id=customer.owner_id, pool=customer.pool_id).update(
        **pooled_state(pool_id=pool.pk, now=now),
        priority_score=priority_expression(weights_for(pool.pk), now),
    )
    if moved == 0:
        raise StateChanged(customer_id=customer_id)
    PoolEvent.objects.create(
        customer_id=customer_id,
        kind=PoolEventKind.MOVE,
        actor=actor,
        from_owner_id=customer.owner_id,
        from_pool_id=customer.pool_id,
        to_pool=pool,
        note=note.strip(),
        at=now,
    )
    return get_customer(customer_id)


@transaction.atomic
def create_owned_customer(
    *, actor: User, data: customer_services.CustomerData, owner: User | None = None
) -> Customer:
    """Create an owned customer (``customers.services.create_customer``: a rep's is their own, a
    manager may name a member of a team they manage, an admin anyone) and log its ``create``
    event in the same transaction, so the log shows where every owned customer came from."""
    customer = customer_services.create_customer(actor=actor, data=data, owner=owner)
    PoolEvent.objects.create(
        customer_id=customer.pk,
        kind=PoolEventKind.CREATE,
        actor=actor,
        to_owner_id=customer.owner_id,
        at=customer.created_at,
    )
    return customer


@transaction.atomic
def create_pooled_customer(
    *, actor: User, pool_id: int, data: customer_services.CustomerData, note: str = ""
) -> Customer:
    """Create a customer straight into a pool (admins): validated and normalised by
    ``customers.services.create_customer``, then pooled in the same transaction. One ``create``
    event."""
    ensure_admin(actor)
    pool = get_pool(pool_id)
    now = timezone.now()
    customer = customer_services.create_customer(actor=actor, data=data, owner=actor)
    Customer.objects.filter(pk=customer.pk).update(
        **pooled_state(pool_id=pool.pk, now=now),
        priority_score=priority_expression(weights_for(pool.pk), now),
    )
    PoolEvent.objects.create(
        customer_id=customer.pk,
        kind=PoolEventKind.CREATE,
        actor=actor,
        to_pool=pool,
        note=note.strip(),
        at=now,
    )
    return get_customer(customer.pk)


@transaction.atomic
def log_imported_customers(*, actor: User, pool_id: int, customer_ids: Sequence[int], note: str = "") -> int:
    """For the importer, inside ITS transaction, for customers it has just inserted pooled in
    ``pool_id`` with their home pool and score set: one ``import`` event each, in one
    ``INSERT … SELECT unnest(…)`` (PostgreSQL; ``bulk_create`` elsewhere). Returns the count."""
    if not customer_ids:
        return 0
    now = timezone.now()
    if connection.vendor != "postgresql":
        PoolEvent.objects.bulk_create(
            PoolEvent(
                customer_id=pk, kind=PoolEventKind.IMPORT, actor=actor, to_pool_id=pool_id, note=note, at=now
            )
            for pk in customer_ids
        )
        return len(customer_ids)
    constant = {
        "kind": PoolEventKind.IMPORT,
        "actor_id": actor.pk,
        "to_pool_id": pool_id,
        "note": note,
        "at": now,
    }
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        literals = []
        for f in PoolEvent._meta.concrete_fields:
            if f.primary_key or f.attname == "customer_id":
                continue
            value = (
                constant[f.attname]
                if f.attname in constant
                else f.get_db_prep_save(f.get_default(), connection)
            )
            literal = cursor.mogrify("%s", [value]).decode().replace("%", "%%")
            literals.append((quote(f.column), f"CAST({literal} AS {f.db_type(connection)})"))
        columns = ", ".join([quote("customer_id"), *(column for column, _literal in literals)])
        values = ", ".join(literal for _column, literal in literals)
        cursor.execute(
            f"INSERT INTO {PoolEvent._meta.db_table} ({columns}) SELECT unnest(%s::bigint[]), {values}",
            [list(customer_ids)],
        )
    return len(customer_ids)


def register_imported_customers(
    *, actor: User, pool_id: int, customer_ids: Sequence[int], note: str = ""
) -> int:
    """For the importer, inside ITS transaction: log one ``import`` event per new customer in
    ``pool_id`` (ids not pooled there are ignored), set their home pool and score them.

    Returns the number of events written. Set-based: three statements per call, whatever the
    number of ids; call it per chunk of rows.
    """
    ids = list(
        Customer.objects.filter(pk__in=customer_ids, pool_id=pool_id)
        .values_list("pk", flat=True)
        .order_by("pk")
    )
    if not ids:
        return 0
    now = timezone.now()
    Customer.objects.filter(pk__in=ids).update(
        home_pool_id=pool_id,
        recycle_policy_stale=False,
        priority_score=priority_expression(weights_for(pool_id), now),
    )
    PoolEvent.objects.bulk_create(
        PoolEvent(
            customer_id=pk, kind=PoolEventKind.IMPORT, actor=actor, to_pool_id=pool_id, note=note, at=now
        )
        for pk in ids
    )
    return len(ids)
