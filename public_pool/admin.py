"""Django admin for the public pool. Saves and actions go through ``public_pool.services``,
so the admin enforces the same rules (and writes the same log) as pages and API."""

from dataclasses import fields
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm_site.exceptions import DomainError
from crm_site.http import signed_in_user
from public_pool import services
from public_pool.exceptions import InvalidInput
from public_pool.models import (
    ExtensionRequest,
    ExtensionStatus,
    ImportBatch,
    Notification,
    Pool,
    PoolEvent,
    PriorityWeights,
    RecycleRule,
    ReleaseReason,
    TeamChatWebhook,
)
from public_pool.services.policies import validate_rule


def _apply_errors(form: forms.ModelForm, error: InvalidInput) -> None:
    for name, message in error.fields.items():
        field = name.removesuffix("_id")
        form.add_error(field if field in form.fields else None, message)


class RecycleRuleForm(forms.ModelForm):
    class Meta:
        model = RecycleRule
        fields = [
            "pool",
            "name",
            "enabled",
            "priority",
            "team",
            "level",
            "value_tier",
            "tag",
            "source",
            "no_followup_days",
            "no_deal_days",
            "exempt_open_deal_from_stage",
            "warn_days",
            "target_pool",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        pool = data.get("pool")
        if pool is not None and not self.errors:
            try:
                validate_rule(pool=pool, rule=_rule_data(data))
            except InvalidInput as error:
                _apply_errors(self, error)
        return data


def _rule_data(data: dict[str, Any]) -> services.RuleData:
    values: dict[str, Any] = {}
    for f in fields(services.RuleData):
        key = f.name.removesuffix("_id") if f.name.endswith("_id") else f.name
        value = data.get(key)
        if f.name.endswith("_id"):
            value = value.pk if value is not None else None
        elif value is None and f.name not in ("no_followup_days", "no_deal_days"):
            continue
        values[f.name] = value
    return services.RuleData(**values)


class RecycleRuleInline(admin.TabularInline):
    model = RecycleRule
    fk_name = "pool"
    fields = ("priority", "name", "enabled", "no_followup_days", "no_deal_days", "warn_days")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner",
        "max_held_per_rep",
        "max_claims_per_day",
        "cooldown_days",
        "hide_contacts",
        "is_default",
    ]
    filter_horizontal = ["teams"]
    exclude = ["updated_at"]
    inlines = [RecycleRuleInline]
    actions = ["recompute_priorities"]

    def save_model(self, request: HttpRequest, obj: Pool, form: forms.ModelForm, change: bool) -> None:
        data = services.PoolData(
            name=obj.name,
            description=obj.description,
            team_ids=tuple(t.pk for t in form.cleaned_data.get("teams", [])),
            owner_id=obj.owner_id,
            max_held_per_rep=obj.max_held_per_rep,
            max_claims_per_day=obj.max_claims_per_day,
            cooldown_days=obj.cooldown_days,
            hide_contacts=obj.hide_contacts,
            recycle_target_id=obj.recycle_target_id,
            is_default=obj.is_default,
        )
        if change:
            saved = services.update_pool(actor=signed_in_user(request), pool_id=obj.pk, data=data)
        else:
            saved = services.create_pool(actor=signed_in_user(request), data=data)
        obj.pk = saved.pk

    @admin.action(description=_("Recompute lead priorities"))
    def recompute_priorities(self, request: HttpRequest, queryset: QuerySet[Pool]) -> None:
        total = sum(services.recompute_pool_priorities(pool_id=pool.pk) for pool in queryset)
        self.message_user(
            request,
            ngettext("%(count)d lead re-scored.", "%(count)d leads re-scored.", total) % {"count": total},
        )


@admin.register(RecycleRule)
class RecycleRuleAdmin(admin.ModelAdmin):
    form = RecycleRuleForm
    list_display = ["name", "pool", "priority", "enabled", "no_followup_days", "no_deal_days", "warn_days"]
    list_filter = ["pool", "enabled"]
    list_select_related = ["pool"]
    actions = ["enable", "disable"]

    def save_model(self, request: HttpRequest, obj: RecycleRule, form: forms.ModelForm, change: bool) -> None:
        data = _rule_data(form.cleaned_data)
        if change:
            saved = services.update_recycle_rule(actor=signed_in_user(request), rule_id=obj.pk, rule=data)
        else:
            saved = services.create_recycle_rule(
                actor=signed_in_user(request), pool_id=obj.pool_id, rule=data
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: RecycleRule) -> None:
        services.delete_recycle_rule(actor=signed_in_user(request), rule_id=obj.pk)

    def has_delete_permission(self, request: HttpRequest, obj: RecycleRule | None = None) -> bool:
        # Rules that recycled anyone stay for the log; disable them instead.
        return obj is not None and not obj.events.exists() and super().has_delete_permission(request, obj)

    def _set_enabled(self, request: HttpRequest, queryset: QuerySet[RecycleRule], enabled: bool) -> None:
        for rule in queryset:
            services.set_recycle_rule_enabled(actor=signed_in_user(request), rule_id=rule.pk, enabled=enabled)
        count = queryset.count()
        self.message_user(
            request, ngettext("%(count)d rule updated.", "%(count)d rules updated.", count) % {"count": count}
        )

    @admin.action(description=_("Enable selected rules"))
    def enable(self, request: HttpRequest, queryset: QuerySet[RecycleRule]) -> None:
        self._set_enabled(request, queryset, True)

    @admin.action(description=_("Disable selected rules"))
    def disable(self, request: HttpRequest, queryset: QuerySet[RecycleRule]) -> None:
        self._set_enabled(request, queryset, False)


