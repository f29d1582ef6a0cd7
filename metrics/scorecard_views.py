"""Scorecard pages: admins set KPI targets, weights and the cap (``/metrics/settings/…``, 403 for
anyone else); everyone reads the scorecards they may see (``/metrics/scorecard/``: a rep their
own, a manager their teams and reps, an admin all; another scope is a 404) and exports them.

The scope is ``?scope=rep-<id>`` or ``team-<id>`` (targets also take ``everyone``), the quarter
``?quarter=2025-Q1`` (default: this quarter). A bad POST re-renders with status 400 and saves
nothing (the services validate everything before writing).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from crm_site import spreadsheets
from crm_site.db_routers import replica_reads
from crm_site.http import AuthenticatedRequest
from customers.models import Team, User
from metrics import exceptions, kpis
from metrics.forms import CapForm, TargetFormSet, WeightFormSet, add_service_errors
from metrics.periods import Period, Scope, ScopeKind, local_today
from metrics.selectors import scorecard
from metrics.services import scorecard as scorecard_services

QUARTERS_BACK = 8


def admin_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _quarter(request: AuthenticatedRequest) -> Period:
    """``?quarter=`` (default: this quarter); one that does not parse or is out of range is a 400."""
    text = request.GET.get("quarter", "")
    if not text:
        return scorecard.quarter_of(local_today())
    quarter = scorecard.parse_quarter(text)
    if quarter is None:
        raise BadRequest(f"quarter {text[:20]!r}")
    return quarter


def _quarter_choices(selected: Period) -> list[tuple[str, str]]:
    """This quarter, the next one and the eight before it (plus ``selected`` if outside)."""
    today = scorecard.quarter_of(local_today())
    quarters = [scorecard.quarter_of(today.end)]
    cursor = today
    for _index in range(QUARTERS_BACK + 1):
        quarters.append(cursor)
        cursor = cursor.previous()
    if selected not in quarters:
        quarters.append(selected)
    labels = [scorecard.quarter_label(q) for q in sorted(quarters, key=lambda q: q.start, reverse=True)]
    return [(label, label) for label in labels]


def _scope_key(kind: str, pk: int) -> str:
    return f"{kind}-{pk}"


def _parse_scope_key(text: str) -> tuple[str, int] | None:
    kind, _sep, number = text.partition("-")
    if kind not in ("rep", "team") or not number.isdigit():
        return None
    return kind, int(number)


def _self_url(request: AuthenticatedRequest, name: str, **params: str) -> str:
    return f"{reverse(name)}?{urlencode(params)}"


def _definitions(codes: list[str]) -> dict[str, kpis.KpiDef | None]:
    registry = kpis.load()
    return {code: registry.get(code) for code in codes}


# --- targets ------------------------------------------------------------------------------------


def _target_scope(text: str) -> tuple[scorecard.TargetScope, str]:
    """``everyone`` / ``team-<id>`` / ``rep-<id>`` → the scope and its name (404 if unknown)."""
    if text in ("", "everyone"):
        return scorecard.TargetScope(), "everyone"
    parsed = _parse_scope_key(text)
    if parsed is None:
        raise Http404
    kind, pk = parsed
    if kind == "rep":
        if not User.objects.filter(pk=pk).exists():
            raise Http404
        return scorecard.TargetScope(rep_id=pk), text
    if not Team.objects.filter(pk=pk).exists():
        raise Http404
    return scorecard.TargetScope(team_id=pk), text


@admin_only
def targets(request: AuthenticatedRequest) -> HttpResponse:
    """A formset of every KPI's target for one scope and quarter; empty = no target."""
    quarter = _quarter(request)
    target_scope, scope_key = _target_scope(request.GET.get("scope", ""))
    stored = scorecard.stored_targets(target_scope=target_scope, quarter=quarter.start)
    codes = list(kpis.load())
    codes += [code for code in stored if code not in codes]
    status = 200
    problems: dict[str, str] = {}
    if request.method == "POST":
        formset = TargetFormSet(request.POST, prefix="targets")
        if formset.is_valid():
            values = {form.cleaned_data["kpi"]: form.cleaned_data.get("target") for form in formset}
            try:
                scorecard_services.set_kpi_targets(
                    actor=request.user,
                    quarter=quarter.start,
                    target_scope=target_scope,
                    targets=values,
                )
            except exceptions.ScorecardInvalid as error:
                problems = _attach_row_errors(formset, error.fields, field="target")
            else:
                messages.success(request, _("Targets saved."))
                return redirect(
                    _self_url(
                        request,
                        "scorecard:targets",
                        quarter=scorecard.quarter_label(quarter),
                        scope=scope_key,
                    )
                )
        status = 400
    else:
        formset = TargetFormSet(
            initial=[{"kpi": code, "target": stored.get(code)} for code in codes], prefix="targets"
        )
    _label_rows(formset)
    teams = list(Team.objects.order_by("name"))
    reps = list(User.objects.filter(is_active=True).order_by("username"))
    scope_choices = [("everyone", _("Everyone (default)"))]
    scope_choices += [(_scope_key("team", t.pk), _("Team: %(name)s") % {"name": t}) for t in teams]
    scope_choices += [(_scope_key("rep", u.pk), _("Person: %(name)s") % {"name": u}) for u in reps]
    return render(
        request,
        "metrics/scorecard/targets.html",
        {
            "formset": formset,
            "problems": problems,
            "quarter": quarter,
            "quarter_label": scorecard.quarter_label(quarter),
            "quarter_choices": _quarter_choices(quarter),
            "scope_key": scope_key,
            "scope_choices": scope_choices,
            "scope_name": dict(scope_choices).get(scope_key, scope_key),
        },
        status=status,
    )


