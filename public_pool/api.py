"""REST API of the public pool (公海): the ``/api/...`` endpoints of ``API.md`` for pools.

Thin views over ``public_pool.services`` and ``public_pool.selectors`` (STYLE.md section 5): a
nested ``InputSerializer`` checks the *shape* of the input, one service or selector does the
work, a nested ``OutputSerializer`` renders the answer. Domain exceptions become
``{"code", "detail"}`` answers in ``crm_site.api.exception_handler`` (``fields`` for
``InvalidInput``, whose attribute is ``fields`` as the handler expects).

Visibility decisions made here (each composes selectors, no rule of its own):

- A customer the caller cannot see answers 404 before the input is checked: visible means in
  ``customers.selectors.customers_visible_to`` (owned: owner, their manager, admins) or pooled in
  a pool of ``selectors.pools_for_user``. Claim is the exception: API.md promises ``403
  not_pool_member`` for a lead of a pool the rep may not use and ``409 already_claimed`` for a
  lead someone took, so claim goes straight to ``services.claim_customer``, which answers those
  (and 404 for an id that does not exist).
- A pool outside ``pools_for_user`` answers 404, except for ``claim-next`` where the service
  answers ``403 not_pool_member`` like claim does.
- Who may *act* (assign, transfer, move, edit a pool or a rule, decide an extension) is the
  service's rule; a visible object the caller may not act on answers 403 ``permission_denied``.

Lists are paginated (``?page=``, ``?page_size=`` at most 200) and cost a fixed number of
queries whatever the page size: the selectors join what the output serializers read.
"""

from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import AuthedRequest, PageNumberPagination, error_responses, paginated_response
from customers import api as customers_api
from customers import selectors as customer_selectors
from customers import services as customer_services
from customers.models import CompanySize, Customer, Industry, Level, Role, Source, User, ValueTier
from public_pool import selectors, services
from public_pool.models import (
    EXEMPT_STAGE_CHOICES,
    ExtensionRequest,
    Notification,
    NotificationKind,
    Pool,
    PoolEvent,
    PoolEventKind,
    RecycleRule,
    ReleaseReason,
)

CustomerOutputSerializer = customers_api.CustomerOutputSerializer


# --- Access helpers (compose selectors) -------------------------------------------------------


class IsManagerOrAdmin(BasePermission):
    """Managers and admins (reading recycle rules)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_admin or user.role == Role.MANAGER))


class IsAdmin(BasePermission):
    """Admins only (rule preview: it counts customers of every team)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_admin)


def visible_customer_or_404(user: User, customer_id: int) -> None:
    """404 unless ``user`` sees the customer: owned and visible, or pooled in a pool they use."""
    visible = customer_selectors.customers_visible_to(user).filter(pk=customer_id).exists() or (
        selectors.pooled_customers(user=user).filter(pk=customer_id).exists()
    )
    if not visible:
        raise Http404


def visible_pool_or_404(user: User, pool_id: int) -> Pool:
    pool = selectors.pools_with_sizes(user).filter(pk=pool_id).prefetch_related("teams").first()
    if pool is None:
        raise Http404
    return pool


def visible_rule_or_404(user: User, rule_id: int) -> RecycleRule:
    rule = selectors.recycle_rules(user=user).filter(pk=rule_id).first()
    if rule is None:
        raise Http404
    return rule


def visible_extension_request_or_404(user: User, request_id: int) -> None:
    """A request is visible to admins, to managers of the requesting rep's team, and to the rep."""
    requests = ExtensionRequest.objects.filter(pk=request_id)
    if not user.is_admin:
        mine = Q(owner=user)
        if user.role == Role.MANAGER:
            mine |= Q(owner__team_id__in=customer_selectors.managed_team_ids(user))
        requests = requests.filter(mine)
    if not requests.exists():
        raise Http404