@admin.register(ReleaseReason)
class ReleaseReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "label_zh", "active", "order", "requires_note"]
    list_editable = ["active", "order"]

    def has_delete_permission(self, request: HttpRequest, obj: ReleaseReason | None = None) -> bool:
        return False  # events keep the code; deactivate instead


@admin.register(PriorityWeights)
class PriorityWeightsAdmin(admin.ModelAdmin):
    list_display = [
        "pool",
        "industry_weight",
        "size_weight",
        "source_weight",
        "level_weight",
        "recency_weight",
        "engagement_weight",
    ]
    exclude = ["updated_at"]

    def save_model(
        self, request: HttpRequest, obj: PriorityWeights, form: forms.ModelForm, change: bool
    ) -> None:
        data = services.WeightsData(**{f.name: getattr(obj, f.name) for f in fields(services.WeightsData)})
        try:
            services.update_priority_weights(actor=signed_in_user(request), pool_id=obj.pool_id, data=data)
        except DomainError as error:
            messages.error(request, str(error.message))


@admin.register(PoolEvent)
class PoolEventAdmin(admin.ModelAdmin):
    """The log is read-only here as everywhere."""

    list_display = [
        "at",
        "kind",
        "customer",
        "actor",
        "from_owner",
        "to_owner",
        "from_pool",
        "to_pool",
        "reason",
    ]
    list_filter = ["kind", "override"]
    list_select_related = ["customer", "actor", "from_owner", "to_owner", "from_pool", "to_pool"]
    search_fields = ["customer__name"]
    date_hierarchy = "at"
    show_full_result_count = False
    raw_id_fields = ["customer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PoolEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PoolEvent | None = None) -> bool:
        return False


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(admin.ModelAdmin):
    list_display = ["customer", "owner", "days", "status", "requested_at", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["customer", "owner", "decided_by"]
    readonly_fields = [f.name for f in ExtensionRequest._meta.fields]
    actions = ["approve", "refuse"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ExtensionRequest | None = None) -> bool:
        return False

    def _decide(self, request: HttpRequest, queryset: QuerySet[ExtensionRequest], approve: bool) -> None:
        done = 0
        for extension in queryset.filter(status=ExtensionStatus.PENDING):
            try:
                services.decide_extension(
                    actor=signed_in_user(request), request_id=extension.pk, approve=approve
                )
                done += 1
            except DomainError as error:
                messages.error(request, f"{extension}: {error.message}")
        self.message_user(
            request,
            ngettext("%(count)d request decided.", "%(count)d requests decided.", done) % {"count": done},
        )

    @admin.action(description=_("Approve selected requests"))
    def approve(self, request: HttpRequest, queryset: QuerySet[ExtensionRequest]) -> None:
        self._decide(request, queryset, True)

    @admin.action(description=_("Refuse selected requests"))
    def refuse(self, request: HttpRequest, queryset: QuerySet[ExtensionRequest]) -> None:
        self._decide(request, queryset, False)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "kind", "customer", "due_at", "read_at", "emailed_at"]
    list_filter = ["kind"]
    list_select_related = ["user", "customer"]
    raw_id_fields = ["user", "customer"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Notification | None = None) -> bool:
        return False


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    """Imports are a record of what happened: read here, made by the import page or the API."""

    list_display = [
        "created_at",
        "file_name",
        "pool",
        "created_by",
        "status",
        "total_rows",
        "created_count",
        "duplicate_count",
        "error_count",
    ]
    list_filter = ["status", "pool"]
    list_select_related = ["pool", "created_by"]
    search_fields = ["file_name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportBatch | None = None) -> bool:
        return False


@admin.register(TeamChatWebhook)
class TeamChatWebhookAdmin(admin.ModelAdmin):
    """A team's group robot (WeCom, DingTalk, Feishu): the team's recycle warnings, recycled
    notices and extension decisions are also posted there (``services.team_chat``)."""

    list_display = ("team", "kind", "enabled", "created_at")
    list_filter = ("kind", "enabled")
    search_fields = ("team__name",)
    autocomplete_fields = ("team",)
    fields = ("team", "kind", "url", "enabled")
