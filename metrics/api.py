"""``GET /api/metrics/kpis/``: every KPI of KPI.md for a period and the one before (API.md).

Who may ask for what (decisions where API.md is short):

- a rep: only ``scope=rep`` with their own id (``id=me`` or ``id=self`` also work); another
  rep's id is a 404 (we do not confirm that the person exists), any other scope kind a 403;
- a manager: ``team`` for the teams they manage (and their own), ``rep`` for the people in
  them, ``pool`` for pools those teams are members of (the pool utilisation they watch);
  other ids are 404s; ``company`` and ``channel`` (company-wide figures) are 403s;
- an admin: everything.

``from`` and ``to`` are ISO dates and both included (``to`` is the last day; the KPI period is
``[from, to + 1 day)`` in the company time zone). Default: this month up to today. The previous
period is ``Period.previous()``: the same calendar months before a whole-month range, else the
same number of days just before.

Numbers are JSON numbers (money and percentages with two decimals); ``value`` null is "no data"
(a zero denominator), or — with ``applicable`` false and a ``reason`` — "not applicable" (the
KPI does not apply to the scope, CAC for one rep). ``change`` is in percentage points for percent and score KPIs, else the
relative change in %. The query count depends on the KPIs, not on the period length.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from crm_site.api import AuthedRequest, error_responses
from crm_site.bounds import DayRangeValidator
from crm_site.db_routers import replica_reads
from customers import selectors as customer_selectors
from customers.models import Role, Source
from metrics import kpis
from metrics import selectors as metrics_selectors
from metrics.periods import Period, Scope, ScopeKind, local_today
from metrics.selectors import rollups
from public_pool.models import Pool

MAX_PERIOD_DAYS = 3 * 366  # a request is bounded work; longer trends belong to the dashboards


def _number(value: Any) -> Any:
    """Decimals as JSON numbers; dicts and lists recursively; everything else as is."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {str(k): _number(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_number(v) for v in value]
    return value


def resolve_scope(*, user: Any, kind: str, key: str | None) -> Scope:
    """The scope ``user`` asked for (see the module): PermissionDenied for a kind they may never
    see, Http404 for an id that is not theirs, ValidationError for a malformed id."""
    if kind == ScopeKind.COMPANY:
        if not user.is_admin:
            raise exceptions.PermissionDenied(_("Only admins see company-wide figures."))
        return Scope.company()
    if key in (None, ""):
        raise exceptions.ValidationError({"id": [_("This scope needs an id.")]})
    if kind == ScopeKind.CHANNEL:
        if not user.is_admin:
            raise exceptions.PermissionDenied(_("Only admins see figures per channel."))
        if key not in Source.values:
            raise exceptions.ValidationError({"id": [_("Not an acquisition channel.")]})
        return Scope.channel(key)
    if kind == ScopeKind.REP and key in ("me", "self"):
        key = str(user.pk)
    if not str(key).isdigit():
        raise exceptions.ValidationError({"id": [_("A number is required.")]})
    number = int(str(key))
    if not user.is_admin and user.role != Role.MANAGER and kind != ScopeKind.REP:
        raise exceptions.PermissionDenied(_("Sales reps see only their own figures."))
    if kind == ScopeKind.POOL:
        pools = Pool.objects.filter(pk=number)
        if not user.is_admin:
            pools = pools.filter(teams__in=customer_selectors.managed_team_ids(user))
        if not pools.exists():
            raise Http404
        return Scope.pool(number)
    return metrics_selectors.visible_scope(user=user, kind=kind, key=number)


class KpiFigureSerializer(serializers.Serializer[Any]):
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    unit = serializers.ChoiceField(choices=[unit.value for unit in kpis.Unit])
    higher_is_better = serializers.BooleanField()
    value = serializers.FloatField(
        allow_null=True, help_text=_("Null: no data (a zero denominator), or not applicable.")
    )
    applicable = serializers.BooleanField(
        help_text=_("False when the KPI does not apply to the scope (e.g. CAC for one rep).")
    )
    reason = serializers.CharField(help_text=_("Why the KPI does not apply, when it does not."))
    previous = serializers.FloatField(allow_null=True, help_text=_("The value in the previous period."))
    change = serializers.FloatField(
        allow_null=True,
        help_text=_("Percentage points for percent and score KPIs, otherwise the relative change in %."),
    )
    numerator = serializers.FloatField(allow_null=True)
    denominator = serializers.FloatField(allow_null=True)
    detail = serializers.DictField(help_text=_("Extra figures, e.g. a p90 or counts per kind."))

    class Meta:
        ref_name = "KpiFigure"


