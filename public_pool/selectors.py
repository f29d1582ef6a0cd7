"""Reads of the public pool that encode visibility or are reused by pages, API and jobs.

Who may use a pool: an admin every pool; a manager the pools they own and those any team
they manage is a member of; a rep the pools their team is a member of. Pooled customers
are visible only through the pools a user may use (``customers.selectors`` covers owned
ones); contact details of a pooled lead are masked when its pool says so.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, DealStage, Role, User
from customers.normalization import normalize_phone
from customers.selectors import managed_team_ids
from public_pool.models import (
    DISTRIBUTION_REASON_LABELS,
    LOSS_KINDS,
    TAKE_KINDS,
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    Pool,
    PoolEvent,
    RecycleRule,
    RecycleTrigger,
    ReleaseReason,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def pools_for_user(user: User) -> QuerySet[Pool]:
    """The pools ``user`` may see and take leads from."""
    pools = Pool.objects.all()
    if user.is_admin:
        return pools
    if user.role == Role.MANAGER:
        return pools.filter(
            Q(pk__in=Pool.teams.through.objects.filter(team_id__in=managed_team_ids(user)).values("pool_id"))
            | Q(owner=user)
        )
    if user.team_id is None:
        return pools.none()
    return pools.filter(pk__in=Pool.teams.through.objects.filter(team_id=user.team_id).values("pool_id"))


class _LeadCount(TypedDict):
    lead_count: int


def pools_with_sizes(user: User) -> "QuerySet[WithAnnotations[Pool, _LeadCount]]":
    """:func:`pools_for_user` with ``lead_count``: how many leads sit in each pool now."""
    return pools_for_user(user).annotate(lead_count=Count("customers")).order_by("name")


def may_use_pool(user: User, pool_id: int) -> bool:
    return pools_for_user(user).filter(pk=pool_id).exists()


def manages(actor: User, rep: User) -> bool:
    """``actor`` may act for ``rep``: an admin, or a manager of the rep's team (not themselves a rep)."""
    if actor.is_admin:
        return True
    if actor.role != Role.MANAGER:
        return False
    return actor.pk == rep.pk or (rep.team_id is not None and rep.team_id in managed_team_ids(actor))


@dataclass(frozen=True)
class PooledFilters:
    search: str = ""
    industry: str = ""
    size: str = ""
    source: str = ""
    region: str = ""
    level: str = ""


def pooled_customers(
    *, user: User, pool_id: int | None = None, filters: PooledFilters | None = None
) -> QuerySet[Customer]:
    """Leads in the pools ``user`` may use (or in ``pool_id`` if they may), best first.

    Ordered by ``-priority_score, id`` (index ``cust_pool_priority`` per pool). Contact
    details are on the rows: render them through :func:`masked_contact`.
    """
    pools = pools_for_user(user)
    if pool_id is not None:
        pools = pools.filter(pk=pool_id)
    customers = Customer.objects.filter(pool__in=pools)
    filters = filters or PooledFilters()
    for field in ("industry", "size", "source", "level"):
        value = getattr(filters, field)
        if value:
            customers = customers.filter(**{field: value})
    if filters.region:
        customers = customers.filter(region=filters.region)
    term = filters.search.strip()
    if term:
        match = Q(name__icontains=term)
        digits = normalize_phone(term)
        # A hidden phone must not be findable by typing it: phone search only where contacts show.
        if len(digits) >= 5:
            match |= Q(phone=digits, pool__hide_contacts=False)
        customers = customers.filter(match)
    return customers.select_related("pool").order_by("-priority_score", "id")


