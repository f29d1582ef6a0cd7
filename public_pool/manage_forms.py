"""Forms of the manager and admin pages of the public pool (``public_pool.manage_views``).

Forms only parse input into the services' dataclasses; the rules (limits, which rule values
are valid, who may act) live in ``public_pool.services``. When a service raises
``InvalidInput`` the view puts its ``fields`` map back on the form with :func:`add_service_errors`.
"""

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site.bounds import DayRangeValidator
from customers.models import (
    CompanySize,
    Customer,
    Industry,
    Level,
    Role,
    Source,
    Tag,
    Team,
    User,
    ValueTier,
)
from public_pool import services
from public_pool.models import (
    EXEMPT_STAGE_CHOICES,
    MAX_EXTENSION_DAYS_CEILING,
    Pool,
    PoolEventKind,
    ReleaseReason,
)
from public_pool.services import priority

if TYPE_CHECKING:
    from public_pool.selectors import EventFilters

BLANK = [("", "—")]
PAGE_SIZE = 50


def add_service_errors(form: forms.Form, fields: dict[str, str]) -> None:
    """Attach a service's ``InvalidInput.fields`` to ``form`` (``team_id`` → ``team``)."""
    for name, message in fields.items():
        candidates = (name, name.removesuffix("_id"), name.removesuffix("_ids") + "s")
        field = next((c for c in candidates if c in form.fields), None)
        form.add_error(field, message)


