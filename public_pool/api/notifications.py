"""Extension requests and the caller's notifications."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import AuthedRequest, PageNumberPagination, error_responses, paginated_response
from public_pool import selectors, services
from public_pool.api import access
from public_pool.models import (
    ExtensionRequest,
    Notification,
    NotificationKind,
)


class ExtensionRequestOutputSerializer(serializers.ModelSerializer[ExtensionRequest]):
    customer = serializers.IntegerField(source="customer_id", read_only=True)
    owner = serializers.IntegerField(source="owner_id", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", allow_null=True, read_only=True)
    reason = serializers.CharField(source="note", read_only=True, help_text=_("Why the rep asks."))

    class Meta:
        model = ExtensionRequest
        ref_name = "ExtensionRequest"
        fields = [
            "id",
            "customer",
            "owner",
            "days",
            "reason",
            "note",
            "status",
            "requested_at",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class RequestExtensionApi(APIView):
    """``POST /api/customers/{id}/extension/`` ``{"reason", "days"?}``: the owner asks once per
    ownership to push the recycle deadline out (409 ``extension_already_requested``).

    ``reason`` is required (400 ``invalid`` with ``fields.reason`` when blank); ``days`` is at
    most the pool's ``max_extension_days`` (400 with ``fields.days``). ``note`` is the older
    name of ``reason`` and still accepted.
    """

    class InputSerializer(serializers.Serializer[Any]):
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=1000,
            help_text=_("Why more time is needed."),
        )
        days = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text=_("Days asked for: 1 to the pool's max_extension_days; default 14 or that maximum."),
        )
        note = serializers.CharField(
            required=False,
            allow_blank=True,
            default="",
            max_length=1000,
            help_text=_("Older name of reason."),
        )

        class Meta:
            ref_name = "ExtensionRequestInput"

    @extend_schema(
        operation_id="customers_extension_request",
        summary=_("Ask for more time before recycling"),
        request=InputSerializer,
        responses={201: ExtensionRequestOutputSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: AuthedRequest, customer_id: int) -> Response:
        access.visible_customer_or_404(request.user, customer_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        extension = services.request_extension(
            rep=request.user,
            customer_id=customer_id,
            reason=data["reason"] or data["note"],
            days=data["days"],
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
    manager or an admin (409 ``extension_decided`` when someone already did; 409
    ``customer_left`` when approving for a customer no longer the rep's — nothing changes)."""

    class InputSerializer(serializers.Serializer[Any]):
        approve = serializers.BooleanField()
        days = serializers.IntegerField(
            required=False,
            allow_null=True,
            default=None,
            help_text=_("Days granted: 1 to the pool's max_extension_days; default: the days asked for."),
        )
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
        access.visible_extension_request_or_404(request.user, request_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        decided = services.decide_extension(
            actor=request.user, request_id=request_id, **serializer.validated_data
        )
        return Response(ExtensionRequestOutputSerializer(decided).data)


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
