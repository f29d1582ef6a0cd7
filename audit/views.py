"""The audit log page (admins): filters, pages of 50, and the same entries as CSV."""

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from audit import selectors
from audit.labels import field_label, object_text, value_text
from audit.models import AuditArea, AuditEntry
from crm_site import spreadsheets
from crm_site.db_routers import replica_alias
from crm_site.streaming import stream

PAGE_SIZE = 50


class AuditFilterForm(forms.Form):
    area = forms.ChoiceField(
        label=_("Area"),
        required=False,
        choices=[("", _("Every area")), *AuditArea.choices],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    actor = forms.ModelChoiceField(
        label=_("Changed by"),
        required=False,
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        empty_label=_("Anyone"),
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control form-control-sm"}),
    )


def _entries(request: HttpRequest) -> tuple[AuditFilterForm, Any]:
    if not request.user.is_admin:  # type: ignore[union-attr]
        raise PermissionDenied
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = {
            "area": data["area"],
            "actor_id": data["actor"].pk if data["actor"] else None,
            "since": data["since"],
            "until": data["until"],
        }
    return form, selectors.audit_entries(**filters)


def _rows(entry: AuditEntry) -> list[tuple[str, str, str]]:
    return [
        (field_label(name), value_text(before, name), value_text(after, name))
        for name, (before, after) in entry.changes.items()
    ]


@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
    form, entries = _entries(request)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    for entry in page.object_list:
        entry.rows = _rows(entry)
        entry.object_text = object_text(entry.area, entry.object_id, entry.object_label)
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/audit_log.html", {"form": form, "page": page, "query": query.urlencode()})


@login_required
@require_GET
def audit_csv(request: HttpRequest) -> StreamingHttpResponse:
    """Every entry the filters match, one line per changed value (streamed)."""
    _form, entries = _entries(request)

    def lines() -> Any:
        # Read while the response streams: from the read replica when there is one.
        for entry in stream(entries.using(replica_alias()), chunk_size=500):
            for label, before, after in _rows(entry) or [("", "", "")]:
                yield [
                    timezone.localtime(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
                    str(entry.actor or ""),
                    entry.get_area_display(),
                    entry.get_action_display(),
                    object_text(entry.area, entry.object_id, entry.object_label),
                    label,
                    before,
                    after,
                ]

    header = [
        _("When"),
        _("Changed by"),
        _("Area"),
        _("Action"),
        _("What"),
        _("Setting"),
        _("Before"),
        _("After"),
    ]
    return spreadsheets.streaming_csv_response(header, lines(), filename="audit-log.csv")