class RuleForm(forms.Form):
    """A recycle rule: conditions (AND), triggers, exemption, warning window, target, order."""

    name = forms.CharField(label=pgettext_lazy("name of a thing, not a person", "Name"), max_length=100)
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)
    priority = forms.IntegerField(
        label=_("Priority"),
        min_value=0,
        max_value=32767,
        initial=100,
        help_text=_("When several rules match a customer, the lowest number applies."),
    )
    team = forms.ModelChoiceField(
        label=_("Only for team"), queryset=Team.objects.none(), required=False, empty_label="—"
    )
    level = forms.ChoiceField(label=_("Only for level"), choices=BLANK + list(Level.choices), required=False)
    value_tier = forms.ChoiceField(
        label=_("Only for value tier"), choices=BLANK + list(ValueTier.choices), required=False
    )
    tag = forms.ModelChoiceField(
        label=_("Only with tag"), queryset=Tag.objects.none(), required=False, empty_label="—"
    )
    source = forms.ChoiceField(
        label=_("Only from source"), choices=BLANK + list(Source.choices), required=False
    )
    no_followup_days = forms.IntegerField(
        label=_("Recycle after days without follow-up"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: condition off."),
    )
    no_deal_days = forms.IntegerField(
        label=_("Recycle when no deal is won within days of the claim"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: condition off."),
    )
    exempt_open_deal_from_stage = forms.ChoiceField(
        label=_("Exempt with an open deal at or past"),
        choices=BLANK + list(EXEMPT_STAGE_CHOICES),
        required=False,
        help_text=_("Empty: open deals do not exempt. Protected customers are always exempt."),
    )
    warn_days = forms.IntegerField(label=_("Warn days before"), min_value=0, max_value=365, initial=3)
    target_pool = forms.ModelChoiceField(
        label=_("Recycle into"),
        queryset=Pool.objects.none(),
        required=False,
        empty_label="—",
        help_text=_("Empty: the pool's default target, or the pool itself."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["team"]).queryset = Team.objects.order_by("name")
        cast(forms.ModelChoiceField, self.fields["tag"]).queryset = Tag.objects.order_by("name")
        cast(forms.ModelChoiceField, self.fields["target_pool"]).queryset = Pool.objects.order_by("name")
        for field in self.fields.values():
            widget = field.widget
            if isinstance(field, forms.IntegerField):
                widget.attrs.setdefault("step", "1")  # min and max come from the field's bounds
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(widget, forms.Select):
                widget.attrs.setdefault("class", "form-select")
            else:
                widget.attrs.setdefault("class", "form-control")

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if not self.errors and data.get("no_followup_days") is None and data.get("no_deal_days") is None:
            self.add_error("no_followup_days", _("Set days without follow-up, days without a deal, or both."))
        return data

    def to_rule_data(self) -> services.RuleData:
        data = self.cleaned_data
        return services.RuleData(
            name=data["name"],
            enabled=data["enabled"],
            priority=data["priority"],
            team_id=data["team"].pk if data["team"] else None,
            level=data["level"],
            value_tier=data["value_tier"],
            tag_id=data["tag"].pk if data["tag"] else None,
            source=data["source"],
            no_followup_days=data["no_followup_days"],
            no_deal_days=data["no_deal_days"],
            exempt_open_deal_from_stage=data["exempt_open_deal_from_stage"],
            warn_days=data["warn_days"],
            target_pool_id=data["target_pool"].pk if data["target_pool"] else None,
        )

    @classmethod
    def initial_from(cls, rule_data: services.RuleData) -> dict:
        values = {name: getattr(rule_data, name) for name in rule_data.__dataclass_fields__}
        for name in ("team", "tag", "target_pool"):
            values[name] = values.pop(f"{name}_id")
        return values


class BulkAssignForm(forms.Form):
    """Give the checked leads to one rep. ``rep`` choices: reps the actor may assign this pool to."""

    customers = forms.ModelMultipleChoiceField(
        label=_("Leads"),
        queryset=Customer.objects.none(),  # the pool's leads, set per form
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Pick at least one lead.")},
    )
    rep = forms.ModelChoiceField(label=_("Assign to"), queryset=User.objects.none())
    override = forms.BooleanField(
        label=_("Override the pool's limits (logged)"),
        required=False,
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, reps, leads, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["rep"]).queryset = reps
        cast(forms.ModelChoiceField, self.fields["customers"]).queryset = leads
        self.fields["rep"].widget.attrs["class"] = "form-select"
        self.fields["note"].widget.attrs["class"] = "form-control"
        self.fields["override"].widget.attrs["class"] = "form-check-input"


class DistributeForm(forms.Form):
    strategy = forms.ChoiceField(
        label=_("Strategy"),
        choices=[
            (services.DistributionStrategy.ROUND_ROBIN.value, _("Round robin")),
            (services.DistributionStrategy.LEAST_LOADED.value, _("Least loaded first")),
        ],
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    reps = forms.ModelMultipleChoiceField(
        label=_("Reps"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None checked: every rep you may assign this pool's leads to."),
    )
    max_leads = forms.IntegerField(
        label=_("At most this many leads"),
        min_value=1,
        max_value=10000,
        required=False,
        widget=forms.NumberInput(attrs={"class": "form-control"}),
    )

    def __init__(self, *args, reps, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["reps"]).queryset = reps


class TransferForm(forms.Form):
    customer_id = forms.IntegerField(label=_("Customer number"), min_value=1)
    to_rep = forms.ModelChoiceField(label=_("Transfer to"), queryset=User.objects.none())
    override = forms.BooleanField(label=_("Override the pool's limits (logged)"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, reps, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["to_rep"]).queryset = reps
        self.fields["to_rep"].widget.attrs["class"] = "form-select"
        self.fields["customer_id"].widget.attrs["class"] = "form-control"
        self.fields["note"].widget.attrs["class"] = "form-control"
        self.fields["override"].widget.attrs["class"] = "form-check-input"


class ExtensionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("Approve")), ("refuse", _("Refuse"))])
    days = forms.IntegerField(
        label=_("Days"), min_value=1, max_value=MAX_EXTENSION_DAYS_CEILING, required=False
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class EventFilterForm(forms.Form):
    """``?pool=&kind=&rep=&from=&to=`` of the event log; ``to`` is inclusive (whole local day)."""

    pool = forms.ModelChoiceField(
        label=_("Pool"),
        queryset=Pool.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    kind = forms.ChoiceField(
        label=pgettext_lazy("kind of pool event", "Kind"),
        choices=BLANK + list(PoolEventKind.choices),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    rep = forms.ModelChoiceField(
        label=pgettext_lazy("who did it", "By"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    from_ = forms.DateField(
        label=pgettext_lazy("start of a date range", "From"),
        required=False,
        validators=[DayRangeValidator()],
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )
    to = forms.DateField(
        label=pgettext_lazy("end of a date range", "To"),
        required=False,
        validators=[DayRangeValidator()],
        widget=forms.DateInput(attrs={"type": "date", "class": "form-control"}),
    )

    def __init__(self, *args, pools, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["pool"]).queryset = pools
        cast(forms.ModelChoiceField, self.fields["rep"]).queryset = people
        # "from" is a Python keyword: the field is ``from_`` but the query parameter is ``from``.
        self.fields["from"] = self.fields.pop("from_")

    def event_filters(self, **fixed: Any) -> "EventFilters":
        from public_pool import selectors

        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        values: dict[str, Any] = {
            "pool_id": data["pool"].pk if data.get("pool") else None,
            "kind": data.get("kind") or "",
            "actor_id": data["rep"].pk if data.get("rep") else None,
            "since": _day_start(data["from"]) if data.get("from") else None,
            "until": _day_start(data["to"] + timedelta(days=1)) if data.get("to") else None,
        }
        values.update(fixed)
        return selectors.EventFilters(**values)


def _bootstrap(form: forms.BaseForm) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(field, forms.IntegerField):
            widget.attrs.setdefault("step", "1")
        if isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        elif isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class PoolForm(forms.Form):
    """A pool's settings (admins); ``services.create_pool/update_pool`` validate them again."""

    name = forms.CharField(label=pgettext_lazy("name of a thing, not a person", "Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    teams = forms.ModelMultipleChoiceField(
        label=_("Member teams"),
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"), queryset=User.objects.none(), required=False, empty_label="—"
    )
    max_held_per_rep = forms.IntegerField(
        label=_("Max customers held per rep"),
        min_value=0,
        required=False,
        help_text=_("Empty means no limit."),
    )
    max_claims_per_day = forms.IntegerField(
        label=_("Max claims per rep per day"),
        min_value=0,
        required=False,
        help_text=_("Empty means no limit."),
    )
    cooldown_days = forms.IntegerField(
        label=_("Cooldown days"),
        min_value=0,
        initial=0,
        help_text=_("Days before a previous owner may claim a lead they released or lost again."),
    )
    hide_contacts = forms.BooleanField(
        label=_("Hide contact details while pooled"), required=False, initial=True
    )
    max_extension_days = forms.IntegerField(
        label=_("Max extension days"),
        min_value=1,
        max_value=MAX_EXTENSION_DAYS_CEILING,
        initial=14,
        help_text=_("The most days a rep may ask for in one request for more time."),
    )
    recycle_target = forms.ModelChoiceField(
        label=_("Recycle into"), queryset=Pool.objects.none(), required=False, empty_label="—"
    )
    is_default = forms.BooleanField(
        label=_("Default pool"),
        required=False,
        help_text=_(
            "Customers that never were in a pool follow this pool's rules; only one pool is the default."
        ),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["teams"]).queryset = Team.objects.order_by("name")
        cast(forms.ModelChoiceField, self.fields["owner"]).queryset = User.objects.filter(
            role__in=[Role.MANAGER, Role.ADMIN]
        ).order_by("username")
        cast(forms.ModelChoiceField, self.fields["recycle_target"]).queryset = Pool.objects.order_by("name")
        _bootstrap(self)

    def to_pool_data(self) -> services.PoolData:
        data = self.cleaned_data
        return services.PoolData(
            name=data["name"],
            description=data["description"],
            team_ids=tuple(t.pk for t in data["teams"]),
            owner_id=data["owner"].pk if data["owner"] else None,
            max_held_per_rep=data["max_held_per_rep"],
            max_claims_per_day=data["max_claims_per_day"],
            cooldown_days=data["cooldown_days"],
            hide_contacts=data["hide_contacts"],
            max_extension_days=data["max_extension_days"],
            recycle_target_id=data["recycle_target"].pk if data["recycle_target"] else None,
            is_default=data["is_default"],
        )

    @staticmethod
    def initial_from(pool: Pool) -> dict:
        return {
            "name": pool.name,
            "description": pool.description,
            "teams": list(pool.teams.all()),
            "owner": pool.owner_id,
            "max_held_per_rep": pool.max_held_per_rep,
            "max_claims_per_day": pool.max_claims_per_day,
            "cooldown_days": pool.cooldown_days,
            "hide_contacts": pool.hide_contacts,
            "max_extension_days": pool.max_extension_days,
            "recycle_target": pool.recycle_target_id,
            "is_default": pool.is_default,
        }


class ReleaseReasonForm(forms.ModelForm):
    """A release reason: English ``label`` and Chinese ``label_zh``. Codes never change once
    made (events store them), so the code is only editable when creating."""

    class Meta:
        model = ReleaseReason
        fields = ["code", "label", "label_zh", "order", "requires_note", "active"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
        _bootstrap(self)


# The categorical factors of a pool's priority: (field of ``WeightsData``, its values, the
# scores a value has when the pool sets none).
SCORE_CATEGORIES: tuple[tuple[str, type[models.TextChoices], dict[str, int]], ...] = (
    ("level_scores", Level, priority.DEFAULT_LEVEL_SCORES),
    ("size_scores", CompanySize, priority.DEFAULT_SIZE_SCORES),
    ("source_scores", Source, priority.DEFAULT_SOURCE_SCORES),
    ("industry_scores", Industry, priority.DEFAULT_INDUSTRY_SCORES),
)
WEIGHT_NAMES = (
    "level_weight",
    "size_weight",
    "source_weight",
    "industry_weight",
    "recency_weight",
    "engagement_weight",
)


def _score_field_name(category: str, value: str) -> str:
    return f"{category}__{value}"


class WeightsForm(forms.Form):
    """A pool's priority weights: one number per factor (0–100), the recency horizon in days,
    and one score (0–100) per level, company size, source and industry, each labelled with the
    value's name (never JSON).

    Every score field shows the score in force (the pool's own, else the default); a saved score
    equal to the default is not stored, so the pool keeps following the defaults where the admin
    did not change them (``to_weights_data``).
    """

    level_weight = forms.IntegerField(label=_("Level (need)"), min_value=0, max_value=100)
    size_weight = forms.IntegerField(label=_("Company size"), min_value=0, max_value=100)
    source_weight = forms.IntegerField(label=_("Source"), min_value=0, max_value=100)
    industry_weight = forms.IntegerField(label=_("Industry"), min_value=0, max_value=100)
    recency_weight = forms.IntegerField(label=_("Recent activity"), min_value=0, max_value=100)
    engagement_weight = forms.IntegerField(label=_("Past engagement"), min_value=0, max_value=100)
    recency_horizon_days = forms.IntegerField(
        label=_("Activity counts for"),
        min_value=1,
        max_value=3650,
        help_text=_("A lead active today scores 100 for recent activity, falling to 0 at this many days."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for category, choices, _defaults in SCORE_CATEGORIES:
            for value, label in choices.choices:
                self.fields[_score_field_name(category, value)] = forms.IntegerField(
                    label=label, min_value=0, max_value=100
                )
        for field in self.fields.values():
            field.widget.attrs.update({"step": "1", "inputmode": "numeric"})
        _bootstrap(self)

    def weight_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in WEIGHT_NAMES]

    def score_groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        """(heading, the category's score fields) per level, size, source and industry."""
        headings = {
            "level_scores": _("Score per level"),
            "size_scores": _("Score per company size"),
            "source_scores": _("Score per source"),
            "industry_scores": _("Score per industry"),
        }
        return [
            (str(headings[category]), [self[_score_field_name(category, value)] for value in choices.values])
            for category, choices, _defaults in SCORE_CATEGORIES
        ]

    @staticmethod
    def initial_from(weights: Any) -> dict[str, Any]:
        """The form's values for a ``PriorityWeights`` (saved or the unsaved defaults)."""
        initial: dict[str, Any] = {
            name: getattr(weights, name) for name in (*WEIGHT_NAMES, "recency_horizon_days")
        }
        for category, _choices, defaults in SCORE_CATEGORIES:
            scores = priority.category_scores(defaults, getattr(weights, category) or {})
            for value, score in scores.items():
                initial[_score_field_name(category, value)] = score
        return initial

    def to_weights_data(self) -> services.WeightsData:
        data = self.cleaned_data
        values: dict[str, Any] = {name: data[name] for name in (*WEIGHT_NAMES, "recency_horizon_days")}
        for category, choices, defaults in SCORE_CATEGORIES:
            own = {
                value: data[_score_field_name(category, value)]
                for value in choices.values
                if data[_score_field_name(category, value)] != defaults.get(value, 0)
            }
            values[category] = own or None
        return services.WeightsData(**values)


class ScheduleForm(forms.Form):
    """When a periodic job runs: a crontab (five fields) or an interval, and whether it is on."""

    enabled = forms.BooleanField(label=_("Enabled"), required=False)
    minute = forms.CharField(label=_("Minute"), max_length=240, required=False)
    hour = forms.CharField(label=_("Hour"), max_length=96, required=False)
    day_of_month = forms.CharField(label=_("Day of month"), max_length=124, required=False)
    month_of_year = forms.CharField(label=_("Month"), max_length=64, required=False)
    day_of_week = forms.CharField(label=_("Day of week"), max_length=64, required=False)
    every = forms.IntegerField(label=_("Every"), min_value=1, required=False)
    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[("minutes", _("minutes")), ("hours", _("hours")), ("days", _("days"))],
    )

    def __init__(self, *args, kind: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.kind = kind
        for name in (
            ("every", "period")
            if kind == "crontab"
            else ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
        ):
            del self.fields[name]
        _bootstrap(self)

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        if self.kind == "crontab":
            from celery.schedules import crontab

            for name in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week"):
                data[name] = (data.get(name) or "*").strip() or "*"
            try:
                crontab(
                    **{
                        name: data[name]
                        for name in ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
                    }
                )
            except (ValueError, TypeError):
                raise forms.ValidationError(_("This is not a valid crontab schedule.")) from None
        elif not data.get("every") or not data.get("period"):
            raise forms.ValidationError(_("Give how often and the period."))
        return data
