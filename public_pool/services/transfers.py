"""Bulk change of owner: a manager hands many customers of their team to one rep at once.

The single-customer :func:`public_pool.services.transfer_customer` stays the path for one
customer (the customer page); this is its set-based twin for the team's customer list ("the
ticked ones" or "all matching the filter"), under the same rules: the actor manages every
current owner and the new one, the new owner starts a fresh ownership (``claimed_at`` now, no
extension, the recycle rule re-matched for their team), each customer counts against the held
limit of its home pool, and each customer moved gets exactly one ``transfer`` event.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import BigIntegerField, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, User
from public_pool.exceptions import InvalidInput
from public_pool.models import Pool, PoolEvent, PoolEventKind
from public_pool.services._common import ensure_manages, ensure_room, lock_reps, owned_state, would_exceed
from public_pool.services.policies import policy_updates

# A bulk change is one transaction holding row locks: keep it to a size that commits in well
# under a second. The list page offers "all matching the filter" only up to this many.
MAX_BULK_TRANSFER = 2000


@dataclass(frozen=True)
class TransferResult:
    """``transferred``: customer ids now ``to_rep``'s; ``skipped``: id → why not
    (``already_theirs``, ``not_owned`` — in a pool —, ``not_found``)."""

    transferred: list[int]
    skipped: dict[int, str] = field(default_factory=dict)
    override_used: bool = False


@transaction.atomic
def transfer_customers(
    *, actor: User, customer_ids: Sequence[int], to_rep: User, override: bool = False, note: str = ""
) -> TransferResult:
    """Give the owned customers ``customer_ids`` to ``to_rep``; a manager of every rep involved,
    or an admin.

    All or nothing: if the actor may not act for one of the current owners (``NotAllowed``), or
    the customers would take ``to_rep`` past a home pool's held limit (``LimitReached``, unless
    ``override``), nothing changes. With ``override`` the limit is skipped and the events of the
    customers that went past it say so. Customers already ``to_rep``'s, pooled meanwhile or gone
    are skipped and reported. Race-safe: the customers are locked (id order) before their
    owners are read, and ``to_rep``'s row before counting, as in the single transfer.
    Raises ``InvalidInput`` (nothing picked, too many, inactive rep).
    """
    wanted = sorted(set(customer_ids))
    if not wanted:
        raise InvalidInput({"customers": _("Pick at least one customer.")})
    if len(wanted) > MAX_BULK_TRANSFER:
        raise InvalidInput(
            {"customers": _("Change at most %(max)d customers at once.") % {"max": MAX_BULK_TRANSFER}}
        )
    if not to_rep.is_active:
        raise InvalidInput({"to_rep": _("This person is not active.")})
    ensure_manages(actor, to_rep)
    now = timezone.now()
    lock_reps([to_rep.pk])
    rows = list(
        Customer.objects.filter(pk__in=wanted, owner__isnull=False)
        .exclude(owner_id=to_rep.pk)
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list("pk", "owner_id", "home_pool_id")
    )
    owners = User.objects.in_bulk({owner_id for _pk, owner_id, _pool in rows})
    for owner in owners.values():
        ensure_manages(actor, owner)
    states = dict(Customer.objects.filter(pk__in=wanted).values_list("pk", "owner_id"))
    moving = {pk for pk, _owner, _pool in rows}
    skipped = {
        pk: (
            "not_found" if pk not in states else "already_theirs" if states[pk] == to_rep.pk else "not_owned"
        )
        for pk in wanted
        if pk not in moving
    }
    by_pool: dict[int | None, list[int]] = {}
    for pk, _owner, pool_id in rows:
        by_pool.setdefault(pool_id, []).append(pk)
    pools = Pool.objects.in_bulk([pool_id for pool_id in by_pool if pool_id is not None])
    overridden: set[int] = set()
    for home_id, ids in by_pool.items():
        pool = pools.get(home_id) if home_id is not None else None
        if pool is None or pool.max_held_per_rep is None:
            continue
        if override:
            if would_exceed(pool=pool, rep_id=to_rep.pk, count=len(ids), now=now, daily=False):
                overridden.add(pool.pk)
        else:
            ensure_room(pool=pool, rep_id=to_rep.pk, count=len(ids), now=now, daily=False)
    if rows:
        values = owned_state(rep=to_rep, home_pool_id=None, now=now)
        del values["home_pool_id"]  # each customer keeps its home pool
        values |= policy_updates(
            team_id=Value(to_rep.team_id, output_field=BigIntegerField()), claimed_at=now, owned=True
        )
        Customer.objects.filter(pk__in=sorted(moving)).update(**values)
        PoolEvent.objects.bulk_create(
            PoolEvent(
                customer_id=pk,
                kind=PoolEventKind.TRANSFER,
                actor=actor,
                from_owner_id=owner_id,
                to_owner=to_rep,
                override=pool_id in overridden,
                note=note.strip(),
                at=now,
            )
            for pk, owner_id, pool_id in rows
        )
    return TransferResult(
        transferred=[pk for pk, _owner, _pool in rows], skipped=skipped, override_used=bool(overridden)
    )
