"""Lead imports in the background (admins; API.md "Imports").

- ``POST /api/imports/``: multipart ``file``, ``pool`` and optional ``mapping`` (JSON object,
  column header → field, ``""`` = leave the column out). The file is checked and stored, the
  run queued: 202 with ``id``, ``status`` (``queued``) and ``url`` (where to poll).
- ``GET /api/imports/{id}/``: ``status`` (``queued``, ``running``, ``done``, ``failed``),
  ``total``, ``processed``, the counts ``created``, ``duplicate``, ``error``, the columns left
  out (``unmapped``), and once done or failed ``rows`` (the first 100 rows of the report,
  ``truncated`` if there are more) and ``report_url`` (the whole report as CSV).
- ``GET /api/imports/``: past imports, newest first; ``GET /api/imports/{id}/report/``.

Imports a page has uploaded but not started (``draft``) are not shown here.
"""

import json
from typing import Any

from django.db.models import QuerySet
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
from public_pool.models import ImportBatch, ImportStatus
from public_pool.services import import_files
from public_pool.services import imports as import_services

API_STATUSES = [ImportStatus.QUEUED, ImportStatus.RUNNING, ImportStatus.DONE, ImportStatus.FAILED]
API_STATUS_VALUES = [str(s) for s in API_STATUSES]  # the schema's enum (drafts are pages only)


def _started_imports() -> QuerySet[ImportBatch]:
    return ImportBatch.objects.filter(status__in=API_STATUSES)


def _absolute(request: Any, url: str) -> str:
    return request.build_absolute_uri(url) if request else url


class ImportBatchSerializer(serializers.ModelSerializer[ImportBatch]):
    created_by = serializers.IntegerField(source="created_by_id")
    pool = serializers.IntegerField(source="pool_id")
    status = serializers.ChoiceField(choices=API_STATUS_VALUES)
    total = serializers.IntegerField(
        source="total_rows", help_text=_("Non-blank rows in the file (0 until counted).")
    )
    processed = serializers.IntegerField(source="processed_rows")
    created = serializers.IntegerField(source="created_count")
    duplicate = serializers.IntegerField(source="duplicate_count")
    error = serializers.IntegerField(source="error_count")
    error_message = serializers.CharField(help_text=_("Why a failed import stopped, and at which row."))
    url = serializers.SerializerMethodField()
    report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportBatch
        fields = [
            "id",
            "url",
            "pool",
            "created_by",
            "created_at",
            "finished_at",
            "file_name",
            "status",
            "total",
            "processed",
            "created",
            "duplicate",
            "error",
            "error_message",
            "report_url",
        ]
        ref_name = "ImportBatch"

    def get_url(self, batch: ImportBatch) -> str:
        return _absolute(self.context.get("request"), reverse("api:import-detail", args=[batch.pk]))

    def get_report_url(self, batch: ImportBatch) -> str | None:
        if batch.status not in (ImportStatus.DONE, ImportStatus.FAILED) or not batch.report_bytes:
            return None
        return _absolute(self.context.get("request"), reverse("api:import-report", args=[batch.pk]))


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
        mapping = serializers.CharField(
            required=False,
            help_text=_(
                'JSON object: column header → field ("" leaves the column out); other columns as detected.'
            ),
        )

        class Meta:
            ref_name = "ImportInput"

        def validate_mapping(self, value: str) -> dict[str, str]:
            try:
                mapping = json.loads(value)
            except ValueError:
                raise serializers.ValidationError(_("Not valid JSON.")) from None
            if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and (not v or v in import_files.FIELDS)
                for k, v in mapping.items()
            ):
                raise serializers.ValidationError(
                    _("An object of column header → one of: %(fields)s.")
                    % {"fields": ", ".join(import_files.FIELDS)}
                )
            return mapping

    class OutputSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        status = serializers.ChoiceField(choices=API_STATUS_VALUES)
        url = serializers.CharField()

        class Meta:
            ref_name = "ImportQueued"

    @extend_schema(responses={200: ImportBatchSerializer(many=True), **error_responses(401, 403)})
    def get(self, request: AuthedRequest) -> Response:
        return paginated_response(
            request=request, view=self, queryset=_started_imports(), serializer_class=ImportBatchSerializer
        )

    @extend_schema(
        request=InputSerializer, responses={202: OutputSerializer, **error_responses(400, 401, 403, 404)}
    )
    def post(self, request: AuthedRequest) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        batch = import_services.create_import(
            actor=request.user,
            pool_id=serializer.validated_data["pool"],
            file=upload.file,
            file_name=upload.name,
            mapping=serializer.validated_data.get("mapping"),
        )
        url = _absolute(request, reverse("api:import-detail", args=[batch.pk]))
        data = self.OutputSerializer({"id": batch.pk, "status": batch.status, "url": url}).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": url})


class ImportDetailApi(APIView):
    permission_classes = [access.IsAdmin]

    class OutputSerializer(ImportBatchSerializer):
        unmapped = serializers.SerializerMethodField(help_text=_("Columns of the file left out."))
        rows = ReportRowSerializer(many=True, source="preview_rows")
        truncated = serializers.BooleanField()

        class Meta(ImportBatchSerializer.Meta):
            fields = [*ImportBatchSerializer.Meta.fields, "unmapped", "rows", "truncated"]
            ref_name = "ImportDetail"

        def get_unmapped(self, batch: ImportBatch) -> list[str]:
            return import_files.unmapped_columns(batch.header, batch.mapping)

    @extend_schema(responses={200: OutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: AuthedRequest, batch_id: int) -> Response:
        batch = get_object_or_404(_started_imports(), pk=batch_id)
        finished = batch.status in (ImportStatus.DONE, ImportStatus.FAILED)
        rows = import_services.report_preview(batch) if finished else []
        batch.preview_rows = rows  # type: ignore[attr-defined]
        batch.truncated = batch.processed_rows > len(rows)  # type: ignore[attr-defined]
        return Response(self.OutputSerializer(batch, context={"request": request}).data)


class ImportReportApi(APIView):
    permission_classes = [access.IsAdmin]

    @extend_schema(responses={(200, "text/csv"): bytes, **error_responses(401, 403, 404)})
    def get(self, request: AuthedRequest, batch_id: int) -> FileResponse:
        batch = get_object_or_404(_started_imports(), pk=batch_id)
        if not batch.report_bytes:
            raise Http404
        return FileResponse(
            batch.report.open("rb"),
            as_attachment=True,
            filename=f"import-{batch.pk}-report.csv",
            content_type="text/csv; charset=utf-8",
        )
