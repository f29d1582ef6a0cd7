"""Reads that encode who may see what.

The visibility rule lives here and only here: a rep sees their own customers, a manager
the customers of the teams they manage (and their own), an admin all. Every page,
endpoint and export starts from ``customers_visible_to``. Which *pooled* customers a rep
may see is the public pool's business (``public_pool.selectors``).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from django.db.models import Count, F, Model, Q, QuerySet, Sum
from django.db.models.expressions import OrderBy
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from customers.models import Customer, Deal, DealStage, Role, Team, User
from customers.normalization import normalize_company_name, normalize_phone

_Row = TypeVar("_Row", bound=Model)


def managed_team_ids(user: User) -> list[int]:
    """Teams whose customers a manager sees: the teams they manage, plus their own team.

    Cached on the user object, so a request pays for it once.
    """
    cached = getattr(user, "_managed_team_ids", None)
    if cached is None:
        cached = sorted(
            set(Team.objects.filter(manager=user).values_list("pk", flat=True))
            | ({user.team_id} if user.team_id else set())
        )
        user._managed_team_ids = cached  # type: ignore[attr-defined]  # a cache on this user object
    return cached


def customers_visible_to(user: User) -> QuerySet[Customer]:
    """The customers ``user`` may read and change. Pooled customers are not included."""
    customers = Customer.objects.all()
    if user.is_admin:
        return customers
    if user.role == Role.MANAGER:
        if user.team_id:
            # The manager's own customers carry their team (services copy the owner's team), so one
            # IN on team_id covers them: an OR with owner_id would turn the page's COUNT from an
            # index-only scan into a heap scan of the whole team (~10x slower at a million rows).
            return customers.filter(team_id__in=managed_team_ids(user))
        return customers.filter(Q(team_id__in=managed_team_ids(user)) | Q(owner=user))
    return customers.filter(owner=user)


def of_visible_customers(rows: QuerySet[_Row], user: User) -> QuerySet[_Row]:
    """The rows of a customer's child table (deals, follow-ups) whose customer ``user`` sees.

    An admin sees every customer, so every row: no ``customer IN (all customers)`` semi-join,
    which is always true but made PostgreSQL join the whole table at 1,000,000 customers (the
    admin's home page 1.5 s, their pipeline 0.8 s; bench/README.md)."""
    if user.is_admin:
        return rows
    return rows.filter(customer__in=customers_visible_to(user))


def get_visible_customer(*, user: User, customer_id: int) -> Customer:
    """One customer the user may see, or Http404 (never 403: we do not confirm it exists)."""
    return get_object_or_404(customers_visible_to(user).select_related("owner", "team"), pk=customer_id)


def reps_visible_to(user: User) -> QuerySet[User]:
    """People whose customers ``user`` sees: for filters and owner pickers."""
    users = User.objects.filter(is_active=True).order_by("username")
    if user.is_admin:
        return users
    if user.role == Role.MANAGER:
        return users.filter(Q(team_id__in=managed_team_ids(user)) | Q(pk=user.pk))
    return users.filter(pk=user.pk)


def rep_choices(user: User) -> list[tuple[int, str]]:
    """``(pk, name)`` of ``reps_visible_to(user)``, for owner pickers, read as plain values: the
    admin's customer list lists every person, and loading them as whole users cost 4.4 ms of
    its page against 1.0 ms (222 people, bench/README.md)."""
    rows = reps_visible_to(user).values_list("pk", "username", "first_name", "last_name")
    return [
        (pk, User.label(username=username, first_name=first, last_name=last))
        for pk, username, first, last in rows
    ]


# Sort keys offered to people, each served by an index per scope (see Customer.Meta.indexes).
CUSTOMER_SORTS: dict[str, tuple[str | OrderBy, ...]] = {
    "-updated_at": ("-updated_at", "-id"),
    "name": ("name", "id"),
    # Longest without a follow-up first, never-contacted ones at the very top (indexed NULLS FIRST).
    "last_followup_at": (F("last_followup_at").asc(nulls_first=True), "id"),
}
DEFAULT_CUSTOMER_SORT = "-updated_at"


@dataclass(frozen=True)
class CustomerFilters:
    search: str = ""
    owner: int | None = None
    team: int | None = None
    level: str = ""
    source: str = ""
    industry: str = ""
    stage: str = ""  # customers with an open or closed deal at this stage
    sort: str = DEFAULT_CUSTOMER_SORT


def _caseless_and_short(term: str) -> bool:
    """Whether the name search may compare as written (``LIKE``) rather than ``UPPER() LIKE``.

    A term of one or two characters has no trigram, so no index finds it: every visible name is
    tested, and ``upper()`` of each one tripled that (the manager's ``科技``, 18,000 names: 18 →
    7 ms). Without letters that have case (Chinese, digits), both match the same names.
    Longer terms keep ``UPPER() LIKE``, which the trigram index ``cust_name_trgm`` serves."""
    return len(term) < 3 and term.upper() == term.lower()


def search_customers(*, user: User, filters: CustomerFilters) -> QuerySet[Customer]:
    """The customer list of pages, API and exports: visibility, filters, search and sort.

    Search matches the company name anywhere (trigram index on PostgreSQL), or the phone
    or e-mail exactly. The result is ordered by an indexed sort with ``id`` as tie-breaker
    so pagination is stable.
    """
    customers = customers_visible_to(user)
    if filters.owner:
        customers = customers.filter(owner_id=filters.owner)
    if filters.team:
        customers = customers.filter(team_id=filters.team)
    if filters.level:
        customers = customers.filter(level=filters.level)
    if filters.source:
        customers = customers.filter(source=filters.source)
    if filters.industry:
        customers = customers.filter(industry=filters.industry)
    if filters.stage:
        customers = customers.filter(pk__in=Deal.objects.filter(stage=filters.stage).values("customer_id"))
    term = filters.search.strip()
    if term:
        match = Q(name__contains=term) if _caseless_and_short(term) else Q(name__icontains=term)
        if "@" in term:
            match |= Q(email__iexact=term)
        digits = normalize_phone(term)
        if len(digits) >= 5:
            match |= Q(phone=digits)
        customers = customers.filter(match)
    order = CUSTOMER_SORTS.get(filters.sort, CUSTOMER_SORTS[DEFAULT_CUSTOMER_SORT])
    return customers.select_related("owner", "team").prefetch_related("tags").order_by(*order)


@dataclass(frozen=True)
class PipelineColumn:
    stage: str
    label: str
    count: int
    amount: Decimal
    deals: list[Deal]


def deal_pipeline(*, user: User, owner_id: int | None = None, per_stage: int = 20) -> list[PipelineColumn]:
    """Deals by stage for the board: each column's totals and its most recently updated cards.

    ``owner_id`` narrows to one rep (within what the user may see). One aggregate query for
    the totals and one query per stage for its newest cards: a constant number of queries.
    """
    deals = of_visible_customers(Deal.objects.all(), user)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    totals = {
        row["stage"]: row
        for row in deals.values("stage").annotate(count=Count("id"), amount=Sum("amount")).order_by()
    }
    columns = []
    for stage, label in DealStage.choices:
        cards = list(
            deals.filter(stage=stage)
            .select_related("customer", "owner")
            .order_by("-updated_at", "-id")[:per_stage]
        )
        total = totals.get(stage, {})
        columns.append(
            PipelineColumn(
                stage=stage,
                label=str(label),
                count=total.get("count", 0),
                amount=total.get("amount") or Decimal(0),
                deals=cards,
            )
        )
    return columns


DUPLICATE_LIMIT = 5


def find_duplicate_customers(*, name: str = "", phone: str = "", email: str = "") -> list[Customer]:
    """Existing customers (owned or pooled, whoever holds them) with the same normalised company
    name, phone or e-mail as the input, at most ``DUPLICATE_LIMIT``; each carries
    ``duplicate_fields``: which of ``name``/``phone``/``email`` matched.

    One query over the indexes ``cust_name_normalized``, ``cust_phone`` and ``cust_email_lower``.
    This deliberately ignores visibility: creating a duplicate is refused whoever holds the
    original; callers decide what to reveal (a pool's name, or only the owner's name).
    """
    wanted = {
        "name": normalize_company_name(name) if name.strip() else "",
        "phone": normalize_phone(phone) if phone.strip() else "",
        "email": email.strip().lower(),
    }
    match = Q()
    if wanted["name"]:
        match |= Q(name_normalized=wanted["name"])
    if wanted["phone"]:
        match |= Q(phone=wanted["phone"])
    if wanted["email"]:
        match |= Q(email_lower=wanted["email"])  # index cust_email_lower
    if not match:
        return []
    found: list[Customer] = list(
        Customer.objects.alias(email_lower=Lower("email"))
        .filter(match)
        .select_related("owner", "pool")
        .order_by("id")[:DUPLICATE_LIMIT]
    )
    for customer in found:
        customer.duplicate_fields = [  # type: ignore[attr-defined]  # read by DuplicateCustomer
            field
            for field, value in (
                ("name", customer.name_normalized),
                ("phone", customer.phone),
                ("email", customer.email.lower()),
            )
            if wanted[field] and value == wanted[field]
        ]
    return found
