"""The append-only pool event log."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import (
    AuthedRequest,
    BoundedDateTimeField,
    PageNumberPagination,
    error_responses,
    paginated_response,
)
from public_pool import selectors
from public_pool.models import (
    PoolEvent,
    PoolEventKind,
)


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
        since = BoundedDateTimeField(required=False)
        until = BoundedDateTimeField(required=False)

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