def contacts_hidden(customer: Customer, pool: Pool | None = None) -> bool:
    """Contact details of ``customer`` are hidden: it sits in a pool that hides them."""
    if customer.pool_id is None:
        return False
    pool = pool or customer.pool
    return bool(pool and pool.hide_contacts)


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``: enough to recognise, not to call."""
    if not phone:
        return ""
    if len(phone) <= 4:
        return "*" * len(phone)
    keep_end = 4
    keep_start = min(3, max(len(phone) - keep_end - 4, 0))
    return phone[:keep_start] + "*" * (len(phone) - keep_start - keep_end) + phone[-keep_end:]


def mask_email(email: str) -> str:
    """``info@acme.example`` → ``i***@acme.example``."""
    if not email:
        return ""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


@dataclass(frozen=True)
class ContactDetails:
    phone: str
    email: str
    hidden: bool


def masked_contact(customer: Customer, pool: Pool | None = None) -> ContactDetails:
    """The phone and e-mail a viewer of a pooled lead may see (masked if the pool hides them)."""
    if contacts_hidden(customer, pool):
        return ContactDetails(phone=mask_phone(customer.phone), email=mask_email(customer.email), hidden=True)
    return ContactDetails(phone=customer.phone, email=customer.email, hidden=False)


def customers_at_risk(
    *, user: User, within_days: int | None = None, as_of: datetime | None = None
) -> QuerySet[Customer]:
    """``user``'s own customers with a recycle deadline, soonest first (``cust_owner_recycle_due``).

    ``within_days`` narrows to deadlines before ``as_of`` + that many days.
    """
    customers = Customer.objects.filter(owner=user, recycle_due_at__isnull=False)
    if within_days is not None:
        customers = customers.filter(
            recycle_due_at__lte=(as_of or timezone.now()) + timedelta(days=within_days)
        )
    return customers.select_related("recycle_rule").order_by("recycle_due_at", "id")


def days_left(customer: Customer, now: datetime | None = None) -> int | None:
    """Whole days until ``customer`` is recycled (0 when due), or None when it has no deadline."""
    if customer.recycle_due_at is None:
        return None
    remaining = customer.recycle_due_at - (now or timezone.now())
    return max(remaining.days, 0)


@dataclass(frozen=True)
class EventFilters:
    customer_id: int | None = None
    pool_id: int | None = None
    kind: str = ""
    actor_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


def pool_events(*, user: User, filters: EventFilters | None = None) -> QuerySet[PoolEvent]:
    """The pool log ``user`` may read, newest first, filtered.

    Admins read everything; managers the events of customers their teams hold now, of pools
    they may use, and those their team members took part in; reps the whole history of the
    customers they own now (so a new owner sees why a lead was released or recycled before).
    """
    filters = filters or EventFilters()
    events = PoolEvent.objects.all()
    if not user.is_admin:
        own_customers = Customer.objects.filter(owner=user).values("pk")
        if user.role == Role.MANAGER:
            teams = managed_team_ids(user)
            members = User.objects.filter(team_id__in=teams).values("pk")
            pools = pools_for_user(user).values("pk")
            events = events.filter(
                Q(customer__in=Customer.objects.filter(team_id__in=teams).values("pk"))
                | Q(customer__in=own_customers)
                | Q(from_pool__in=pools)
                | Q(to_pool__in=pools)
                | Q(actor__in=members)
                | Q(from_owner__in=members)
                | Q(to_owner__in=members)
            )
        else:
            events = events.filter(customer__in=own_customers)
    if filters.customer_id is not None:
        events = events.filter(customer_id=filters.customer_id)
    if filters.pool_id is not None:
        events = events.filter(Q(from_pool_id=filters.pool_id) | Q(to_pool_id=filters.pool_id))
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.actor_id is not None:
        events = events.filter(actor_id=filters.actor_id)
    if filters.since is not None:
        events = events.filter(at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(at__lt=filters.until)
    return events.select_related(
        "customer", "actor", "from_owner", "to_owner", "from_pool", "to_pool", "rule"
    ).order_by("-at", "-id")


def release_reason_labels() -> dict[str, str]:
    """Every reason code (active or not) with its label in the active language, for the log."""
    return {reason.code: reason.display_label for reason in ReleaseReason.objects.all()}


def event_reason_labels() -> dict[str, str]:
    """Words for every ``PoolEvent.reason`` code, in the active language: release reasons (from
    the admin-edited list), recycle triggers and distribution strategies. The log shows these,
    never the codes."""
    labels: dict[str, str] = {str(code): str(label) for code, label in RecycleTrigger.choices}
    labels |= {code: str(label) for code, label in DISTRIBUTION_REASON_LABELS.items()}
    return labels | release_reason_labels()


def active_release_reasons() -> QuerySet[ReleaseReason]:
    return ReleaseReason.objects.filter(active=True).order_by("order", "code")


def recycle_rules(*, user: User, pool_id: int | None = None) -> QuerySet[RecycleRule]:
    """Rules of the pools ``user`` may use (admins: all), in the order they apply."""
    rules = RecycleRule.objects.filter(pool__in=pools_for_user(user))
    if pool_id is not None:
        rules = rules.filter(pool_id=pool_id)
    return rules.select_related("pool", "team", "tag", "target_pool").order_by("pool__name", "priority", "id")


def local_midnight(now: datetime) -> datetime:
    """The start of ``now``'s day in the company's time zone (settings.TIME_ZONE)."""
    local = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(local.date(), time.min), local.tzinfo)


def held_from_pool(*, rep_id: int, pool_id: int) -> int:
    """What the held limit counts: customers the rep owns now that were taken from this pool."""
    return Customer.objects.filter(owner_id=rep_id, home_pool_id=pool_id).count()


def taken_today(*, rep_id: int, pool_id: int, now: datetime | None = None) -> int:
    """What the daily limit counts: leads the rep claimed or was assigned from this pool today."""
    return PoolEvent.objects.filter(
        kind__in=TAKE_KINDS,
        to_owner_id=rep_id,
        from_pool_id=pool_id,
        at__gte=local_midnight(now or timezone.now()),
    ).count()


@dataclass(frozen=True)
class RepLoad:
    rep: User
    held: int
    taken_today: int
    max_held: int | None
    max_per_day: int | None

    @property
    def remaining(self) -> int | None:
        """Leads the rep may still take from the pool now (None: no limit)."""
        room = [
            limit - used
            for limit, used in ((self.max_held, self.held), (self.max_per_day, self.taken_today))
            if limit is not None
        ]
        return max(min(room), 0) if room else None


def rep_loads(*, pool: Pool, reps: Iterable[User], now: datetime | None = None) -> list[RepLoad]:
    """Each rep's load against the pool's limits, in two queries whatever the number of reps."""
    reps = list(reps)
    rep_ids = [r.pk for r in reps]
    held = dict(
        Customer.objects.filter(owner_id__in=rep_ids, home_pool=pool)
        .values("owner_id")
        .annotate(n=Count("pk"))
        .values_list("owner_id", "n")
    )
    taken = dict(
        PoolEvent.objects.filter(
            kind__in=TAKE_KINDS,
            to_owner_id__in=rep_ids,
            from_pool=pool,
            at__gte=local_midnight(now or timezone.now()),
        )
        .values("to_owner_id")
        .annotate(n=Count("pk"))
        .values_list("to_owner_id", "n")
    )
    return [
        RepLoad(
            rep=rep,
            held=held.get(rep.pk, 0),
            taken_today=taken.get(rep.pk, 0),
            max_held=pool.max_held_per_rep,
            max_per_day=pool.max_claims_per_day,
        )
        for rep in reps
    ]


def assignable_reps(*, actor: User, pool: Pool) -> QuerySet[User]:
    """Active reps ``actor`` may assign this pool's leads to: members of the pool they manage."""
    reps = User.objects.filter(is_active=True, role=Role.REP, team__pools=pool)
    if not actor.is_admin:
        reps = reps.filter(team_id__in=managed_team_ids(actor))
    return reps.order_by("username")


