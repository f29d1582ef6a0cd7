"""Django admin for the metrics tables.

Churn flags and roll-ups are computed by nightly jobs, so they are read-only here. The value
tier thresholds are one row admins edit (empty thresholds: top 20 % / next 30 % / rest);
tiers follow at the next nightly recomputation (``recompute_value_tiers``). Targets, scorecard
weights and the cap are the admin's to edit; survey invitations are read-only records.
"""

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from metrics import models


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


# The other helpers' tables: registered plainly so admins reach them; their own modules say
# what each field means.
for _name, _admin in (
    ("KpiTarget", admin.ModelAdmin),
    ("ScorecardWeight", admin.ModelAdmin),
    ("ScorecardSettings", admin.ModelAdmin),
    ("SurveyInvitation", ReadOnlyAdmin),
    ("DailyRollup", ReadOnlyAdmin),
):
    _model = getattr(models, _name, None)
    if _model is not None and not admin.site.is_registered(_model):
        admin.site.register(_model, _admin)
