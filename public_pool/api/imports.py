"""``POST /api/imports/`` (admin): import a ``.csv``/``.xlsx`` file into a pool; ``GET`` lists
past imports; ``GET /api/imports/<id>/report/`` downloads one report.

The answer carries the counts, ``report_url`` (the whole per-row report as CSV) and ``rows``:
the first ``PREVIEW_ROWS`` (100) rows of the report in file order, each ``{"row", "result"
(created | duplicate | error), "name", "customer", "reason"}``; ``truncated`` says whether the
report has more. A small file's answer is therefore its whole report; a 100,000-row file's
answer stays small. Synchronous (``public_pool.services.imports`` says why).
"""

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import AuthedRequest, PageNumberPagination, error_responses, paginated_response
from public_pool.api import access
from public_pool.models import ImportBatch
from public_pool.services import imports as import_services


class ImportBatchSerializer(serializers.ModelSerializer[ImportBatch]):
    created_by = serializers.IntegerField(source="created_by_id")
    pool = serializers.IntegerField(source="pool_id")
    created = serializers.IntegerField(source="created_count")
    duplicates = serializers.IntegerField(source="duplicate_count")
    errors = serializers.IntegerField(source="error_count")  # type: ignore[assignment]  # a field, not Serializer.errors
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "pool",
            "created_by",
            "created_at",
            "finished_at",
            "file_name",
            "status",
            "total_rows",
            "created",
            "duplicates",
            "errors",
            "report_url",
        ]
        ref_name = "ImportBatch"

    def get_report_url(self, batch: ImportBatch) -> str | None:
        if not batch.report:
            return None
        url = reverse("api:import-report", args=[batch.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class ReportRowSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text=_("Row number as a spreadsheet shows it (header = 1)."))
    result = serializers.ChoiceField(choices=["created", "duplicate", "error"])
    name = serializers.CharField()
    customer = serializers.IntegerField(
        source="customer_id",
        allow_null=True,
        help_text=_("The new customer, or the one a duplicate matches."),
    )
    reason = serializers.CharField()

    class Meta:
        ref_name = "ImportReportRow"


class ImportCustomersApi(APIView):
    permission_classes = [access.IsAdmin]
    parser_classes = [MultiPartParser, FormParser]
    pagination_class = PageNumberPagination

    class InputSerializer(serializers.Serializer[Any]):
        file = serializers.FileField(help_text=_(".csv or .xlsx with a header row."))
        pool = serializers.IntegerField()

        class Meta:
            ref_name = "ImportInput"

    class OutputSerializer(ImportBatchSerializer):
        rows = ReportRowSerializer(many=True, source="preview_rows")
        truncated = serializers.BooleanField()

        class Meta(ImportBatchSerializer.Meta):
            fields = [*ImportBatchSerializer.Meta.fields, "rows", "truncated"]
            ref_name = "ImportResult"

    @extend_schema(responses={200: ImportBatchSerializer(many=True), **error_responses(401, 403)})
    def get(self, request: AuthedRequest) -> Response:
        batches = ImportBatch.objects.all()
        return paginated_response(
            request=request, view=self, queryset=batches, serializer_class=ImportBatchSerializer
        )

    @extend_schema(
        request=InputSerializer, responses={201: OutputSerializer, **error_responses(400, 401, 403, 404)}
    )
    def post(self, request: AuthedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        result = import_services.import_customers(
            actor=request.user,
            pool_id=serializer.validated_data["pool"],
            file=upload.file,
            file_name=upload.name,
        )
        batch = result.batch
        batch.preview_rows = result.preview  # type: ignore[attr-defined]  # read by the serializer
        batch.truncated = result.truncated  # type: ignore[attr-defined]
        data = self.OutputSerializer(batch, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


class ImportReportApi(APIView):
    permission_classes = [access.IsAdmin]

    @extend_schema(responses={(200, "text/csv"): bytes, **error_responses(401, 403, 404)})
    def get(self, request: AuthedRequest, batch_id: int) -> FileResponse:
        batch = get_object_or_404(ImportBatch, pk=batch_id)
        if not batch.report:
            raise Http404
        return FileResponse(
            batch.report.open("rb"),
            as_attachment=True,
            filename=f"import-{batch.pk}-report.csv",
            content_type="text/csv; charset=utf-8",
        )
