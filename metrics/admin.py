"""Django admin for the metrics tables.

Churn flags and roll-ups are computed by nightly jobs, so they are read-only here. The value
tier thresholds are one row admins edit (empty thresholds: top 20 % / next 30 % / rest);
tiers follow at the next nightly recomputation (``recompute_value_tiers``). Targets and the
cap save through ``metrics.services.scorecard`` (the same checks and audit entry as the settings
pages); a target's KPI, quarter and scope are fixed once made (delete it and add another).
Scorecard weights are read-only here: they must add up to 100 %, which one row at a time cannot
keep, so they are changed together on the scorecard settings page. Survey invitations are
read-only records.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from crm_site.http import signed_in_user
from customers.admin import ServiceAdminMixin
from metrics import models
from metrics.selectors.scorecard import TargetScope, current_config
from metrics.services import scorecard as scorecard_services


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(models.ChurnFlag)
class ChurnFlagAdmin(ReadOnlyAdmin):
    list_display = ("customer", "reason", "reason_text", "owner", "flagged_at", "checked_at")
    list_filter = ("reason",)
    list_select_related = ("customer", "customer__owner")
    search_fields = ("customer__name",)
    date_hierarchy = "flagged_at"

    @admin.display(description=_("why"))
    def reason_text(self, flag: models.ChurnFlag) -> str:
        return flag.message

    @admin.display(description=_("owner"), ordering="customer__owner__username")
    def owner(self, flag: models.ChurnFlag) -> object:
        return flag.customer.owner


@admin.register(models.ValueTierSettings)
class ValueTierSettingsAdmin(admin.ModelAdmin):
    list_display = ("__str__", "tier_a_min_clv", "tier_b_min_clv", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        """One row: the thresholds."""
        return not models.ValueTierSettings.objects.exists() and super().has_add_permission(request)


def _scope(target: models.KpiTarget) -> TargetScope:
    return TargetScope(rep_id=target.rep_id, team_id=target.team_id)


@admin.register(models.KpiTarget)
class KpiTargetAdmin(ServiceAdminMixin):
    list_display = ("kpi", "quarter", "rep", "team", "target", "updated_by", "updated_at")
    list_filter = ("quarter", "kpi")
    list_select_related = ("rep", "team", "updated_by")
    fields = ("kpi", "quarter", "rep", "team", "target")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("kpi", "quarter", "rep", "team") if obj is not None else ()

    def save_model(
        self, request: HttpRequest, obj: models.KpiTarget, form: forms.ModelForm, change: bool
    ) -> None:
        stored = scorecard_services.set_kpi_targets(
            actor=signed_in_user(request),
            quarter=obj.quarter,
            target_scope=_scope(obj),
            targets={obj.kpi: obj.target},
        )
        saved = models.KpiTarget.objects.filter(_scope(obj).rows(), quarter=obj.quarter, kpi=obj.kpi).get()
        obj.pk, obj.target = saved.pk, stored[obj.kpi]

    def delete_model(self, request: HttpRequest, obj: models.KpiTarget) -> None:
        scorecard_services.set_kpi_targets(
            actor=signed_in_user(request),
            quarter=obj.quarter,
            target_scope=_scope(obj),
            targets={obj.kpi: None},
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[models.KpiTarget]) -> None:
        for target in queryset:
            self.delete_model(request, target)


@admin.register(models.ScorecardSettings)
class ScorecardSettingsAdmin(ServiceAdminMixin):
    list_display = ("__str__", "cap", "updated_at")
    fields = ("cap",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(
        self, request: HttpRequest, obj: models.ScorecardSettings, form: forms.ModelForm, change: bool
    ) -> None:
        weights: dict[str, Any] = dict(current_config().weights)
        scorecard_services.update_scorecard(actor=signed_in_user(request), weights=weights, cap=obj.cap)


@admin.register(models.ScorecardWeight)
class ScorecardWeightAdmin(ReadOnlyAdmin):
    """Read-only: weights change together on the scorecard settings page (they sum to 100 %)."""

    list_display = ("kpi", "weight")


# The other helpers' tables: registered plainly so admins reach them; their own modules say
# what each field means.
for _name, _admin in (
    ("SurveyInvitation", ReadOnlyAdmin),
    ("DailyRollup", ReadOnlyAdmin),
):
    _model = getattr(models, _name, None)
    if _model is not None and not admin.site.is_registered(_model):
        admin.site.register(_model, _admin)