def pending_extension_requests(*, user: User) -> QuerySet[ExtensionRequest]:
    """Requests waiting for ``user``'s decision (managers: their teams; admins: all), oldest first."""
    requests = ExtensionRequest.objects.filter(status=ExtensionStatus.PENDING)
    if not user.is_admin:
        if user.role != Role.MANAGER:
            return requests.none()
        requests = requests.filter(owner__team_id__in=managed_team_ids(user))
    return requests.select_related("customer", "owner").order_by("requested_at", "id")


# Used when a customer's rule, home pool and the default pool are all unknown.
DEFAULT_MAX_EXTENSION_DAYS = 14


def extension_day_limit(customer: Customer) -> int:
    """The most days the owner of ``customer`` may ask for (and a manager grant) in one extension:
    the ``max_extension_days`` of the pool whose rule sets the deadline (else the customer's home
    pool, else the default pool). One query."""
    pools = Pool.objects.none()
    if customer.recycle_rule_id is not None:
        pools = Pool.objects.filter(recycle_rules__pk=customer.recycle_rule_id)
    elif customer.home_pool_id is not None:
        pools = Pool.objects.filter(pk=customer.home_pool_id)
    else:
        pools = Pool.objects.filter(is_default=True)
    limit = pools.values_list("max_extension_days", flat=True).first()
    return limit if limit is not None else DEFAULT_MAX_EXTENSION_DAYS


