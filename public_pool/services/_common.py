"""Helpers shared by the pool services: loading rows, permissions, limits and row states."""

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from customers.models import Customer, User
from public_pool import selectors
from public_pool.exceptions import (
    CustomerNotFound,
    DailyLimitReached,
    LimitReached,
    NotAllowed,
    PoolNotFound,
)
from public_pool.models import Pool


def get_customer(customer_id: int) -> Customer:
    try:
        return Customer.objects.select_related("owner", "pool").get(pk=customer_id)
    except Customer.DoesNotExist:
        raise CustomerNotFound(customer_id=customer_id) from None


def get_pool(pool_id: int) -> Pool:
    try:
        return Pool.objects.get(pk=pool_id)
    except Pool.DoesNotExist:
        raise PoolNotFound(pool_id=pool_id) from None


def ensure_admin(actor: User) -> None:
    if not actor.is_admin:
        raise NotAllowed(_("Only an admin may do this."))


def ensure_manages(actor: User, rep: User) -> None:
    if not selectors.manages(actor, rep):
        raise NotAllowed(_("Only the rep's manager or an admin may do this."))


def lock_reps(rep_ids: list[int]) -> None:
    """Serialise everything that counts against these reps' limits until the transaction ends.

    ``FOR NO KEY UPDATE`` on the user rows, in id order (no deadlocks between callers that
    lock several): a second claim by the same rep waits here, then counts what the first one
    committed. NO KEY leaves the foreign-key checks of inserts that reference the user free.
    """
    list(User.objects.select_for_update(no_key=True).filter(pk__in=rep_ids).order_by("pk").values_list("pk"))


def limits_apply(pool: Pool) -> bool:
    return pool.max_held_per_rep is not None or pool.max_claims_per_day is not None


def room_left(*, pool: Pool, rep_id: int, now: datetime, daily: bool = True) -> tuple[int | None, int | None]:
    """(room under the held limit, room under the daily limit); None where the pool sets none."""
    held_room = day_room = None
    if pool.max_held_per_rep is not None:
        held_room = pool.max_held_per_rep - selectors.held_from_pool(rep_id=rep_id, pool_id=pool.pk)
    if daily and pool.max_claims_per_day is not None:
        day_room = pool.max_claims_per_day - selectors.taken_today(rep_id=rep_id, pool_id=pool.pk, now=now)
    return held_room, day_room


def ensure_room(*, pool: Pool, rep_id: int, count: int, now: datetime, daily: bool = True) -> None:
    """Raise unless the rep may take ``count`` more leads from ``pool``. Call with the rep locked."""
    held_room, day_room = room_left(pool=pool, rep_id=rep_id, now=now, daily=daily)
    if held_room is not None and held_room < count:
        raise LimitReached(
            limit=pool.max_held_per_rep or 0, held=(pool.max_held_per_rep or 0) - held_room, requested=count
        )
    if day_room is not None and day_room < count:
        raise DailyLimitReached(
            limit=pool.max_claims_per_day or 0,
            taken_today=(pool.max_claims_per_day or 0) - day_room,
            requested=count,
        )


def would_exceed(*, pool: Pool, rep_id: int, count: int, now: datetime, daily: bool = True) -> bool:
    held_room, day_room = room_left(pool=pool, rep_id=rep_id, now=now, daily=daily)
    return any(room is not None and room < count for room in (held_room, day_room))


def owned_state(*, rep: User, home_pool_id: int | None, now: datetime) -> dict[str, Any]:
    """Column values of a customer that ``rep`` has just taken over (add ``policy_updates``)."""
    return {
        "owner_id": rep.pk,
        "team_id": rep.team_id,
        "pool_id": None,
        "home_pool_id": home_pool_id,
        "claimed_at": now,
        "pooled_at": None,
        "updated_at": now,
        "recycle_extension_days": 0,
    }


def pooled_state(*, pool_id: int, now: datetime) -> dict[str, Any]:
    """Column values of a customer that has just entered ``pool_id``: no owner, no deadline."""
    return {
        "owner_id": None,
        "team_id": None,
        "pool_id": pool_id,
        "home_pool_id": pool_id,
        "pooled_at": now,
        "claimed_at": None,
        "updated_at": now,
        "recycle_due_at": None,
        "recycle_rule_id": None,
        "recycle_idle_days": None,
        "recycle_deal_days": None,
        "recycle_exempt_stage": "",
        "recycle_extension_days": 0,
        "recycle_policy_stale": False,
    }


def by_ids(ids: list[int]) -> QuerySet[Customer]:
    return Customer.objects.filter(pk__in=ids)


def without_jit() -> None:
    """Inside a transaction: no JIT compilation for its statements (PostgreSQL only).

    Batch statements with many small subqueries cross ``jit_above_cost`` and then spend more
    time compiling (hundreds of ms) than running; ``SET LOCAL`` ends with the transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