def _attach_row_errors(formset: Any, errors: dict[str, str], *, field: str) -> dict[str, str]:
    """Put per-KPI errors on their rows; return the others (``weights``, ``quarter``, …)."""
    rest = dict(errors)
    for form in formset:
        code = form.cleaned_data.get("kpi")
        if code in rest:
            form.add_error(field, rest.pop(code))
    return rest


def _label_rows(formset: Any) -> None:
    """Give each row its KPI definition (label, unit, direction) for the template."""
    codes = [form["kpi"].value() for form in formset]
    definitions = _definitions([code for code in codes if code])
    for form, code in zip(formset, codes, strict=True):
        definition = definitions.get(code)
        # Plain attributes: a template would call a KpiDef (it is callable) instead of reading it.
        form.kpi_code = code
        form.kpi_known = definition is not None
        form.kpi_label = definition.label if definition else code
        form.kpi_lower_is_better = definition is not None and not definition.higher_is_better
        form.kpi_unit = unit_symbol(definition.unit) if definition else ""


def unit_symbol(unit: kpis.Unit) -> str:
    """What stands beside a target's input: "%", "¥" (amounts are in yuan), "days", "hours";
    nothing for counts and scores."""
    return {
        kpis.Unit.PERCENT: "%",
        kpis.Unit.MONEY: "¥",
        kpis.Unit.DAYS: _("days"),
        kpis.Unit.HOURS: _("hours"),
    }.get(unit, "")


# --- weights and cap ------------------------------------------------------------------------------


@admin_only
def weights(request: AuthenticatedRequest) -> HttpResponse:
    """The chosen KPIs' weights (summing to 100 %) and the cap (at least 100 %)."""
    config = scorecard.current_config()
    codes = list(kpis.load())
    codes += [code for code in config.weights if code not in codes]
    status = 200
    problems: dict[str, str] = {}
    if request.method == "POST":
        formset = WeightFormSet(request.POST, prefix="weights")
        cap_form = CapForm(request.POST)
        if formset.is_valid() and cap_form.is_valid():
            values = {form.cleaned_data["kpi"]: form.cleaned_data.get("weight") for form in formset}
            try:
                scorecard_services.update_scorecard(
                    actor=request.user,
                    weights=values,
                    cap=cap_form.cleaned_data["cap"],
                )
            except exceptions.ScorecardInvalid as error:
                rest = add_service_errors(cap_form, error.fields)
                problems = _attach_row_errors(formset, rest, field="weight")
            else:
                messages.success(request, _("Scorecard weights and cap saved."))
                return redirect("scorecard:weights")
        status = 400
    else:
        formset = WeightFormSet(
            initial=[{"kpi": code, "weight": config.weights.get(code)} for code in codes], prefix="weights"
        )
        cap_form = CapForm(initial={"cap": config.cap})
    _label_rows(formset)
    return render(
        request,
        "metrics/scorecard/weights.html",
        {"formset": formset, "cap_form": cap_form, "problems": problems},
        status=status,
    )