class KpiAnswerSerializer(serializers.Serializer[Any]):
    period = serializers.DictField(
        child=serializers.DateField(), help_text=_("`from` and `to` (both included).")
    )
    previous = serializers.DictField(child=serializers.DateField(), help_text=_("The period compared with."))
    scope = serializers.DictField(help_text=_("`kind` and `id`."))
    kpis = serializers.DictField(child=KpiFigureSerializer(), help_text=_("Keyed by KPI code."))

    class Meta:
        ref_name = "KpiAnswer"


class KpisApi(APIView):
    """``GET /api/metrics/kpis/?from=&to=&scope=&id=`` (see the module docstring)."""

    class InputSerializer(serializers.Serializer[Any]):
        start = serializers.DateField(required=False, allow_null=True, validators=[DayRangeValidator()])
        end = serializers.DateField(required=False, allow_null=True, validators=[DayRangeValidator()])
        scope = serializers.ChoiceField(choices=[kind.value for kind in ScopeKind], default=ScopeKind.COMPANY)
        id = serializers.CharField(required=False, allow_blank=True, default="")

        class Meta:
            ref_name = "KpiQuery"

        def validate(self, data: dict[str, Any]) -> dict[str, Any]:
            today = local_today()
            start = data.get("start") or today.replace(day=1)
            end = data.get("end") or max(today, start)
            if end < start:
                raise serializers.ValidationError({"to": [_("The last day is before the first.")]})
            if (end - start).days >= MAX_PERIOD_DAYS:
                raise serializers.ValidationError({"to": [_("A period may span at most three years.")]})
            data["period"] = Period(start, end + dt.timedelta(days=1))
            return data

    @extend_schema(
        operation_id="metrics_kpis",
        summary=_("KPIs for a period and the previous one"),
        description=_(
            "Every KPI of KPI.md for the period and the previous period, for the company, a team, "
            "a rep, a pool or an acquisition channel. Reps may ask only for themselves "
            "(`scope=rep&id=me`); managers for their teams, their people and their teams' pools."
        ),
        parameters=[
            OpenApiParameter(
                "from", OpenApiTypes.DATE, description=_("First day (default: the 1st of this month).")
            ),
            OpenApiParameter("to", OpenApiTypes.DATE, description=_("Last day, included (default: today).")),
            OpenApiParameter(
                "scope",
                OpenApiTypes.STR,
                enum=[kind.value for kind in ScopeKind],
                description=_("Default: company."),
            ),
            OpenApiParameter(
                "id",
                OpenApiTypes.STR,
                description=_(
                    "Team, user or pool id (`me` for oneself), or the channel (a customer source)."
                ),
            ),
        ],
        responses={200: KpiAnswerSerializer, **error_responses(400, 401, 403, 404)},
    )
    def get(self, request: AuthedRequest) -> Response:
        params = request.query_params
        serializer = self.InputSerializer(
            data={
                "start": params.get("from") or None,
                "end": params.get("to") or None,
                "scope": params.get("scope") or ScopeKind.COMPANY,
                "id": params.get("id", ""),
            }
        )
        if not serializer.is_valid():
            errors = dict(serializer.errors)
            for ours, theirs in (("start", "from"), ("end", "to")):
                if ours in errors:
                    errors[theirs] = errors.pop(ours)
            raise exceptions.ValidationError(errors)
        data = serializer.validated_data
        period: Period = data["period"]
        scope = resolve_scope(user=request.user, kind=data["scope"], key=data["id"] or None)
        previous = period.previous()
        with replica_reads(), rollups.shared_reads():  # figures only: the replica when there is one
            comparisons = kpis.compare(period=period, scope=scope)
        figures = {
            row.definition.code: {
                "label": str(row.definition.label),
                "unit": row.definition.unit.value,
                "higher_is_better": row.definition.higher_is_better,
                "applicable": row.current.applicable,
                "reason": str(row.current.reason),
                "value": _number(row.current.value),
                "previous": _number(row.previous.value),
                "change": _number(_rounded(row.change)),
                "numerator": _number(row.current.numerator),
                "denominator": _number(row.current.denominator),
                "detail": _number(row.current.detail),
            }
            for row in comparisons
        }
        return Response(
            {
                "period": {"from": period.start, "to": period.last_day},
                "previous": {"from": previous.start, "to": previous.last_day},
                "scope": {"kind": scope.kind.value, "id": scope.key},
                "kpis": figures,
            }
        )


def _rounded(value: Decimal | float | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))
