"""Recycle rules, their live preview, and the release reasons."""

from dataclasses import replace
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import (
    AuthedRequest,
    BoundedDateTimeField,
    PageNumberPagination,
    error_responses,
    paginated_response,
)
from customers.models import Level, Source, ValueTier
from public_pool import selectors, services
from public_pool.api import access
from public_pool.models import (
    EXEMPT_STAGE_CHOICES,
    RecycleRule,
    ReleaseReason,
)


class RuleFieldsSerializer(serializers.Serializer[Any]):
    """A rule's settings, shape only (``services`` validates the values: 400 ``invalid``)."""

    name = serializers.CharField(max_length=100)
    enabled = serializers.BooleanField(required=False)
    priority = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    team = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    level = serializers.ChoiceField(choices=Level.choices, required=False, allow_blank=True)
    value_tier = serializers.ChoiceField(choices=ValueTier.choices, required=False, allow_blank=True)
    tag = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    source = serializers.ChoiceField(choices=Source.choices, required=False, allow_blank=True)  # type: ignore[assignment]  # a field, not Field.source
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

    permission_classes = [access.IsManagerOrAdmin]
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

    permission_classes = [access.IsManagerOrAdmin]

    class InputSerializer(RuleFieldsSerializer):
        class Meta:
            ref_name = "RecycleRuleUpdateInput"

    @extend_schema(
        operation_id="recycle_rules_retrieve",
        summary=_("Get a recycle rule"),
        responses={200: RecycleRuleOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: AuthedRequest, rule_id: int) -> Response:
        return Response(RecycleRuleOutputSerializer(access.visible_rule_or_404(request.user, rule_id)).data)

    @extend_schema(
        operation_id="recycle_rules_partial_update",
        summary=_("Change a recycle rule (admins)"),
        request=InputSerializer,
        responses={200: RecycleRuleOutputSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: AuthedRequest, rule_id: int) -> Response:
        rule = access.visible_rule_or_404(request.user, rule_id)
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
        rule = access.visible_rule_or_404(request.user, rule_id)
        services.delete_recycle_rule(actor=request.user, rule_id=rule.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecycleRulePreviewApi(APIView):
    """``POST /api/recycle-rules/preview/``: what a rule (saved or not) would recycle now and within
    its warning window, with the soonest as a sample (admins; ``services.preview_rule`` writes
    nothing)."""

    permission_classes = [access.IsAdmin]

    class InputSerializer(RuleFieldsSerializer):
        pool = serializers.IntegerField(min_value=1)
        as_of = BoundedDateTimeField(required=False, allow_null=True, help_text=_("Default: now."))
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


class ReleaseReasonsApi(APIView):
    """``GET /api/release-reasons/``: the active reasons, ``label`` in the request's language."""

    pagination_class = PageNumberPagination

    class OutputSerializer(serializers.ModelSerializer[ReleaseReason]):
        label = serializers.CharField(source="display_label", read_only=True)  # type: ignore[assignment]  # a field, not Field.label

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