def current_extension_request(customer: Customer) -> ExtensionRequest | None:
    """The extension request of the customer's current ownership (at most one), or None."""
    if customer.owner_id is None:
        return None
    return (
        ExtensionRequest.objects.filter(
            customer_id=customer.pk,
            owner_id=customer.owner_id,
            owned_since=customer.claimed_at or customer.created_at,
        )
        .select_related("owner", "decided_by")
        .first()
    )


def notifications_for(*, user: User, unread_only: bool = False) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.select_related("customer").order_by("-created_at", "-id")


def unread_notification_count(user: User) -> int:
    """For the navigation badge (partial index ``notification_unread``)."""
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def in_cooldown(*, rep_id: int, pool: Pool, now: datetime) -> Exists:
    """Expression over customers: ``rep_id`` gave this lead up within the pool's cooldown."""
    return Exists(
        PoolEvent.objects.filter(
            customer_id=OuterRef("pk"),
            from_owner_id=rep_id,
            kind__in=LOSS_KINDS,
            at__gt=now - timedelta(days=pool.cooldown_days),
        )
    )


# --- A customer's recycle deadline, explained ----------------------------------------------


@dataclass(frozen=True)
class DeadlineExplained:
    """What the customer page's deadline card says: when, by which rule, and what moves it."""

    due_at: datetime
    rule: RecycleRule
    trigger: str  # no_followup / no_deal: the trigger that comes first
    trigger_since: datetime | None  # when that trigger's clock started
    trigger_days: int  # the rule's days plus any extension granted
    moved_by_followup: bool  # a follow-up logged now pushes the deadline out
    due_after_followup: datetime | None  # where a follow-up logged now would put it
    deal_due_at: datetime | None  # the "no deal" deadline still ahead (a won deal lifts it)
    exempt_stage_label: str  # an open deal at this stage or further keeps the customer

    @property
    def trigger_label(self) -> str:
        return str(RecycleTrigger(self.trigger).label)


def explain_deadline(customer: Customer, now: datetime | None = None) -> DeadlineExplained | None:
    """The deadline of an owned customer in words (None without one). Two queries: the rule, and
    whether a deal was won since the claim (which lifts the "no deal" trigger)."""
    parts = customer_services.deadline_parts(customer)
    due, rule_id = customer.recycle_due_at, customer.recycle_rule_id
    if parts is None or due is None or rule_id is None:
        return None
    rule = RecycleRule.objects.filter(pk=rule_id).select_related("pool").first()
    if rule is None:
        return None
    now = now or timezone.now()
    deal_due = parts.deal_due
    if deal_due is not None and parts.trigger == "no_followup":
        won = customer_services.won_since_claim()
        if Customer.objects.filter(pk=customer.pk).filter(won).exists():
            deal_due = None
    due_after = None
    if customer.recycle_idle_days is not None:
        due_after = now + timedelta(days=customer.recycle_idle_days + parts.extension_days)
        if deal_due is not None:
            due_after = min(due_after, deal_due)
    moved = due_after is not None and due_after > due
    if parts.trigger == "no_followup":
        since, days = parts.idle_since, (customer.recycle_idle_days or 0) + parts.extension_days
    else:
        since, days = parts.deal_since, (customer.recycle_deal_days or 0) + parts.extension_days
    stage = customer.recycle_exempt_stage
    return DeadlineExplained(
        due_at=due,
        rule=rule,
        trigger=parts.trigger,
        trigger_since=since,
        trigger_days=days,
        moved_by_followup=moved,
        due_after_followup=due_after if moved else None,
        deal_due_at=deal_due,
        exempt_stage_label=str(DealStage(stage).label) if stage else "",
    )


RETURNED_DAYS = 30


def returned_to_pool(*, user: User, now: datetime | None = None) -> QuerySet[Notification]:
    """``user``'s customers recycled in the last :data:`RETURNED_DAYS` days, newest first: their
    ``recycled`` notices (which name the rule and the trigger), customer and pool joined.
    Served by the index ``notification_user_created``."""
    since = (now or timezone.now()) - timedelta(days=RETURNED_DAYS)
    return (
        Notification.objects.filter(user=user, kind=NotificationKind.RECYCLED, created_at__gte=since)
        .select_related("customer__pool")
        .order_by("-created_at", "-id")
    )
