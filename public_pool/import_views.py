"""Admin pages for importing leads into a pool: upload form + history, one import's result,
and its report download. Thin: the form checks shape, ``services.imports.import_customers``
does the work (synchronously; see its module docstring for why)."""

import csv
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from crm_site.exceptions import DomainError
from crm_site.http import AuthenticatedRequest
from public_pool.models import ImportBatch, Pool
from public_pool.services import imports as import_services

HISTORY_PAGE_SIZE = 25


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            ".csv (UTF-8 or GBK) or .xlsx with a header row: name (required), phone, email, industry, "
            "size, region, source, note — or 名称, 电话, 邮箱, 行业, 规模, 地区, 来源, 备注."
        ),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )
    pool = forms.ModelChoiceField(
        label=_("Pool"),
        queryset=Pool.objects.order_by("name"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def _admin_only(request: AuthenticatedRequest) -> None:
    if not request.user.is_admin:
        raise PermissionDenied


def report_preview(batch: ImportBatch, limit: int = import_services.PREVIEW_ROWS) -> list[list[str]]:
    """The first ``limit`` rows of the stored report (streamed; the header row left out)."""
    if not batch.report:
        return []
    rows: list[list[str]] = []
    with batch.report.open("rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader, None)
        for record in reader:
            if len(rows) >= limit:
                break
            rows.append(record)
    return rows


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: AuthenticatedRequest) -> HttpResponse:
    """Upload form and the history of imports, newest first."""
    _admin_only(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = import_services.import_customers(
                actor=request.user,
                pool_id=form.cleaned_data["pool"].pk,
                file=upload.file,
                file_name=upload.name,
            )
        except DomainError as error:
            form.add_error("file", str(error.message))
        else:
            messages.success(request, _("Import finished."))
            return redirect("pool_imports:detail", batch_id=result.batch.pk)
    batches = ImportBatch.objects.select_related("pool", "created_by")
    page = Paginator(batches, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if request.method == "POST" else 200
    return render(request, "public_pool/import_list.html", {"form": form, "page": page}, status=status)


@login_required
@require_GET
def import_detail(request: AuthenticatedRequest, batch_id: int) -> HttpResponse:
    _admin_only(request)
    batch = get_object_or_404(ImportBatch.objects.select_related("pool", "created_by"), pk=batch_id)
    rows = report_preview(batch)
    return render(
        request,
        "public_pool/import_detail.html",
        {"batch": batch, "rows": rows, "truncated": len(rows) < batch.total_rows},
    )


@login_required
@require_GET
def import_report(request: AuthenticatedRequest, batch_id: int) -> FileResponse:
    """The whole report as CSV (UTF-8 with BOM, so Excel opens Chinese text correctly)."""
    _admin_only(request)
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    if not batch.report:
        raise Http404
    return FileResponse(
        batch.report.open("rb"),
        as_attachment=True,
        filename=f"import-{batch.pk}-report.csv",
        content_type="text/csv; charset=utf-8",
    )
