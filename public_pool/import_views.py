"""Admin pages for importing leads into a pool, mounted at ``/pool/imports/``.

Upload (``import_list``, with the history and the templates to download) → the mapping step
(``import_mapping``: every column with its field, the columns left out, the first rows as they
will be imported; htmx refreshes the preview on each change) → the import page
(``import_detail``: progress polled by htmx from ``import_progress`` while the Celery task
runs, then the report). Thin: forms check shape, ``services.imports`` does the work.
"""

import io
from typing import Any

import openpyxl
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_site import spreadsheets
from crm_site.exceptions import DomainError
from public_pool.models import ImportBatch, ImportStatus, Pool
from public_pool.services import import_files
from public_pool.services import imports as import_services

HISTORY_PAGE_SIZE = 25


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            ".csv (UTF-8 or GBK) or .xlsx with a header row. You check which column goes where "
            "before anything is imported."
        ),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,.xlsx"}),
    )
    pool = forms.ModelChoiceField(
        label=_("Pool"),
        queryset=Pool.objects.order_by("name"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )


def _field_choices() -> list[tuple[str, Any]]:
    return [
        ("", _("— leave out —")),
        *((name, import_files.field_label(name).capitalize()) for name in import_files.FIELDS),
    ]


class MappingForm(forms.Form):
    """One select per column of the file: the field it goes to, or left out."""

    def __init__(self, *args: Any, batch: ImportBatch, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batch = batch
        choices = _field_choices()
        for index, cell in enumerate(batch.header):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=cell or import_files.column_letter(index),
                choices=choices,
                required=False,
                initial=batch.mapping[index],
                widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
            )

    def mapping(self) -> list[str]:
        """The chosen fields, per column (the draft's own when the form is unbound or invalid)."""
        if not self.is_bound or not self.is_valid():
            return list(self.batch.mapping)
        return [self.cleaned_data[f"column_{index}"] for index in range(len(self.batch.header))]


def _admin_only(request: HttpRequest) -> None:
    if not request.user.is_admin:  # type: ignore[union-attr]
        raise PermissionDenied


def _batch(batch_id: int) -> ImportBatch:
    return get_object_or_404(ImportBatch.objects.select_related("pool", "created_by"), pk=batch_id)


@login_required
@require_http_methods(["GET", "POST"])
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload form, templates and the history of imports, newest first."""
    _admin_only(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = import_services.create_import(
                actor=request.user,  # type: ignore[arg-type]
                pool_id=form.cleaned_data["pool"].pk,
                file=upload.file,
                file_name=upload.name,
                start=False,
            )
        except DomainError as error:
            form.add_error("file", str(error.message))
        else:
            return redirect("pool_imports:mapping", batch_id=batch.pk)
    batches = ImportBatch.objects.exclude(status=ImportStatus.DRAFT).select_related("pool", "created_by")
    page = Paginator(batches, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    status = 400 if request.method == "POST" else 200
    return render(request, "public_pool/import_list.html", {"form": form, "page": page}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The mapping step of a draft: change the columns' fields, see the preview, start."""
    _admin_only(request)
    batch = _batch(batch_id)
    if batch.status != ImportStatus.DRAFT:
        return redirect("pool_imports:detail", batch_id=batch.pk)
    form = MappingForm(request.POST or None, batch=batch)
    mapping = form.mapping()
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") == "start":
                import_services.start_import(actor=request.user, batch_id=batch.pk, mapping=mapping)  # type: ignore[arg-type]
                messages.success(request, _("The import has started; this page shows its progress."))
                return redirect("pool_imports:detail", batch_id=batch.pk)
            batch = import_services.set_mapping(actor=request.user, batch_id=batch.pk, mapping=mapping)  # type: ignore[arg-type]
        except DomainError as domain_error:
            error = str(domain_error.message)
    context = {
        "batch": batch,
        "form": form,
        "preview": import_services.preview_import(batch, mapping),
        "error": error,
    }
    if request.headers.get("HX-Request"):
        return render(request, "public_pool/_import_preview.html", context)
    return render(request, "public_pool/import_mapping.html", context, status=400 if error else 200)


def _progress_context(batch: ImportBatch) -> dict[str, Any]:
    finished = batch.status in (ImportStatus.DONE, ImportStatus.FAILED)
    rows = import_services.report_preview(batch) if finished else []
    return {
        "batch": batch,
        "rows": rows,
        "truncated": len(rows) < batch.processed_rows,
        "stalled": import_services.is_stalled(batch),
        "unmapped": import_files.unmapped_columns(batch.header, batch.mapping),
    }


@login_required
@require_GET
def import_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    _admin_only(request)
    batch = _batch(batch_id)
    if batch.status == ImportStatus.DRAFT:
        return redirect("pool_imports:mapping", batch_id=batch.pk)
    return render(request, "public_pool/import_detail.html", _progress_context(batch))


@login_required
@require_GET
def import_progress(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The progress block alone, polled by htmx while the import is queued or running."""
    _admin_only(request)
    return render(request, "public_pool/_import_progress.html", _progress_context(_batch(batch_id)))


@login_required
@require_POST
def import_resume(request: HttpRequest, batch_id: int) -> HttpResponse:
    _admin_only(request)
    try:
        import_services.resume_import(actor=request.user, batch_id=_batch(batch_id).pk)  # type: ignore[arg-type]
    except DomainError as error:
        messages.error(request, str(error.message))
    else:
        messages.success(request, _("The import continues after the last row it imported."))
    return redirect("pool_imports:detail", batch_id=batch_id)


@login_required
@require_GET
def import_report(request: HttpRequest, batch_id: int) -> FileResponse:
    """The whole report as CSV (UTF-8 with BOM, so Excel opens Chinese text correctly)."""
    _admin_only(request)
    batch = get_object_or_404(ImportBatch, pk=batch_id)
    if not batch.report_bytes:
        raise Http404
    response = FileResponse(
        import_services.open_report(batch),
        as_attachment=True,
        filename=f"import-{batch.pk}-report.csv",
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Length"] = str(batch.report_bytes)
    return response


@login_required
@require_GET
def import_template(request: HttpRequest, language: str, file_format: str) -> HttpResponse:
    """An empty file to fill in: every column the importer knows, one example row."""
    _admin_only(request)
    if language not in import_files.TEMPLATE_HEADERS or file_format not in ("csv", "xlsx"):
        raise Http404
    header = import_files.TEMPLATE_HEADERS[language]
    example = import_files.TEMPLATE_EXAMPLE[language]
    filename = f"leads-template-{language}.{file_format}"
    if file_format == "csv":
        return spreadsheets.csv_response(header, [example], filename=filename)
    workbook = openpyxl.Workbook()
    sheet = workbook.worksheets[0]
    sheet.append(header)
    sheet.append(example)
    for index, cell in enumerate(header):
        sheet.column_dimensions[import_files.column_letter(index)].width = max(14, len(cell) * 2 + 2)
    out = io.BytesIO()
    workbook.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
