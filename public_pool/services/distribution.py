"""Automatic distribution of a pool's leads to reps: round robin or least-loaded.

Same guarantees as ``claims``: reps' user rows locked before counting (limits hold under
concurrency), leads locked with ``SKIP LOCKED`` (reps claiming meanwhile are never blocked),
one conditional UPDATE per rep and one ``assign`` event per lead, in one transaction.
"""

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Role, User
from public_pool import selectors
from public_pool.exceptions import NotAllowed
from public_pool.models import LOSS_KINDS, PoolEvent, PoolEventKind
from public_pool.services._common import ensure_manages, get_pool, lock_reps, room_left
from public_pool.services.claims import take_many


class DistributionStrategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LEAST_LOADED = "least_loaded"


@dataclass(frozen=True)
class DistributionResult:
    """``assigned``: rep id → customer ids given; ``skipped_reps``: rep id → ``away`` /
    ``limit_reached`` / ``not_pool_member``; ``unassigned``: leads picked but nobody could take."""

    assigned: dict[int, list[int]]
    skipped_reps: dict[int, str]
    unassigned: list[int]

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.assigned.values())


@transaction.atomic
def distribute_pool_leads(
    *,
    actor: User,
    pool_id: int,
    strategy: DistributionStrategy | str = DistributionStrategy.ROUND_ROBIN,
    rep_ids: Sequence[int] | None = None,
    max_leads: int | None = None,
    customer_ids: Sequence[int] | None = None,
) -> DistributionResult:
    """Hand a pool's best leads (or ``customer_ids``) out to reps automatically.

    Reps: ``rep_ids`` (each must be one the actor manages) or every active rep the actor may
    assign this pool's leads to. Reps marked away, at a limit or not members are skipped and
    reported. ``round_robin`` deals leads one by one in rep order, starting after the rep who
    got the pool's last round-robin lead; ``least_loaded`` gives each next lead to the rep
    holding fewest customers from this pool. Never past a rep's limits, never a lead in the
    rep's cooldown; at most ``max_leads`` (default: ``PUBLIC_POOL_DISTRIBUTE_MAX``). Leads are
    locked with ``SKIP LOCKED``, so reps claiming meanwhile are not blocked. One ``assign``
    event per lead, ``reason`` = the strategy.
    """
    strategy = DistributionStrategy(strategy)
    now = timezone.now()
    pool = get_pool(pool_id)
    if not (actor.is_admin or (actor.role == Role.MANAGER and selectors.may_use_pool(actor, pool.pk))):
        raise NotAllowed(_("Only a manager of a member team or an admin may distribute this pool's leads."))
    if rep_ids is not None:
        reps = list(User.objects.filter(pk__in=rep_ids, is_active=True).order_by("pk"))
        for rep in reps:
            ensure_manages(actor, rep)
    else:
        reps = list(selectors.assignable_reps(actor=actor, pool=pool).order_by("pk"))
    skipped: dict[int, str] = {}
    members = set(selectors.assignable_reps(actor=actor, pool=pool).values_list("pk", flat=True))
    eligible = []
    for rep in reps:
        if rep.is_away:
            skipped[rep.pk] = "away"
        elif rep.pk not in members and not actor.is_admin:
            skipped[rep.pk] = "not_pool_member"
        else:
            eligible.append(rep)
    lock_reps([rep.pk for rep in eligible])
    room: dict[int, int | None] = {}
    for rep in eligible:
        rooms = [r for r in room_left(pool=pool, rep_id=rep.pk, now=now) if r is not None]
        left = room[rep.pk] = min(rooms) if rooms else None
        if left is not None and left <= 0:
            skipped[rep.pk] = "limit_reached"
    eligible = [rep for rep in eligible if rep.pk not in skipped]
    cap = max_leads if max_leads is not None else settings.PUBLIC_POOL_DISTRIBUTE_MAX
    if all(room[rep.pk] is not None for rep in eligible):
        cap = min(cap, sum(room[rep.pk] or 0 for rep in eligible))
    if not eligible or cap <= 0:
        return DistributionResult(assigned={}, skipped_reps=skipped, unassigned=[])

    leads_qs = Customer.objects.filter(pool_id=pool.pk)
    if customer_ids is not None:
        leads_qs = leads_qs.filter(pk__in=customer_ids)
    leads = list(
        leads_qs.order_by("-priority_score", "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .values_list("pk", flat=True)[:cap]
    )
    blocked: set[tuple[int, int]] = set()
    if pool.cooldown_days > 0 and leads:
        blocked = set(
            PoolEvent.objects.filter(
                customer_id__in=leads,
                from_owner_id__in=[rep.pk for rep in eligible],
                kind__in=LOSS_KINDS,
                at__gt=now - timedelta(days=pool.cooldown_days),
            ).values_list("customer_id", "from_owner_id")
        )

    plan: dict[int, list[int]] = {rep.pk: [] for rep in eligible}
    unassigned: list[int] = []

    def can_take(rep_id: int, lead: int) -> bool:
        limit = room[rep_id]
        return (limit is None or len(plan[rep_id]) < limit) and (lead, rep_id) not in blocked

    if strategy == DistributionStrategy.ROUND_ROBIN:
        order = [rep.pk for rep in eligible]
        last = (
            PoolEvent.objects.filter(from_pool=pool, kind=PoolEventKind.ASSIGN, reason=strategy.value)
            .order_by("-at", "-pk")
            .values_list("to_owner_id", flat=True)
            .first()
        )
        start = next((i for i, pk in enumerate(order) if pk > last), 0) if last is not None else 0
        cycle = itertools.cycle(order[start:] + order[:start])
        for lead in leads:
            for _step in range(len(order)):
                rep_id = next(cycle)
                if can_take(rep_id, lead):
                    plan[rep_id].append(lead)
                    break
            else:
                unassigned.append(lead)
    else:
        load = dict(
            Customer.objects.filter(owner_id__in=list(plan), home_pool=pool)
            .values("owner_id")
            .annotate(n=Count("pk"))
            .values_list("owner_id", "n")
        )
        for lead in leads:
            options = [rep_id for rep_id in plan if can_take(rep_id, lead)]
            if not options:
                unassigned.append(lead)
                continue
            rep_id = min(options, key=lambda pk: (load.get(pk, 0) + len(plan[pk]), pk))
            plan[rep_id].append(lead)

    reps_by_id = {rep.pk: rep for rep in eligible}
    events: list[PoolEvent] = []
    for rep_id, ids in plan.items():
        if ids:
            take_many(rep=reps_by_id[rep_id], pool=pool, customer_ids=ids, now=now)
            events.extend(
                PoolEvent(
                    customer_id=pk,
                    kind=PoolEventKind.ASSIGN,
                    actor=actor,
                    from_pool=pool,
                    to_owner_id=rep_id,
                    reason=strategy.value,
                    at=now,
                )
                for pk in ids
            )
    PoolEvent.objects.bulk_create(events)
    return DistributionResult(
        assigned={rep_id: ids for rep_id, ids in plan.items() if ids},
        skipped_reps=skipped,
        unassigned=unassigned,
    )
