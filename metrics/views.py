"""The KPI dashboards at ``/metrics/`` (``metrics:dashboard``).

One page for everyone, laid out by scope: a company or team scope (admins, managers) shows
the KPI overview, trends, the deal funnel, pool utilisation, the per-rep leaderboard, churn
warnings and campaign effectiveness; a rep scope (a rep on their own page, or a manager
looking at one of their reps) shows the rep's figures against their targets, the trends,
the funnel, pool utilisation, a link to the scorecard and the at-risk customers.

Input (GET, so a view can be bookmarked and shared):
- ``period``: ``this_week``, ``last_week``, ``this_month`` (default: compared with last month,
  so the trends have a few weekly points), ``last_month``,
  ``this_quarter``, ``last_quarter``, ``this_year``, ``last_year`` or ``custom`` with ``from``
  and ``to`` (ISO dates, both days included; at most ``MAX_CUSTOM_DAYS`` long);
- ``grain``: ``week`` or ``month`` for the trend charts (default: weeks up to a quarter,
  months beyond);
- ``scope``: ``company``, ``team`` or ``rep`` with ``id``; one the user may not see is a 404
  (``metrics.selectors.visible_scope``). Default: see ``selectors.default_scope``.
- ``export=csv&table=<name>``: the named table of the page as CSV (``metrics.exports``).

The panels and their tables are built by ``metrics.dashboard.Dashboard``; this module parses
the input, checks the scope and renders. Bad input answers 400 with the page, the picker and a
message that says what is wrong, and no figures. Each panel is a fixed number of queries, so the page costs the same for a week or a
year (asserted in ``tests/metrics/test_views.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_GET

from crm_site.bounds import DayRangeValidator
from crm_site.db_routers import replica_reads
from crm_site.http import AuthenticatedRequest
from metrics import selectors
from metrics.dashboard import LIST_PAGE_SIZE, Dashboard, chart_data
from metrics.exports import csv_response
from metrics.periods import Grain, Period, Scope, ScopeKind, default_grain, local_today, preset_period
from metrics.selectors import rollups, scorecard

MAX_CUSTOM_DAYS = 5 * 366  # a custom period longer than five years is refused
LEADERBOARD_PAGE_SIZE = 25


PRESETS: dict[str, Any] = {
    "this_week": gettext_lazy("This week"),
    "last_week": gettext_lazy("Last week"),
    "this_month": gettext_lazy("This month"),
    "last_month": gettext_lazy("Last month"),
    "this_quarter": gettext_lazy("This quarter"),
    "last_quarter": gettext_lazy("Last quarter"),
    "this_year": gettext_lazy("This year"),
    "last_year": gettext_lazy("Last year"),
    "custom": gettext_lazy("Custom dates"),
}


class DashboardForm(forms.Form):
    """The period and scope picker. Shape only: which scope the user may see is
    ``selectors.visible_scope``'s business."""

    period = forms.ChoiceField(
        label=pgettext_lazy("time span", "Period"), choices=list(PRESETS.items()), required=False
    )
    grain = forms.ChoiceField(
        label=gettext_lazy("Trend by"),
        choices=[
            ("", gettext_lazy("Automatic")),
            ("week", gettext_lazy("Week")),
            ("month", gettext_lazy("Month")),
        ],
        required=False,
    )
    scope = forms.ChoiceField(
        label=gettext_lazy("Scope"),
        choices=[(kind.value, kind.value) for kind in selectors.DASHBOARD_SCOPE_KINDS],
        required=False,
    )
    id = forms.IntegerField(label=gettext_lazy("Team or person"), required=False, min_value=1)
    # The picker's single select: "company", "team-<id>" or "rep-<id>" (scope and id in one).
    who = forms.RegexField(
        label=gettext_lazy("Whose figures"), regex=r"^(company|team-\d+|rep-\d+)$", required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        date_input = forms.DateInput(
            attrs={"type": "date", "class": "form-control form-control-sm"}, format="%Y-%m-%d"
        )
        # "from" is a Python keyword, so these two are added here rather than declared above.
        bounded = [DayRangeValidator()]
        self.fields["from"] = forms.DateField(
            label=gettext_lazy("From"), required=False, widget=date_input, validators=bounded
        )
        self.fields["to"] = forms.DateField(
            label=gettext_lazy("To (included)"), required=False, widget=date_input, validators=bounded
        )
        for name in ("period", "grain"):
            self.fields[name].widget.attrs["class"] = "form-select form-select-sm"

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        preset = data.get("period") or ("custom" if data.get("from") or data.get("to") else "this_month")
        data["period"] = preset
        if preset == "custom":
            start, last = data.get("from"), data.get("to")
            if start is None or last is None:
                raise forms.ValidationError(
                    _("A custom period needs both a start and an end date."), code="incomplete"
                )
            if last < start:
                raise forms.ValidationError(
                    _("The end date %(to)s is before the start date %(from)s.")
                    % {"to": last.isoformat(), "from": start.isoformat()},
                    code="reversed",
                )
            if (last - start).days + 1 > MAX_CUSTOM_DAYS:
                raise forms.ValidationError(
                    _("A period can be at most five years long; choose a shorter one."), code="too_long"
                )
            data["period_value"] = Period(start, last + dt.timedelta(days=1))
        else:
            data["period_value"] = preset_period(preset, today=local_today())
        if data.get("who"):
            kind, _sep, key = data["who"].partition("-")
            data["scope"], data["id"] = kind, int(key) if key else None
        period: Period = data["period_value"]
        data["grain_value"] = Grain(data["grain"]) if data.get("grain") else default_grain(period)
        if data.get("scope") == ScopeKind.COMPANY:
            data["id"] = None
        return data


def _page(items: Any, *, number: str | None, size: int) -> Page:
    return Paginator(items, size).get_page(number)


def _scorecard_url(scope: Scope, period: Period) -> str:
    """The scorecard page (``metrics.scorecard_views``) of a team or rep for the quarter the
    period starts in."""
    quarter = scorecard.quarter_label(scorecard.quarter_of(period.start))
    return (
        reverse("scorecard:page")
        + "?"
        + urlencode({"scope": f"{scope.kind.value}-{scope.key}", "quarter": quarter})
    )


@login_required
@require_GET
@replica_reads()  # figures only: from the read replica when there is one (crm_site/db_routers.py)
@rollups.shared_reads()  # the KPIs of one request share their reads of the roll-ups
def dashboard(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = DashboardForm(request.GET or None)
    choices = selectors.scope_choices(user=user)
    context: dict[str, Any] = {"form": form, "choices": choices, "presets": PRESETS}
    if request.GET and not form.is_valid():
        return render(request, "metrics/dashboard.html", context, status=400)
    data = form.cleaned_data if request.GET else form_defaults()
    if data.get("scope"):
        scope = selectors.visible_scope(user=user, kind=data["scope"], key=data.get("id"))
    else:
        scope = selectors.default_scope(user=user)
    query = {
        "period": data["period"],
        "from": data["from"].isoformat() if data.get("from") and data["period"] == "custom" else "",
        "to": data["to"].isoformat() if data.get("to") and data["period"] == "custom" else "",
        "grain": request.GET.get("grain", "") if data.get("grain") else "",
        "scope": scope.kind.value,
        "id": str(scope.key) if scope.key is not None else "",
    }
    board = Dashboard(
        user=user, period=data["period_value"], scope=scope, grain=data["grain_value"], query=query
    )

    if request.GET.get("export") == "csv":
        builder = board.table_builders().get(request.GET.get("table", ""))
        if builder is None:
            raise Http404
        return csv_response(builder(), filename=board.csv_filename(request.GET["table"]))

    builders = board.table_builders()
    tables = {name: builder for name, builder in builders.items() if name not in ("leaderboard", "churn")}
    built = {name: builder() for name, builder in tables.items()}
    if "leaderboard" in builders:
        leader_page = _page(
            board.leaderboard, number=request.GET.get("leaderboard_page"), size=LEADERBOARD_PAGE_SIZE
        )
        built["leaderboard"] = board.leaderboard_table(
            list(leader_page.object_list),
            offset=leader_page.start_index() - 1 if leader_page.object_list else 0,
        )
        context["leaderboard_page"] = leader_page
    churn_page = _page(board.churn_flags(), number=request.GET.get("churn_page"), size=LIST_PAGE_SIZE)
    built["churn"] = board.churn_table(list(churn_page.object_list))
    context["churn_page"] = churn_page

    context.update(
        board=board,
        tables=built,
        period=board.period,
        previous=board.period.previous(),
        scope=scope,
        scope_name=selectors.scope_label(scope=scope),
        scorecard_url=_scorecard_url(scope, board.period) if scope.kind is not ScopeKind.COMPANY else "",
        chart_data=chart_data(board, built),
        export_query=board.url(),
    )
    return render(request, "metrics/dashboard.html", context)


def form_defaults() -> dict[str, Any]:
    period = preset_period("this_month", today=local_today())
    return {
        "period": "this_month",
        "period_value": period,
        "grain_value": default_grain(period),
        "scope": "",
        "id": None,
    }
