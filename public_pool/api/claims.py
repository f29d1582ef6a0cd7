"""Ownership commands: create into a pool, claim, claim next, release, assign, distribute, transfer, move."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import AuthedRequest, error_responses
from customers import api as customers_api
from customers import services as customer_services
from customers.models import Customer
from public_pool import services
from public_pool.api import access
from public_pool.services import lean


class OwnershipSerializer(serializers.Serializer[Customer]):
    """What claim, claim next, release and assign answer: the customer's new ownership.

    Slim on purpose (issue 12): the ids and times the fast paths' ``RETURNING`` gives, no
    names, tags or contact details, so the answer costs no query. ``GET /api/customers/{id}/``
    has the whole customer.
    """

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    owner = serializers.IntegerField(source="owner_id", allow_null=True, read_only=True)
    team = serializers.IntegerField(source="team_id", allow_null=True, read_only=True)
    pool = serializers.IntegerField(source="pool_id", allow_null=True, read_only=True)
    home_pool = serializers.IntegerField(
        source="home_pool_id",
        allow_null=True,
        read_only=True,
        help_text=_("The pool whose rules and limits apply to it (where it goes back to)."),
    )
    claimed_at = serializers.DateTimeField(allow_null=True, read_only=True)
    recycle_due_at = serializers.SerializerMethodField(
        help_text=_("While owned: when the customer goes back to the pool (null: no rule applies).")
    )
    recycle_rule = serializers.SerializerMethodField(
        help_text=_("While owned: the recycle rule that applies.")
    )
    recycle_trigger = serializers.SerializerMethodField(
        help_text=_(
            "While owned: what the owner must do to keep it (no_followup: follow up; no_deal: win a deal)."
        )
    )

    class Meta:
        ref_name = "Ownership"

    @extend_schema_field(serializers.DateTimeField(allow_null=True, read_only=True))
    def get_recycle_due_at(self, customer: Customer) -> Any:
        due, _rule = customer_services.owned_deadline(customer)
        return None if due is None else self.fields["claimed_at"].to_representation(due)

    @extend_schema_field(serializers.IntegerField(allow_null=True, read_only=True))
    def get_recycle_rule(self, customer: Customer) -> int | None:
        return customer_services.owned_deadline(customer)[1]

    @extend_schema_field(
        serializers.ChoiceField(choices=["no_followup", "no_deal"], allow_null=True, read_only=True)
    )
    def get_recycle_trigger(self, customer: Customer) -> str | None:
        return customer_services.recycle_trigger(customer)


_DATETIME = serializers.DateTimeField(read_only=True)


def ownership_data(customer: Customer) -> dict[str, Any]:
    """``OwnershipSerializer(customer).data``, field for field (``tests/public_pool/test_lean.py``
    compares them), without building the serializer's fields for every answer: DRF deep-copies
    the declared fields per instance, which cost about 0.15 ms of the claim path (issue 12). The
    serializer stays the schema's description of the answer."""
    claimed = customer.claimed_at
    due, rule = customer_services.owned_deadline(customer)
    return {
        "id": customer.pk,
        "name": str(customer.name),
        "owner": customer.owner_id,
        "team": customer.team_id,
        "pool": customer.pool_id,
        "home_pool": customer.home_pool_id,
        "claimed_at": None if claimed is None else _DATETIME.to_representation(claimed),
        "recycle_due_at": None if due is None else _DATETIME.to_representation(due),
        "recycle_rule": rule,
        "recycle_trigger": customer_services.recycle_trigger(customer),
    }


def ownership_response(customer: Customer) -> Response:
    return Response(ownership_data(customer))


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
            return services.create_owned_customer(actor=request.user, data=data, owner=payload.get("owner"))
        return services.create_pooled_customer(actor=request.user, pool_id=pool_id, data=data)


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
        responses={200: OwnershipSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        return ownership_response(services.claim_customer(rep=request.user, customer_id=customer_id))


class ClaimNextApi(APIView):
    """``POST /api/pools/{id}/claim-next/``: the best lead of the pool the caller may take."""

    @extend_schema(
        operation_id="pools_claim_next",
        summary=_("Claim the next best lead"),
        description=_("404 `pool_empty` when no lead is left for the caller."),
        request=None,
        responses={200: OwnershipSerializer, **error_responses(401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, pool_id: int) -> Response:
        return ownership_response(services.claim_next_best(rep=request.user, pool_id=pool_id))


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
            ref_name = "ReleaseInputParsed"

    class DocumentedInputSerializer(InputSerializer):
        """The body as documented: ``reason`` is required. (The parser above lets a missing one
        through so that the service answers 400 ``reason_required`` rather than ``invalid``.)"""

        reason = serializers.CharField(min_length=1, max_length=40, help_text=_("A release reason code."))

        class Meta:
            ref_name = "ReleaseInput"

    @extend_schema(
        operation_id="customers_release",
        summary=_("Release a customer to a pool"),
        request=DocumentedInputSerializer,
        responses={200: OwnershipSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        if serializer.is_valid():
            data = serializer.validated_data
            with transaction.atomic():  # the whole check and change in two statements
                released = lean.release(
                    actor=request.user,
                    customer_id=customer_id,
                    reason=data["reason"],
                    note=data["note"],
                    pool_id=data["pool"],
                )
            if released is not None:
                return ownership_response(released)
        # Refused (or bad input): the checked path, in its order, says why.
        access.visible_customer_or_404(request.user, customer_id)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.release_customer_checked(
            actor=request.user,
            customer_id=customer_id,
            reason=data["reason"],
            note=data["note"],
            pool_id=data["pool"],
        )
        return ownership_response(customer)


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
        responses={200: OwnershipSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        if serializer.is_valid():
            data = serializer.validated_data
            with transaction.atomic():  # lock and read the rep, then check and assign: two statements
                taken = lean.assign(
                    actor=request.user,
                    customer_id=customer_id,
                    rep_id=data["rep"],
                    override=data["override"],
                    note=data["note"],
                )
            if taken is not None:
                return ownership_response(taken)
        # Refused (or bad input): the checked path, in its order, says why.
        access.visible_customer_or_404(request.user, customer_id)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.assign_customer_checked(
            actor=request.user,
            customer_id=customer_id,
            rep=access.user_or_field_error(data["rep"], "rep"),
            override=data["override"],
            note=data["note"],
        )
        return ownership_response(customer)


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
        access.visible_pool_or_404(request.user, pool_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.assign_customers(
            actor=request.user,
            rep=access.user_or_field_error(data["rep"], "rep"),
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
        access.visible_pool_or_404(request.user, pool_id)
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
        responses={200: access.CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        access.visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.transfer_customer(
            actor=request.user,
            customer_id=customer_id,
            to_rep=access.user_or_field_error(data["rep"], "rep"),
            override=data["override"],
            note=data["note"],
        )
        return access.customer_response(customer)


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
        responses={200: access.CustomerOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        access.visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer = services.move_customer_to_pool(
            actor=request.user, customer_id=customer_id, pool_id=data["pool"], note=data["note"]
        )
        return access.customer_response(customer)
