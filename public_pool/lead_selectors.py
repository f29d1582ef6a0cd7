"""Reads behind the lead lists (pool page, pool list, assign page, transfer picker): what a
rep may still take, why a given lead cannot be taken now, and where a lead came from.

Split from ``selectors`` (which holds visibility) to keep modules short; the same rules:
these only read, and each costs a fixed number of queries whatever the page size.

- :func:`quotas_for`: the user's load against each pool's limits — two grouped queries for any
  number of pools, none when no pool sets a limit;
- :func:`lead_contexts`: for one page of leads, the last time each left an owner (who, why)
  and the user's cooldown on it — one query, plus the release reasons' labels when a release
  is among them, plus one when the pool has a cooldown;
- :func:`rep_choices`: reps a manager may hand customers to, found by name, with their load
  against the limits of the pools that have one — three queries.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Concat
from django.utils import timezone

from customers.models import Customer, Role, User
from customers.selectors import managed_team_ids
from public_pool.models import LOSS_KINDS, TAKE_KINDS, Notification, Pool, PoolEvent, PoolEventKind
from public_pool.selectors import event_reason_labels, local_midnight, pools_for_user


@dataclass(frozen=True)
class Quota:
    """A user's load against one pool's limits ("holding 9 / 60 · today 3 / 10")."""

    pool_id: int
    held: int
    max_held: int | None
    taken_today: int
    max_per_day: int | None

    @property
    def applies(self) -> bool:
        return self.max_held is not None or self.max_per_day is not None

    @property
    def held_full(self) -> bool:
        return self.max_held is not None and self.held >= self.max_held

    @property
    def day_full(self) -> bool:
        return self.max_per_day is not None and self.taken_today >= self.max_per_day

    @property
    def is_full(self) -> bool:
        return self.held_full or self.day_full


def quotas_for(*, user: User, pools: Iterable[Pool], now: datetime | None = None) -> dict[int, Quota]:
    """``user``'s quota per pool, counted exactly as the claim services count it
    (``services._common.room_left``): held = owned customers whose home pool it is; today =
    claim/assign events from it since local midnight."""
    pools = list(pools)
    limited = [
        pool.pk for pool in pools if pool.max_held_per_rep is not None or pool.max_claims_per_day is not None
    ]
    held: dict[int, int] = {}
    taken: dict[int, int] = {}
    if limited:
        held = dict(
            Customer.objects.filter(owner_id=user.pk, home_pool_id__in=limited)
            .values("home_pool_id")
            .annotate(n=Count("pk"))
            .values_list("home_pool_id", "n")
        )
        taken = dict(
            PoolEvent.objects.filter(
                kind__in=TAKE_KINDS,
                to_owner_id=user.pk,
                from_pool_id__in=limited,
                at__gte=local_midnight(now or timezone.now()),
            )
            .values("from_pool_id")
            .annotate(n=Count("pk"))
            .values_list("from_pool_id", "n")
        )
    return {
        pool.pk: Quota(
            pool_id=pool.pk,
            held=held.get(pool.pk, 0),
            max_held=pool.max_held_per_rep,
            taken_today=taken.get(pool.pk, 0),
            max_per_day=pool.max_claims_per_day,
        )
        for pool in pools
    }


def quota_for(*, user: User, pool: Pool, now: datetime | None = None) -> Quota:
    return quotas_for(user=user, pools=[pool], now=now)[pool.pk]


@dataclass(frozen=True)
class LeadContext:
    """What a rep weighs before claiming: who had the lead last and why it left them, and
    whether the rep's own cooldown keeps them from taking it (until when)."""

    previous_owner: User | None = None
    left_how: str = ""  # PoolEventKind of the last loss: release / recycle / move
    left_why: str = ""  # the release reason's label, or the rule's name and trigger in words
    left_at: datetime | None = None
    cooldown_until: datetime | None = None


def lead_contexts(
    *, user: User, pool: Pool, customer_ids: Sequence[int], now: datetime | None = None
) -> dict[int, LeadContext]:
    """:class:`LeadContext` per customer id of one page (missing ids: never owned)."""
    now = now or timezone.now()
    ids = list(customer_ids)
    if not ids:
        return {}
    last_loss = (
        PoolEvent.objects.filter(customer_id=OuterRef("pk"), kind__in=LOSS_KINDS)
        .order_by("-at", "-id")
        .values("pk")[:1]
    )
    events = list(
        PoolEvent.objects.filter(
            pk__in=Customer.objects.filter(pk__in=ids)
            .annotate(event_id=Subquery(last_loss))
            .values("event_id")
        ).select_related("from_owner", "rule")
    )
    labels = event_reason_labels() if events else {}
    cooldowns: dict[int, datetime] = {}
    if pool.cooldown_days > 0:
        window = timedelta(days=pool.cooldown_days)
        cooldowns = {
            customer_id: last + window
            for customer_id, last in PoolEvent.objects.filter(
                customer_id__in=ids, from_owner_id=user.pk, kind__in=LOSS_KINDS, at__gt=now - window
            )
            .values("customer_id")
            .annotate(last=Max("at"))
            .values_list("customer_id", "last")
        }
    contexts: dict[int, LeadContext] = {}
    for event in events:
        why = labels.get(event.reason, "") if event.reason else ""
        if event.kind == PoolEventKind.RECYCLE and event.rule is not None:
            why = f"{event.rule.name} · {why}" if why else event.rule.name
        contexts[event.customer_id] = LeadContext(
            previous_owner=event.from_owner,
            left_how=event.kind,
            left_why=why,
            left_at=event.at,
            cooldown_until=cooldowns.get(event.customer_id),
        )
    for customer_id, until in cooldowns.items():
        if customer_id not in contexts:
            contexts[customer_id] = LeadContext(cooldown_until=until)
    return contexts