def _user_or_field_error(user_id: int, field: str) -> User:
    """An active user by id, else 400 with ``fields`` (the input named someone who does not exist)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise serializers.ValidationError({field: [_("No such active user.")]})
    return user


def _customer_response(customer: Customer, code: int = status.HTTP_200_OK) -> Response:
    return Response(CustomerOutputSerializer(customer).data, status=code)


# --- Creating customers (into a pool) ---------------------------------------------------------


class PooledCustomerListCreateApi(customers_api.CustomerListCreateApi):
    """``/api/customers/`` with ``"pool": id`` supported on create.

    Routed in place of the base view by ``crm_site.api_urls`` through
    ``customers.api_urls.build_urlpatterns(list_create_view=...)``. With a pool the customer is
    created by ``services.create_pooled_customer`` (admins only: anyone else answers 403
    ``permission_denied``, nothing created; an unknown pool answers 404), which writes one
    ``create`` event. Without one, the base behaviour applies. The input serializer is the
    base's (it already declares ``pool``), so the schema needs no change.
    """

    def create_customer(
        self, *, request: AuthedRequest, data: customer_services.CustomerData, payload: dict[str, Any]
    ) -> Customer:
        pool_id = payload.get("pool")
        if pool_id is None:
            return super().create_customer(request=request, data=data, payload=payload)
        return services.create_pooled_customer(actor=request.user, pool_id=pool_id, data=data)


# --- Ownership commands -----------------------------------------------------------------------


class ClaimCustomerApi(APIView):
    """``POST /api/customers/{id}/claim/``: a rep takes a pooled lead (see module docstring)."""

    @extend_schema(
        operation_id="customers_claim",
        summary=_("Claim a pooled customer"),
        description=_(
            "409 `already_claimed`, `limit_reached`, `daily_limit_reached` or `cooldown`; "
            "403 `not_pool_member` for a pool the caller may not use."
        ),
        request=None,
        responses={200: CustomerOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        return _customer_response(services.claim_customer(rep=request.user, customer_id=customer_id))


class ClaimNextApi(APIView):
    """``POST /api/pools/{id}/claim-next/``: the best lead of the pool the caller may take."""

    @extend_schema(
        operation_id="pools_claim_next",
        summary=_("Claim the next best lead"),
        description=_("404 `pool_empty` when no lead is left for the caller."),
        request=None,
        responses={200: CustomerOutputSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, pool_id: int) -> Response:
        return _customer_response(services.claim_next_best(rep=request.user, pool_id=pool_id))


class ReleaseCustomerApi(APIView):
    """``POST /api/customers/{id}/release/`` ``{"reason", "note", "pool"?}``: owner or their manager.

    A missing or unknown ``reason`` is the service's ``400 reason_required`` (so the input
    accepts a blank one rather than failing as a generic ``invalid``).
    """

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(
            required=False, allow_blank=True, default="", max_length=40, help_text=_("A release reason code.")
        )
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
        pool = serializers.IntegerField(
            required=False, allow_null=True, default=None, min_value=1, help_text=_("Default: its home pool.")
        )

        class Meta:
            ref_name = "ReleaseInput"

    @extend_schema(
        operation_id="customers_release",
        summary=_("Release a customer to a pool"),
        request=InputSerializer,
        responses={200: CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.release_customer(
            actor=request.user,
            customer_id=customer_id,
            reason=data["reason"],
            note=data["note"],
            pool_id=data["pool"],
        )
        return _customer_response(customer)


class AssignCustomerApi(APIView):
    """``POST /api/customers/{id}/assign/`` ``{"rep", "override"?, "note"?}``: the rep's manager or
    an admin gives a pooled lead to a rep; ``override`` skips the limits (logged on the event)."""

    class InputSerializer(serializers.Serializer[Any]):
        rep = serializers.IntegerField(min_value=1)
        override = serializers.BooleanField(required=False, default=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

        class Meta:
            ref_name = "AssignInput"

    @extend_schema(
        operation_id="customers_assign",
        summary=_("Assign a pooled customer to a rep"),
        request=InputSerializer,
        responses={200: CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.assign_customer(
            actor=request.user,
            customer_id=customer_id,
            rep=_user_or_field_error(data["rep"], "rep"),
            override=data["override"],
            note=data["note"],
        )
        return _customer_response(customer)


class BulkAssignApi(APIView):
    """``POST /api/pools/{id}/assign/`` ``{"rep", "customers": [ids], "override"?}``.

    The pool in the path must be one the caller may use (else 404). The ids go to
    ``services.assign_customers`` as given: all or nothing on limits (409 unless ``override``),
    leads someone took meanwhile are reported in ``skipped`` (id → ``already_claimed`` /
    ``not_found``), and the service checks pool membership per lead.
    """

    class InputSerializer(serializers.Serializer[Any]):
        rep = serializers.IntegerField(min_value=1)
        customers = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=1, max_length=500
        )
        override = serializers.BooleanField(required=False, default=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

        class Meta:
            ref_name = "BulkAssignInput"

    class OutputSerializer(serializers.Serializer[Any]):
        assigned = serializers.ListField(child=serializers.IntegerField())
        skipped = serializers.DictField(child=serializers.CharField(), help_text=_("Customer id → why not."))
        override_used = serializers.BooleanField()

        class Meta:
            ref_name = "BulkAssignResult"

    @extend_schema(
        operation_id="pools_assign",
        summary=_("Assign pooled leads to a rep in bulk"),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, pool_id: int) -> Response:
        visible_pool_or_404(request.user, pool_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.assign_customers(
            actor=request.user,
            rep=_user_or_field_error(data["rep"], "rep"),
            customer_ids=data["customers"],
            override=data["override"],
            note=data["note"],
        )
        answer = {
            "assigned": result.assigned,
            "skipped": {str(pk): reason for pk, reason in result.skipped.items()},
            "override_used": result.override_used,
        }
        return Response(self.OutputSerializer(answer).data)


class DistributeApi(APIView):
    """``POST /api/pools/{id}/distribute/`` ``{"strategy", "reps"?, "max"?}``: managers of a member
    team and admins hand the pool's best leads out automatically (``services.distribute_pool_leads``)."""

    class InputSerializer(serializers.Serializer[Any]):
        strategy = serializers.ChoiceField(
            choices=[(s.value, s.value) for s in services.DistributionStrategy],
            required=False,
            default=services.DistributionStrategy.ROUND_ROBIN.value,
        )
        reps = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            required=False,
            allow_null=True,
            default=None,
            max_length=500,
            help_text=_("Default: every rep the caller may assign this pool's leads to."),
        )
        max = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            min_value=1,
            max_value=settings.PUBLIC_POOL_DISTRIBUTE_MAX,
            help_text=_("At most this many leads (default and ceiling: the site's distribution limit)."),
        )

        class Meta:
            ref_name = "DistributeInput"

    class OutputSerializer(serializers.Serializer[Any]):
        assigned = serializers.DictField(
            child=serializers.ListField(child=serializers.IntegerField()),
            help_text=_("Rep id → customer ids."),
        )
        skipped_reps = serializers.DictField(child=serializers.CharField(), help_text=_("Rep id → why."))
        unassigned = serializers.ListField(child=serializers.IntegerField())
        total = serializers.IntegerField()

        class Meta:
            ref_name = "DistributeResult"

    @extend_schema(
        operation_id="pools_distribute",
        summary=_("Distribute a pool's leads automatically"),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest, pool_id: int) -> Response:
        visible_pool_or_404(request.user, pool_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.distribute_pool_leads(
            actor=request.user,
            pool_id=pool_id,
            strategy=data["strategy"],
            rep_ids=data["reps"],
            max_leads=data["max"],
        )
        answer = {
            "assigned": {str(pk): ids for pk, ids in result.assigned.items()},
            "skipped_reps": {str(pk): why for pk, why in result.skipped_reps.items()},
            "unassigned": result.unassigned,
            "total": result.total,
        }
        return Response(self.OutputSerializer(answer).data)


class TransferCustomerApi(APIView):
    """``POST /api/customers/{id}/transfer/`` ``{"rep", "override"?, "note"?}``: a manager of both
    reps, or an admin."""

    class InputSerializer(serializers.Serializer[Any]):
        rep = serializers.IntegerField(min_value=1)
        override = serializers.BooleanField(required=False, default=False)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

        class Meta:
            ref_name = "TransferInput"

    @extend_schema(
        operation_id="customers_transfer",
        summary=_("Transfer a customer to another rep"),
        request=InputSerializer,
        responses={200: CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.transfer_customer(
            actor=request.user,
            customer_id=customer_id,
            to_rep=_user_or_field_error(data["rep"], "rep"),
            override=data["override"],
            note=data["note"],
        )
        return _customer_response(customer)


class MoveCustomerApi(APIView):
    """``POST /api/customers/{id}/move/`` ``{"pool", "note"?}``: admins put a customer into a pool."""

    class InputSerializer(serializers.Serializer[Any]):
        pool = serializers.IntegerField(min_value=1)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

        class Meta:
            ref_name = "MoveInput"

    @extend_schema(
        operation_id="customers_move",
        summary=_("Move a customer into a pool (admins)"),
        request=InputSerializer,
        responses={200: CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.move_customer_to_pool(
            actor=request.user, customer_id=customer_id, pool_id=data["pool"], note=data["note"]
        )
        return _customer_response(customer)


# --- Pools ------------------------------------------------------------------------------------


class PoolOutputSerializer(serializers.ModelSerializer[Pool]):
    """A pool with its settings and ``lead_count`` (rows come from ``selectors.pools_with_sizes``
    with ``teams`` prefetched, so a page costs the same whatever its size)."""

    teams = serializers.SerializerMethodField()
    owner = serializers.IntegerField(source="owner_id", allow_null=True, read_only=True)
    recycle_target = serializers.IntegerField(source="recycle_target_id", allow_null=True, read_only=True)
    lead_count = serializers.IntegerField(read_only=True, help_text=_("Leads in the pool now."))

    class Meta:
        model = Pool
        ref_name = "Pool"
        fields = [
            "id",
            "name",
            "description",
            "teams",
            "owner",
            "max_held_per_rep",
            "max_claims_per_day",
            "cooldown_days",
            "hide_contacts",
            "recycle_target",
            "is_default",
            "lead_count",
        ]
        read_only_fields = fields

    def get_teams(self, pool: Pool) -> list[int]:
        return sorted(team.pk for team in pool.teams.all())


class PoolListApi(APIView):
    """``GET /api/pools/``: the pools the caller may use, with their sizes."""

    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="pools_list",
        summary=_("List the pools the caller may use"),
        responses={200: PoolOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        pools = selectors.pools_with_sizes(request.user).prefetch_related("teams")
        return paginated_response(
            request=request, view=self, queryset=pools, serializer_class=PoolOutputSerializer
        )


class PoolDetailApi(APIView):
    """``GET /api/pools/{id}/`` (members) and ``PATCH`` (admins: ``services.update_pool``).

    PATCH is partial: the fields sent are merged into the stored settings. A null limit means no
    limit. A member who is not an admin answers 403; a pool the caller may not use, 404.
    """

    class InputSerializer(serializers.Serializer[Any]):
        name = serializers.CharField(max_length=100)
        description = serializers.CharField(allow_blank=True, max_length=10_000)
        teams = serializers.ListField(child=serializers.IntegerField(min_value=1), max_length=500)
        owner = serializers.IntegerField(min_value=1, allow_null=True)
        max_held_per_rep = serializers.IntegerField(min_value=0, allow_null=True)
        max_claims_per_day = serializers.IntegerField(min_value=0, allow_null=True)
        cooldown_days = serializers.IntegerField(min_value=0, max_value=3650)
        hide_contacts = serializers.BooleanField()
        recycle_target = serializers.IntegerField(min_value=1, allow_null=True)
        is_default = serializers.BooleanField()

        class Meta:
            ref_name = "PoolUpdateInput"

    _FIELD_TO_DATA = {"teams": "team_ids", "owner": "owner_id", "recycle_target": "recycle_target_id"}

    @extend_schema(
        operation_id="pools_retrieve",
        summary=_("Get a pool's settings"),
        responses={200: PoolOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pool_id: int) -> Response:
        return Response(PoolOutputSerializer(visible_pool_or_404(request.user, pool_id)).data)

    @extend_schema(
        operation_id="pools_partial_update",
        summary=_("Change a pool's settings (admins)"),
        request=InputSerializer,
        responses={200: PoolOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthedRequest, pool_id: int) -> Response:
        pool = visible_pool_or_404(request.user, pool_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {self._FIELD_TO_DATA.get(k, k): v for k, v in serializer.validated_data.items()}
        if "team_ids" in changes:
            changes["team_ids"] = tuple(changes["team_ids"])
        current = services.PoolData(
            name=pool.name,
            description=pool.description,
            team_ids=tuple(team.pk for team in pool.teams.all()),
            owner_id=pool.owner_id,
            max_held_per_rep=pool.max_held_per_rep,
            max_claims_per_day=pool.max_claims_per_day,
            cooldown_days=pool.cooldown_days,
            hide_contacts=pool.hide_contacts,
            recycle_target_id=pool.recycle_target_id,
            is_default=pool.is_default,
        )
        services.update_pool(actor=request.user, pool_id=pool.pk, data=replace(current, **changes))
        return Response(PoolOutputSerializer(visible_pool_or_404(request.user, pool_id)).data)


class PooledCustomerOutputSerializer(serializers.ModelSerializer[Customer]):
    """A lead in a pool list: phone and e-mail masked when its pool hides contacts
    (``selectors.masked_contact``; ``pool`` is joined by ``selectors.pooled_customers``)."""

    pool = serializers.IntegerField(source="pool_id", read_only=True)
    phone = serializers.SerializerMethodField()
    email = serializers.SerializerMethodField()
    contacts_hidden = serializers.SerializerMethodField()
    owner = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        ref_name = "PooledCustomer"
        fields = [
            "id",
            "name",
            "owner",
            "pool",
            "phone",
            "email",
            "contacts_hidden",
            "level",
            "industry",
            "size",
            "region",
            "source",
            "priority_score",
            "pooled_at",
            "last_followup_at",
        ]
        read_only_fields = fields

    def get_phone(self, customer: Customer) -> str:
        return selectors.masked_contact(customer).phone

    def get_email(self, customer: Customer) -> str:
        return selectors.masked_contact(customer).email

    def get_contacts_hidden(self, customer: Customer) -> bool:
        return selectors.masked_contact(customer).hidden

    def get_owner(self, customer: Customer) -> int | None:
        """Always null: a pooled lead has no owner (kept for the fixed customer fields)."""
        return customer.owner_id


class PoolCustomersApi(APIView):
    """``GET /api/pools/{id}/customers/``: the pool's leads, best first (pool members)."""

    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer[Any]):
        search = serializers.CharField(required=False, allow_blank=True, max_length=200)
        industry = serializers.ChoiceField(choices=Industry.choices, required=False, allow_blank=True)
        size = serializers.ChoiceField(choices=CompanySize.choices, required=False, allow_blank=True)
        source = serializers.ChoiceField(choices=Source.choices, required=False, allow_blank=True)
        region = serializers.CharField(required=False, allow_blank=True, max_length=50)
        level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)

        class Meta:
            ref_name = "PoolCustomerFilters"

    @extend_schema(
        operation_id="pools_customers_list",
        summary=_("List a pool's leads by priority"),
        description=_("Contact details are masked when the pool hides them."),
        parameters=[FilterSerializer],
        responses={200: PooledCustomerOutputSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: AuthedRequest, pool_id: int) -> Response:
        visible_pool_or_404(request.user, pool_id)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = selectors.PooledFilters(**params.validated_data)
        customers = selectors.pooled_customers(user=request.user, pool_id=pool_id, filters=filters)
        return paginated_response(
            request=request, view=self, queryset=customers, serializer_class=PooledCustomerOutputSerializer
        )


# --- The event log ----------------------------------------------------------------------------


class PoolEventsApi(APIView):
    """``GET /api/pool-events/?customer=&pool=&kind=``: the log the caller may read
    (``selectors.pool_events``: admins all, managers their teams and pools, reps their own
    customers' history), newest first."""

    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer[Any]):
        customer = serializers.IntegerField(required=False, min_value=1)
        pool = serializers.IntegerField(required=False, min_value=1)
        kind = serializers.ChoiceField(choices=PoolEventKind.choices, required=False, allow_blank=True)
        actor = serializers.IntegerField(required=False, min_value=1)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

        class Meta:
            ref_name = "PoolEventFilters"

    class OutputSerializer(serializers.ModelSerializer[PoolEvent]):
        customer = serializers.IntegerField(source="customer_id", read_only=True)
        customer_name = serializers.CharField(source="customer.name", read_only=True)
        actor = serializers.IntegerField(source="actor_id", allow_null=True, read_only=True)
        from_owner = serializers.IntegerField(source="from_owner_id", allow_null=True, read_only=True)
        to_owner = serializers.IntegerField(source="to_owner_id", allow_null=True, read_only=True)
        from_pool = serializers.IntegerField(source="from_pool_id", allow_null=True, read_only=True)
        to_pool = serializers.IntegerField(source="to_pool_id", allow_null=True, read_only=True)
        rule = serializers.IntegerField(source="rule_id", allow_null=True, read_only=True)

        class Meta:
            model = PoolEvent
            ref_name = "PoolEvent"
            fields = [
                "id",
                "customer",
                "customer_name",
                "kind",
                "actor",
                "from_owner",
                "to_owner",
                "from_pool",
                "to_pool",
                "reason",
                "note",
                "rule",
                "override",
                "at",
            ]
            read_only_fields = fields

    @extend_schema(
        operation_id="pool_events_list",
        summary=_("The pool event log"),
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        filters = selectors.EventFilters(
            customer_id=data.get("customer"),
            pool_id=data.get("pool"),
            kind=data.get("kind", ""),
            actor_id=data.get("actor"),
            since=data.get("since"),
            until=data.get("until"),
        )
        events = selectors.pool_events(user=request.user, filters=filters)
        return paginated_response(
            request=request, view=self, queryset=events, serializer_class=self.OutputSerializer
        )


# --- Recycle rules ----------------------------------------------------------------------------


class RuleFieldsSerializer(serializers.Serializer[Any]):
    """A rule's settings, shape only (``services`` validates the values: 400 ``invalid``)."""

    name = serializers.CharField(max_length=100)
    enabled = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
    value_tier = serializers.ChoiceField(choices=ValueTier.choices, required=False, allow_blank=True)
    tag = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    source = serializers.ChoiceField(choices=Source.choices, required=False, allow_blank=True)
    no_followup_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3650)
    no_deal_days = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=3650)
    exempt_open_deal_from_stage = serializers.ChoiceField(
        choices=EXEMPT_STAGE_CHOICES, required=False, allow_blank=True
    )
    warn_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
    target_pool = serializers.IntegerField(required=False, allow_null=True, min_value=1)

    _TO_DATA = {"team": "team_id", "tag": "tag_id", "target_pool": "target_pool_id"}

    @classmethod
    def rule_changes(cls, validated: dict[str, Any]) -> dict[str, Any]:
        """``validated_data`` → keyword arguments of ``services.RuleData`` (``pool`` left out)."""
        return {cls._TO_DATA.get(k, k): v for k, v in validated.items() if k != "pool"}


class RecycleRuleOutputSerializer(serializers.ModelSerializer[RecycleRule]):
    pool = serializers.IntegerField(source="pool_id", read_only=True)
    team = serializers.IntegerField(source="team_id", allow_null=True, read_only=True)
    tag = serializers.IntegerField(source="tag_id", allow_null=True, read_only=True)
    target_pool = serializers.IntegerField(source="target_pool_id", allow_null=True, read_only=True)

    class Meta:
        model = RecycleRule
        ref_name = "RecycleRule"
        fields = [
            "id",
            "pool",
            "name",
            "enabled",
            "priority",
            "team",
            "level",
            "value_tier",
            "tag",
            "source",
            "no_followup_days",
            "no_deal_days",
            "exempt_open_deal_from_stage",
            "warn_days",
            "target_pool",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class RecycleRuleListCreateApi(APIView):
    """``GET /api/recycle-rules/?pool=`` (managers and admins; rules of pools they may use) and
    ``POST`` (admins: ``services.create_recycle_rule``; the pool's customers are re-matched after
    commit)."""

    permission_classes = [IsManagerOrAdmin]
    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer[Any]):
        pool = serializers.IntegerField(required=False, min_value=1)

        class Meta:
            ref_name = "RecycleRuleFilters"

    class InputSerializer(RuleFieldsSerializer):
        pool = serializers.IntegerField(min_value=1)

        class Meta:
            ref_name = "RecycleRuleCreateInput"

    @extend_schema(
        operation_id="recycle_rules_list",
        summary=_("List recycle rules"),
        parameters=[FilterSerializer],
        responses={200: RecycleRuleOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        rules = selectors.recycle_rules(user=request.user, pool_id=params.validated_data.get("pool"))
        return paginated_response(
            request=request, view=self, queryset=rules, serializer_class=RecycleRuleOutputSerializer
        )

    @extend_schema(
        operation_id="recycle_rules_create",
        summary=_("Add a recycle rule (admins)"),
        request=InputSerializer,
        responses={201: RecycleRuleOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        rule = services.create_recycle_rule(
            actor=request.user,
            pool_id=data["pool"],
            rule=services.RuleData(**RuleFieldsSerializer.rule_changes(data)),
        )
        return Response(RecycleRuleOutputSerializer(rule).data, status=status.HTTP_201_CREATED)


class RecycleRuleDetailApi(APIView):
    """``GET/PATCH/DELETE /api/recycle-rules/{id}/``: managers read, admins write.

    PATCH merges the fields sent into the stored rule (``services.update_recycle_rule``; the
    pool cannot change). DELETE is refused with 409 ``rule_in_use`` once the rule has recycled
    anyone: disable it instead.
    """

    permission_classes = [IsManagerOrAdmin]

    class InputSerializer(RuleFieldsSerializer):
        class Meta:
            ref_name = "RecycleRuleUpdateInput"

    @extend_schema(
        operation_id="recycle_rules_retrieve",
        summary=_("Get a recycle rule"),
        responses={200: RecycleRuleOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, rule_id: int) -> Response:
        return Response(RecycleRuleOutputSerializer(visible_rule_or_404(request.user, rule_id)).data)

    @extend_schema(
        operation_id="recycle_rules_partial_update",
        summary=_("Change a recycle rule (admins)"),
        request=InputSerializer,
        responses={200: RecycleRuleOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthedRequest, rule_id: int) -> Response:
        rule = visible_rule_or_404(request.user, rule_id)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = replace(
            services.RuleData.from_rule(rule), **RuleFieldsSerializer.rule_changes(serializer.validated_data)
        )
        updated = services.update_recycle_rule(actor=request.user, rule_id=rule.pk, rule=data)
        return Response(RecycleRuleOutputSerializer(updated).data)

    @extend_schema(
        operation_id="recycle_rules_destroy",
        summary=_("Delete a recycle rule that never recycled anyone (admins)"),
        responses={204: None, **error_responses(401, 403, 404, 409)},
    )
    def delete(self, request: AuthedRequest, rule_id: int) -> Response:
        rule = visible_rule_or_404(request.user, rule_id)
        services.delete_recycle_rule(actor=request.user, rule_id=rule.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecycleRulePreviewApi(APIView):
    """``POST /api/recycle-rules/preview/``: what a rule (saved or not) would recycle now and within
    its warning window, with the soonest as a sample (admins; ``services.preview_rule`` writes
    nothing)."""

    permission_classes = [IsAdmin]

    class InputSerializer(RuleFieldsSerializer):
        pool = serializers.IntegerField(min_value=1)
        as_of = serializers.DateTimeField(required=False, allow_null=True, help_text=_("Default: now."))
        sample_size = serializers.IntegerField(required=False, min_value=0, max_value=100, default=10)

        class Meta:
            ref_name = "RecycleRulePreviewInput"

    class OutputSerializer(serializers.Serializer[Any]):
        class RowSerializer(serializers.Serializer[Any]):
            customer = serializers.IntegerField(source="customer_id")
            name = serializers.CharField()
            owner = serializers.CharField()
            due_at = serializers.DateTimeField()

            class Meta:
                ref_name = "RecycleRulePreviewRow"

        due_now = serializers.IntegerField()
        due_within_warning = serializers.IntegerField()
        sample = RowSerializer(many=True)

        class Meta:
            ref_name = "RecycleRulePreview"

    @extend_schema(
        operation_id="recycle_rules_preview",
        summary=_("Preview a recycle rule (admins)"),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: AuthedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        as_of = data.pop("as_of", None)
        sample_size = data.pop("sample_size")
        preview = services.preview_rule(
            pool_id=data["pool"],
            rule=services.RuleData(**RuleFieldsSerializer.rule_changes(data)),
            as_of=as_of,
            sample_size=sample_size,
        )
        return Response(self.OutputSerializer(preview).data)


# --- Release reasons --------------------------------------------------------------------------


class ReleaseReasonsApi(APIView):
    """``GET /api/release-reasons/``: the active reasons, ``label`` in the request's language."""

    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer[ReleaseReason]):
        label = serializers.CharField(source="display_label", read_only=True)

        class Meta:
            model = ReleaseReason
            ref_name = "ReleaseReason"
            fields = ["code", "label", "requires_note"]
            read_only_fields = fields

    @extend_schema(
        operation_id="release_reasons_list",
        summary=_("List the release reasons"),
        responses={200: OutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.active_release_reasons(),
            serializer_class=self.OutputSerializer,
        )


# --- Extensions -------------------------------------------------------------------------------


class ExtensionRequestOutputSerializer(serializers.ModelSerializer[ExtensionRequest]):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True, read_only=True)

    class Meta:
        model = ExtensionRequest
        ref_name = "ExtensionRequest"
        fields = [
            "id",
            "customer",
            "owner",
            "days",
            "note",
            "status",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class RequestExtensionApi(APIView):
    """``POST /api/customers/{id}/extension/`` ``{"days"?, "note"?}``: the owner asks once per
    ownership to push the recycle deadline out (409 ``extension_already_requested``)."""

    class InputSerializer(serializers.Serializer[Any]):
        days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

        class Meta:
            ref_name = "ExtensionRequestInput"

    @extend_schema(
        operation_id="customers_extension_request",
        summary=_("Ask for more time before recycling"),
        request=InputSerializer,
        responses={201: ExtensionRequestOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        extension = services.request_extension(
            rep=request.user, customer_id=customer_id, **serializer.validated_data
        )
        return Response(ExtensionRequestOutputSerializer(extension).data, status=status.HTTP_201_CREATED)


class PendingExtensionRequestsApi(APIView):
    """``GET /api/extension-requests/``: requests waiting for the caller's decision, oldest first."""

    pagination_class = PageNumberPagination

    @extend_schema(
        operation_id="extension_requests_list",
        summary=_("Extension requests waiting for a decision"),
        responses={200: ExtensionRequestOutputSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        return paginated_response(
            request=request,
            view=self,
            queryset=selectors.pending_extension_requests(user=request.user),
            serializer_class=ExtensionRequestOutputSerializer,
        )


class DecideExtensionApi(APIView):
    """``POST /api/extension-requests/{id}/decide/`` ``{"approve", "days"?, "note"?}``: the rep's
    manager or an admin (409 ``extension_decided`` when someone already did)."""

    class InputSerializer(serializers.Serializer[Any]):
        approve = serializers.BooleanField()
        days = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1)
        note = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)

        class Meta:
            ref_name = "ExtensionDecisionInput"

    @extend_schema(
        operation_id="extension_requests_decide",
        summary=_("Approve or refuse an extension request"),
        request=InputSerializer,
        responses={200: ExtensionRequestOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, request_id: int) -> Response:
        visible_extension_request_or_404(request.user, request_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = services.decide_extension(
            actor=request.user, request_id=request_id, **serializer.validated_data
        )
        return Response(ExtensionRequestOutputSerializer(decided).data)


# --- Notifications ----------------------------------------------------------------------------


class NotificationsApi(APIView):
    """``GET /api/notifications/?unread=``: the caller's own notifications, newest first."""

    pagination_class = PageNumberPagination

    class FilterSerializer(serializers.Serializer[Any]):
        unread = serializers.BooleanField(required=False, default=False, help_text=_("Only unread ones."))

        class Meta:
            ref_name = "NotificationFilters"

    class OutputSerializer(serializers.ModelSerializer[Notification]):
        customer = serializers.IntegerField(source="customer_id", allow_null=True, read_only=True)
        message = serializers.CharField(read_only=True, help_text=_("In the request's language."))
        kind = serializers.ChoiceField(choices=NotificationKind.choices, read_only=True)

        class Meta:
            model = Notification
            ref_name = "Notification"
            fields = ["id", "kind", "customer", "message", "due_at", "created_at", "read_at"]
            read_only_fields = fields

    @extend_schema(
        operation_id="notifications_list",
        summary=_("My notifications"),
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        notifications: QuerySet[Notification] = selectors.notifications_for(
            user=request.user, unread_only=params.validated_data["unread"]
        )
        return paginated_response(
            request=request, view=self, queryset=notifications, serializer_class=self.OutputSerializer
        )


class MarkNotificationsReadApi(APIView):
    """``POST /api/notifications/read/`` ``{"ids"?: [...]}``: mark the caller's notifications read
    (all when ``ids`` is left out); other people's ids are ignored."""

    class InputSerializer(serializers.Serializer[Any]):
        ids = serializers.ListField(
            child=serializers.IntegerField(min_value=1),
            required=False,
            allow_null=True,
            default=None,
            max_length=1000,
        )

        class Meta:
            ref_name = "NotificationsReadInput"

    class OutputSerializer(serializers.Serializer[Any]):
        marked = serializers.IntegerField(help_text=_("How many changed from unread to read."))

        class Meta:
            ref_name = "NotificationsReadResult"

    @extend_schema(
        operation_id="notifications_mark_read",
        summary=_("Mark notifications read"),
        request=InputSerializer,
        responses={200: OutputSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: AuthedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = services.mark_notifications_read(
            user=request.user, notification_ids=serializer.validated_data["ids"]
        )
        return Response(self.OutputSerializer({"marked": marked}).data)
