"""Pools: the list, one pool's settings, the leads in a pool."""

from dataclasses import replace
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import AuthedRequest, PageNumberPagination, error_responses, paginated_response
from customers.models import CompanySize, Customer, Industry, Level, Source
from public_pool import selectors, services
from public_pool.api import access
from public_pool.models import (
    MAX_EXTENSION_DAYS_CEILING,
    Pool,
)


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
            "max_extension_days",
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
        max_extension_days = serializers.IntegerField(min_value=1, max_value=MAX_EXTENSION_DAYS_CEILING)
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
        return Response(PoolOutputSerializer(access.visible_pool_or_404(request.user, pool_id)).data)

    @extend_schema(
        operation_id="pools_partial_update",
        summary=_("Change a pool's settings (admins)"),
        request=InputSerializer,
        responses={200: PoolOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthedRequest, pool_id: int) -> Response:
        pool = access.visible_pool_or_404(request.user, pool_id)
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
            max_extension_days=pool.max_extension_days,
            recycle_target_id=pool.recycle_target_id,
            is_default=pool.is_default,
        )
        services.update_pool(actor=request.user, pool_id=pool.pk, data=replace(current, **changes))
        return Response(PoolOutputSerializer(access.visible_pool_or_404(request.user, pool_id)).data)


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
        source = serializers.ChoiceField(choices=Source.choices, required=False, allow_blank=True)  # type: ignore[assignment]  # a field, not Field.source
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
        access.visible_pool_or_404(request.user, pool_id)
        params = self.FilterSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = selectors.PooledFilters(**params.validated_data)
        customers = selectors.pooled_customers(user=request.user, pool_id=pool_id, filters=filters)
        return paginated_response(
            request=request, view=self, queryset=customers, serializer_class=PooledCustomerOutputSerializer
        )
