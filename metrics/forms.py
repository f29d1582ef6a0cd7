"""Forms of the scorecard settings and the survey panel. They check shape only; the rules
(weights summing to 100, cap at least 100 %, positive targets, score ranges, who may act) live
in ``metrics.services.scorecard`` and ``metrics.services.surveys``, whose errors the views attach to these forms."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Contact
from metrics.models import SurveyKind


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.RadioSelect):
            continue
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


def add_service_errors(form: forms.Form, fields: dict[str, str]) -> dict[str, str]:
    """Attach a service's field errors to ``form``; returns those that name no field of it."""
    rest = {}
    for name, message in fields.items():
        if name in form.fields:
            form.add_error(name, message)
        else:
            rest[name] = message
    return rest


# --- scorecard settings -------------------------------------------------------------------------


# The ranges the scorecard services accept, checked here too so a page refuses an out-of-range
# value next to its field (in the services' words) and the inputs carry them as min/max/step.
TARGET_MAX = Decimal(10) ** 14


class TargetForm(forms.Form):
    """One KPI's target in the targets formset; empty removes the target. Greater than 0, below
    10¹⁴, at most four decimals (``set_kpi_targets`` checks the same)."""

    kpi = forms.CharField(widget=forms.HiddenInput, max_length=40)
    target = forms.DecimalField(
        label=_("Target"),
        required=False,
        max_digits=18,
        decimal_places=4,
        localize=False,
        max_value=TARGET_MAX - Decimal("0.0001"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].widget.attrs.update({"inputmode": "decimal", "step": "any", "min": "0.0001"})
        _bootstrap(self)

    def clean_target(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("target")
        if value is not None and value <= 0:
            raise forms.ValidationError(_("A target is a number greater than 0."))
        return value


TargetFormSet = forms.formset_factory(TargetForm, extra=0, max_num=200, absolute_max=200, validate_max=True)


class WeightForm(forms.Form):
    """One KPI's weight in percent in the weights formset; empty or 0 leaves it off the scorecard."""

    kpi = forms.CharField(widget=forms.HiddenInput, max_length=40)
    weight = forms.DecimalField(
        label=_("Weight (%)"),
        required=False,
        max_digits=5,
        decimal_places=2,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["weight"].widget.attrs.update(
            {"inputmode": "decimal", "step": "0.01", "min": "0", "max": "100"}
        )
        _bootstrap(self)

    def clean_weight(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("weight")
        if value is not None and not 0 <= value <= 100:
            raise forms.ValidationError(
                _("A weight is a percentage from 0 to 100 with at most two decimals.")
            )
        return value


WeightFormSet = forms.formset_factory(WeightForm, extra=0, max_num=200, absolute_max=200, validate_max=True)


class CapForm(forms.Form):
    cap = forms.DecimalField(
        label=_("Cap (%)"),
        max_digits=6,
        decimal_places=2,
        help_text=_(
            "The most a KPI can count for, as a share of its target: 120 means 1.2 times its weight."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["cap"].widget.attrs.update(
            {"inputmode": "decimal", "step": "0.01", "min": "100", "max": "1000"}
        )
        _bootstrap(self)

    def clean_cap(self) -> Decimal:
        value: Decimal = self.cleaned_data["cap"]
        if not 100 <= value <= 1000:
            raise forms.ValidationError(
                _("The cap must be between %(low)s %% and %(high)s %%.") % {"low": 100, "high": 1000}
            )
        return value


# --- surveys ------------------------------------------------------------------------------------


class SendSurveyForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none())
    kind = forms.ChoiceField(label=_("Survey"), choices=SurveyKind.choices)

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["contact"]).queryset = contacts
        _bootstrap(self)


class PhoneAnswerForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Contact"), queryset=Contact.objects.none(), required=False)
    nps = forms.TypedChoiceField(
        label=_("NPS (0–10)"),
        choices=[("", "—"), *((n, n) for n in range(11))],
        coerce=int,
        empty_value=None,
        required=False,
    )
    csat = forms.TypedChoiceField(
        label=_("CSAT (1–5)"),
        choices=[("", "—"), *((n, n) for n in range(1, 6))],
        coerce=int,
        empty_value=None,
        required=False,
    )
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, contacts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["contact"]).queryset = contacts
        _bootstrap(self)


class SurveyAnswerForm(forms.Form):
    """The contact's answer on the public page: a score (0–10 or 1–5) and an optional comment."""

    score = forms.TypedChoiceField(coerce=int, widget=forms.RadioSelect, label=_("Your score"))
    comment = forms.CharField(
        label=_("What could we do better? (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control form-control-lg"}),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scores = range(11) if kind == SurveyKind.NPS else range(1, 6)
        cast(forms.ChoiceField, self.fields["score"]).choices = [(n, str(n)) for n in scores]
        message = (
            _("Choose a score from 0 to 10.") if kind == SurveyKind.NPS else _("Choose a score from 1 to 5.")
        )
        self.fields["score"].error_messages.update({"required": message, "invalid_choice": message})