@dataclass(frozen=True)
class PoolLoad:
    """A rep's load against one pool's held limit (transfers count against that one only)."""

    pool: Pool
    held: int

    @property
    def room(self) -> int | None:
        if self.pool.max_held_per_rep is None:
            return None
        return max(self.pool.max_held_per_rep - self.held, 0)


@dataclass(frozen=True)
class RepChoice:
    """A rep to hand customers to: how many customers they own, and per limited pool their load."""

    rep: User
    customers: int
    loads: tuple[PoolLoad, ...]

    def load_in(self, pool_id: int | None) -> PoolLoad | None:
        return next((load for load in self.loads if load.pool.pk == pool_id), None)

    @property
    def room(self) -> int | None:
        """The least room left in any limited pool (None: no pool limits them)."""
        rooms = [load.room for load in self.loads if load.room is not None]
        return min(rooms) if rooms else None


def transfer_targets(actor: User) -> QuerySet[User]:
    """Active reps ``actor`` may give customers to: an admin any, a manager those of their teams."""
    reps = User.objects.filter(is_active=True, role=Role.REP)
    if not actor.is_admin:
        reps = reps.filter(team_id__in=managed_team_ids(actor))
    return reps


def search_people(people: QuerySet[User], term: str) -> QuerySet[User]:
    """People whose name or username contains ``term``: "陈强" (family name first, as written),
    "Chen", "rep7" all match."""
    term = term.strip()
    if not term:
        return people
    return people.annotate(
        family_first=Concat("last_name", "first_name"),
        given_first=Concat("first_name", Value(" "), "last_name"),
    ).filter(
        Q(username__icontains=term)
        | Q(family_first__icontains=term)
        | Q(given_first__icontains=term)
        | Q(last_name__icontains=term)
        | Q(first_name__icontains=term)
    )


def rep_choices(
    *, actor: User, term: str = "", limit: int = 20, pools: Iterable[Pool] | None = None
) -> list[RepChoice]:
    """Up to ``limit`` reps ``actor`` may give customers to, matching ``term``, by name, with
    their customer count and their load in each pool with a held limit (``pools``: those the
    actor may use; pass them to show only some)."""
    reps = list(
        search_people(transfer_targets(actor), term)
        .select_related("team")
        .order_by("last_name", "first_name", "username")[:limit]
    )
    if pools is None:
        pools = pools_for_user(actor).filter(max_held_per_rep__isnull=False).order_by("name")
    limited = [pool for pool in pools if pool.max_held_per_rep is not None]
    rep_ids = [rep.pk for rep in reps]
    owned = dict(
        Customer.objects.filter(owner_id__in=rep_ids)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    held: dict[tuple[int, int], int] = {}
    if limited and rep_ids:
        for owner_id, pool_id, count in (
            Customer.objects.filter(owner_id__in=rep_ids, home_pool_id__in=[pool.pk for pool in limited])
            .values("owner_id", "home_pool_id")
            .annotate(n=Count("pk"))
            .values_list("owner_id", "home_pool_id", "n")
        ):
            held[(owner_id, pool_id)] = count
    return [
        RepChoice(
            rep=rep,
            customers=owned.get(rep.pk, 0),
            loads=tuple(PoolLoad(pool=pool, held=held.get((rep.pk, pool.pk), 0)) for pool in limited),
        )
        for rep in reps
    ]


@dataclass(frozen=True)
class ReturnedRow:
    """One line of "Returned to the pool": the notice, and whether the rep may claim it back now."""

    notice: Notification
    state: (
        str  # "" (decide from lead_context/quota), "gone" (someone took it), "mine" (yours again), "closed"
    )
    lead_context: LeadContext
    quota: Quota | None


def returned_rows(
    *, user: User, notices: Sequence[Notification], now: datetime | None = None
) -> list[ReturnedRow]:
    """The claim state of a page of ``recycled`` notices: a fixed number of queries (the pools the
    user may use, the user's last loss per customer, the quotas) whatever the page size."""
    now = now or timezone.now()
    customers = [n.customer for n in notices if n.customer is not None]
    pools = {c.pool.pk: c.pool for c in customers if c.pool is not None}
    usable = (
        set(pools_for_user(user).filter(pk__in=list(pools)).values_list("pk", flat=True)) if pools else set()
    )
    last_loss: dict[int, datetime] = {}
    if customers:
        last_loss = dict(
            PoolEvent.objects.filter(
                customer_id__in=[c.pk for c in customers], from_owner_id=user.pk, kind__in=LOSS_KINDS
            )
            .values("customer_id")
            .annotate(last=Max("at"))
            .values_list("customer_id", "last")
        )
    quotas = quotas_for(user=user, pools=[pools[pk] for pk in usable], now=now) if usable else {}
    rows = []
    for notice in notices:
        customer = notice.customer
        context = LeadContext()
        state = ""
        if customer is None:
            state = "gone"
        elif customer.owner_id == user.pk:
            state = "mine"
        elif customer.owner_id is not None:
            state = "gone"
        elif customer.pool_id not in usable:
            state = "closed"
        elif customer.pool is not None and customer.pool.cooldown_days > 0 and customer.pk in last_loss:
            until = last_loss[customer.pk] + timedelta(days=customer.pool.cooldown_days)
            if until > now:
                context = LeadContext(cooldown_until=until)
        rows.append(
            ReturnedRow(
                notice=notice,
                state=state,
                lead_context=context,
                quota=quotas.get(customer.pool_id) if customer is not None and customer.pool_id else None,
            )
        )
    return rows
