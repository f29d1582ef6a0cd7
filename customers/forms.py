"""Forms of the customer pages.

Forms check *shape* only (required, length, e-mail syntax, a value among the choices);
the rules live in ``customers.services``, whose ``CustomerInvalid.fields`` the views turn
into field errors with ``add_service_errors``. Choices that depend on the user (owners,
teams) are passed in as already evaluated lists, so a form costs no query of its own and
the view decides what the user may pick (``selectors.reps_visible_to``).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_site.bounds import DayRangeValidator
from crm_site.widgets import PlainSelect
from customers import selectors
from customers.models import (
    CompanySize,
    DealStage,
    FollowUpKind,
    Industry,
    Level,
    Role,
    Source,
    Team,
    User,
)
from customers.services import CustomerData
from customers.services.activity import BLANK_NOTE_MESSAGE

PAGE_SIZES = (10, 25, 50, 100)
DEFAULT_PAGE_SIZE = 25

# Labels for the sort keys the selector offers; a key added there without a label here still works.
SORT_LABELS = {
    "-updated_at": _("Recently updated"),
    "name": _("Name (A–Z)"),
    "last_followup_at": _("Longest without follow-up"),
}

# Tags are typed as one line, split at commas and semicolons (ASCII or full-width) or the ideographic comma.
_TAG_SEPARATORS = re.compile("[,;\uff0c\u3001\uff1b]")


class BootstrapFormMixin(forms.BaseForm):
    """Gives widgets Bootstrap classes and marks fields with errors ``is-invalid``.

    Error marking happens in ``add_error`` so that errors added after validation (the
    services' field errors) are shown the same way as the form's own.
    """

    label_suffix = ""
    # Forms that share a page (the detail page has three) need distinct element ids.
    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.RadioSelect):
                css = "btn-check"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()

    def _choice_field(self, name: str) -> forms.ChoiceField:
        """A choice field of this form, to fill its choices at run time."""
        return cast(forms.ChoiceField, self.fields[name])

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = f"{widget.attrs.get('class', '')} is-invalid".strip()
                widget.attrs["aria-describedby"] = f"{self[name].auto_id}_errors"


def add_service_errors(form: forms.Form, fields: Mapping[str, str]) -> None:
    """Show a service's ``CustomerInvalid.fields`` on the form; unknown names become form errors."""
    for name, message in fields.items():
        form.add_error(name if name in form.fields else None, message)


def _blank_choice(label: str | Any) -> list[tuple[Any, Any]]:
    return [("", label)]


def _user_choices(users: Iterable[User]) -> list[tuple[Any, Any]]:
    return [(user.pk, str(user)) for user in users]


# --- the customer list -------------------------------------------------------------------------


class CustomerFilterForm(BootstrapFormMixin, forms.Form):
    """The list's search, filters, sort and page size, read from the query string.

    Every field is optional. A value that does not fit (an owner the user may not pick, an
    unknown level, a page size not offered) makes only that field invalid: ``filters()``
    ignores it and the page says which filters were ignored.
    """

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Company, phone or e-mail"), "autocomplete": "off"}
        ),
    )
    # Every select of the list's filter bar is written out in Python (PlainSelect): the bar is on
    # the page people open most, and Django's option templates were a third of its rendering.
    owner = forms.TypedChoiceField(
        label=_("Owner"), required=False, coerce=int, empty_value=None, widget=PlainSelect
    )
    team = forms.TypedChoiceField(
        label=_("Team"), required=False, coerce=int, empty_value=None, widget=PlainSelect
    )
    level = forms.ChoiceField(
        label=_("Level"),
        required=False,
        choices=_blank_choice(_("Any level")) + Level.choices,
        widget=PlainSelect,
    )
    source = forms.ChoiceField(
        label=_("Source"),
        required=False,
        choices=_blank_choice(_("Any source")) + Source.choices,
        widget=PlainSelect,
    )
    industry = forms.ChoiceField(
        label=_("Industry"),
        required=False,
        choices=_blank_choice(_("Any industry")) + Industry.choices,
        widget=PlainSelect,
    )
    stage = forms.ChoiceField(
        label=_("Deal stage"),
        required=False,
        choices=_blank_choice(_("Any deal stage")) + DealStage.choices,
        widget=PlainSelect,
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, widget=PlainSelect)
    page_size = forms.TypedChoiceField(
        label=_("Per page"),
        required=False,
        coerce=int,
        empty_value=DEFAULT_PAGE_SIZE,  # type: ignore[arg-type]  # any value; the stubs say str
        choices=[(size, size) for size in PAGE_SIZES],
    )

    def __init__(
        self,
        data: Mapping[str, Any],
        *,
        owners: Sequence[tuple[int, str]],
        teams: Sequence[Team],
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self._choice_field("owner").choices = _blank_choice(_("Anyone")) + list(owners)
        self._choice_field("team").choices = _blank_choice(_("Any team")) + [
            (team.pk, team.name) for team in teams
        ]
        self._choice_field("sort").choices = [
            (key, SORT_LABELS.get(key, key)) for key in selectors.CUSTOMER_SORTS
        ]
        # Hide pickers with nothing to pick: a rep only ever sees their own customers.
        self.show_owner = len(owners) > 1
        self.show_team = bool(teams)

    @classmethod
    def for_user(cls, user: User, data: Mapping[str, Any]) -> "CustomerFilterForm":
        """The list's filter form as ``user`` sees it: managers and admins pick owners (and
        admins teams); a rep only ever sees their own. The list page and anything that acts on
        "all matching the filter" read the query string through this one form."""
        leads_people = user.is_admin or user.role == Role.MANAGER
        owners = selectors.rep_choices(user) if leads_people else [(user.pk, str(user))]
        teams = list(Team.objects.order_by("name")) if user.is_admin else []
        return cls(data, owners=owners, teams=teams)

    def _valid(self, name: str, default: Any = None) -> Any:
        value = self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None
        return default if value in (None, "") else value

    def filters(self) -> selectors.CustomerFilters:
        self.is_valid()
        return selectors.CustomerFilters(
            search=self._valid("q", ""),
            owner=self._valid("owner") if self.show_owner else None,
            team=self._valid("team") if self.show_team else None,
            level=self._valid("level", ""),
            source=self._valid("source", ""),
            industry=self._valid("industry", ""),
            stage=self._valid("stage", ""),
            sort=self._valid("sort", selectors.DEFAULT_CUSTOMER_SORT),
        )

    def per_page(self) -> int:
        self.is_valid()
        return self._valid("page_size", DEFAULT_PAGE_SIZE)

    def ignored_labels(self) -> list[str]:
        """Labels of the filters whose values were not understood (and so not applied)."""
        self.is_valid()
        return [str(self.fields[name].label) for name in self.errors if name in self.fields]

    def active_count(self) -> int:
        """How many filters (not search, sort or page size) narrow the list: shown on the toggle."""
        filters = self.filters()
        return sum(
            bool(value)
            for value in (
                filters.owner,
                filters.team,
                filters.level,
                filters.source,
                filters.industry,
                filters.stage,
            )
        )


class PipelineFilterForm(BootstrapFormMixin, forms.Form):
    owner = forms.TypedChoiceField(
        label=_("Rep"), required=False, coerce=int, empty_value=None, widget=PlainSelect
    )

    def __init__(self, data: Mapping[str, Any], *, owners: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        """``owners``: ``(pk, name)`` of the people the user may pick (``selectors.rep_choices``)."""
        super().__init__(data, **kwargs)
        self._choice_field("owner").choices = _blank_choice(_("Everyone I can see")) + list(owners)

    def owner_id(self) -> int | None:
        return self.cleaned_data.get("owner") if self.is_valid() else None


# --- create and edit ---------------------------------------------------------------------------


class CustomerForm(BootstrapFormMixin, forms.Form):
    """A customer's details. ``owners`` (create, managers and admins) adds the owner picker;
    ``may_protect`` shows the "protected" switch, which only managers and admins may set."""

    name = forms.CharField(label=_("Company name"), max_length=200)
    industry = forms.ChoiceField(
        label=_("Industry"), required=False, choices=_blank_choice("—") + Industry.choices
    )
    size = forms.ChoiceField(
        label=_("Company size"), required=False, choices=_blank_choice("—") + CompanySize.choices
    )
    region = forms.CharField(label=_("Region"), required=False, max_length=50)
    address = forms.CharField(label=_("Address"), required=False, max_length=300)
    website = forms.URLField(label=_("Website"), required=False, max_length=200, assume_scheme="https")
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=30, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    source = forms.ChoiceField(label=_("Source"), choices=Source.choices, initial=Source.OTHER)
    level = forms.ChoiceField(label=_("Level"), choices=Level.choices, initial=Level.C)
    tags = forms.CharField(
        label=_("Tags"),
        required=False,
        max_length=500,
        help_text=_("Separate tags with commas."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_protected = forms.BooleanField(
        label=_("Protected"),
        required=False,
        help_text=_("Protected customers are never recycled to the pool."),
    )
    owner = forms.TypedChoiceField(label=_("Owner"), coerce=int, widget=PlainSelect)

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        owners: Sequence[User] = (),
        may_protect: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        self._owners = {user.pk: user for user in owners}
        if owners:
            self._choice_field("owner").choices = _user_choices(owners)
        else:
            del self.fields["owner"]
        if not may_protect:
            del self.fields["is_protected"]

    @classmethod
    def initial_for(cls, customer: Any, tags: Iterable[str]) -> dict[str, Any]:
        return {
            "name": customer.name,
            "industry": customer.industry,
            "size": customer.size,
            "region": customer.region,
            "address": customer.address,
            "website": customer.website,
            "phone": customer.phone,
            "email": customer.email,
            "source": customer.source,
            "level": customer.level,
            "tags": ", ".join(tags),
            "note": customer.note,
            "is_protected": customer.is_protected,
        }

    def clean_tags(self) -> tuple[str, ...]:
        names = (name.strip() for name in _TAG_SEPARATORS.split(self.cleaned_data["tags"]))
        tags = tuple(dict.fromkeys(name for name in names if name))
        if any(len(name) > 50 for name in tags):
            raise forms.ValidationError(_("A tag may have at most 50 characters."))
        return tags

    def customer_data(self) -> CustomerData:
        data = self.cleaned_data
        return CustomerData(
            name=data["name"],
            industry=data["industry"],
            size=data["size"],
            region=data["region"],
            address=data["address"],
            website=data["website"],
            phone=data["phone"],
            email=data["email"],
            source=data["source"],
            level=data["level"],
            is_protected=data.get("is_protected", False),
            note=data["note"],
            tags=data["tags"],
        )

    def chosen_owner(self) -> User | None:
        owner_id = self.cleaned_data.get("owner")
        return self._owners.get(owner_id) if owner_id is not None else None


# --- in-place forms of the detail page ---------------------------------------------------------


class FollowUpForm(BootstrapFormMixin, forms.Form):
    id_prefix = "followup"

    kind = forms.ChoiceField(
        label=pgettext_lazy("how a follow-up was made", "Kind"),
        choices=FollowUpKind.choices,
        initial=FollowUpKind.CALL,
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note"),
        max_length=5000,
        error_messages={"required": BLANK_NOTE_MESSAGE},
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("What was said, what happens next?")}),
    )
    at = forms.DateTimeField(
        label=_("When"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def service_kwargs(self) -> dict[str, Any]:
        at: datetime | None = self.cleaned_data["at"]
        return {"kind": self.cleaned_data["kind"], "note": self.cleaned_data["note"].strip(), "at": at}


class ContactForm(BootstrapFormMixin, forms.Form):
    id_prefix = "contact"

    name = forms.CharField(label=_("Name"), max_length=100)
    title = forms.CharField(label=pgettext_lazy("contact", "Job title"), required=False, max_length=100)
    phone = forms.CharField(
        label=_("Phone"), required=False, max_length=30, widget=forms.TextInput(attrs={"type": "tel"})
    )
    email = forms.EmailField(label=_("E-mail"), required=False)
    wechat = forms.CharField(label=_("WeChat"), required=False, max_length=50)
    is_primary = forms.BooleanField(label=_("Primary contact"), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class DealForm(BootstrapFormMixin, forms.Form):
    id_prefix = "deal"

    title = forms.CharField(label=_("Title"), max_length=200)
    amount = forms.DecimalField(label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal(0))
    stage = forms.ChoiceField(label=_("Stage"), choices=DealStage.choices, initial=DealStage.LEAD)
    expected_close = forms.DateField(
        label=_("Expected close"),
        required=False,
        validators=[DayRangeValidator()],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def service_kwargs(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class DealStageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Stage"), choices=DealStage.choices)

    def service_kwargs(self) -> dict[str, Any]:
        return {"stage": self.cleaned_data["stage"]}