# --- the scorecard --------------------------------------------------------------------------------


def _requested_scope(request: AuthenticatedRequest) -> tuple[Scope, str]:
    """The scope asked for, if the user may see it (else 404); default: a rep themselves, a
    manager or admin their (first) team, or themselves when they have none."""
    user = request.user
    text = request.GET.get("scope", "")
    if text:
        parsed = _parse_scope_key(text)
        if parsed is None:
            raise Http404
        kind, pk = parsed
        scope = Scope.rep(pk) if kind == "rep" else Scope.team(pk)
        if not scorecard.scope_visible_to(user=user, scope=scope):
            raise Http404
        return scope, text
    team = scorecard.teams_visible_to(user=user).first() if not user.is_rep else None
    if team is not None:
        return Scope.team(team.pk), _scope_key("team", team.pk)
    return Scope.rep(user.pk), _scope_key("rep", user.pk)


def _scope_name(scope: Scope) -> str:
    if scope.kind is ScopeKind.TEAM:
        return str(Team.objects.get(pk=scope.object_id))
    return str(User.objects.get(pk=scope.object_id))


@login_required
@require_GET
@replica_reads()  # figures only: from the read replica when there is one
def scorecard_page(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    scope, scope_key = _requested_scope(request)
    quarter = _quarter(request)
    card = scorecard.scorecard(scope=scope, quarter=quarter)
    choices: list[tuple[str, str]] = []
    if not user.is_rep:
        choices += [
            (_scope_key("team", t.pk), _("Team: %(name)s") % {"name": t})
            for t in scorecard.teams_visible_to(user=user)
        ]
        choices += [
            (_scope_key("rep", u.pk), _("Person: %(name)s") % {"name": u})
            for u in scorecard.reps_visible_to(user=user)
        ]
    quarter_label = scorecard.quarter_label(quarter)
    return render(
        request,
        "metrics/scorecard/scorecard.html",
        {
            "card": card,
            "scope_key": scope_key,
            "scope_name": _scope_name(scope),
            "scope_choices": choices,
            "quarter_label": quarter_label,
            "quarter_choices": _quarter_choices(quarter),
            "csv_url": _self_url(request, "scorecard:export", scope=scope_key, quarter=quarter_label),
        },
    )


@login_required
@require_GET
@replica_reads()
def scorecard_csv(request: AuthenticatedRequest) -> HttpResponse:
    """The scorecard table as CSV (UTF-8 with BOM for Excel): one row per KPI and a total row;
    numbers plain (dot decimal), a missing figure as its reason in words."""
    scope, scope_key = _requested_scope(request)
    quarter = _quarter(request)
    card = scorecard.scorecard(scope=scope, quarter=quarter)
    quarter_label = scorecard.quarter_label(quarter)
    header = [
        _("KPI code"),
        _("KPI"),
        _("Actual"),
        _("Target"),
        _("Achievement (%)"),
        _("Counted (%)"),
        _("Weight (%)"),
        _("Points"),
        _("Note"),
    ]
    rows: list[list[object]] = [
        [
            row.code,
            row.label,
            row.actual,
            row.target,
            row.ratio_percent,
            row.capped_percent,
            row.weight,
            row.points,
            row.missing_label,
        ]
        for row in card.rows
    ]
    rows.append(["", _("Total"), "", "", "", "", card.weights_total, card.total, ""])
    return spreadsheets.csv_response(header, rows, filename=f"scorecard-{scope_key}-{quarter_label}.csv")
