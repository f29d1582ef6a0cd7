"""Forms of the rep's pool pages: the pool list's filters, the release dialog, an extension request.

Forms only parse and validate shapes; the rules (which reasons are active, who may release,
once per customer) are the services' and come back as domain errors the views show.
"""

from typing import Any, cast

from django import forms
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from customers.models import CompanySize, Industry, Level, Source
from public_pool.selectors import PooledFilters, active_release_reasons

PAGE_SIZE = 25


def _any(label: str | Promise) -> list[tuple[Any, Any]]:
    return [("", label)]


class PoolFilterForm(forms.Form):
    """Search and filters of a pool's lead list, read from the query string (all optional)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Company or phone")}),
    )
    industry = forms.ChoiceField(label=_("Industry"), required=False)
    size = forms.ChoiceField(label=_("Company size"), required=False)
    region = forms.CharField(label=_("Region"), required=False, max_length=100)
    source = forms.ChoiceField(label=_("Source"), required=False)
    level = forms.ChoiceField(label=_("Level"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["industry"]).choices = _any(_("Any industry")) + list(
            Industry.choices
        )
        cast(forms.ChoiceField, self.fields["size"]).choices = _any(_("Any size")) + list(CompanySize.choices)
        cast(forms.ChoiceField, self.fields["source"]).choices = _any(_("Any source")) + list(Source.choices)
        cast(forms.ChoiceField, self.fields["level"]).choices = _any(_("Any level")) + list(Level.choices)
        for field in self.fields.values():
            css = (
                "form-select form-select-sm"
                if isinstance(field.widget, forms.Select)
                else "form-control form-control-sm"
            )
            field.widget.attrs["class"] = css

    def active_count(self) -> int:
        """How many filters (beyond the search box) are set: the "Filters" button shows it."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return sum(1 for name in ("industry", "size", "region", "source", "level") if data.get(name))

    def filters(self) -> PooledFilters:
        """The valid fields as selector filters; an invalid value is simply ignored."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return PooledFilters(
            search=data.get("q", "") or "",
            industry=data.get("industry", "") or "",
            size=data.get("size", "") or "",
            region=(data.get("region", "") or "").strip(),
            source=data.get("source", "") or "",
            level=data.get("level", "") or "",
        )


class ReleaseForm(forms.Form):
    """The release dialog: a reason from the admin-edited list plus free text.

    The reason field accepts any code: the service decides whether it is active and whether it
    needs a note (``reason_required``), so the page and the API give the same answer.
    """

    reason = forms.CharField(label=_("Reason"), required=False, max_length=40)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    @staticmethod
    def reasons() -> list:
        return list(active_release_reasons())


class ExtensionForm(forms.Form):
    """The "Request more time" dialog. Both fields are checked by ``services.request_extension``
    (a blank reason, days outside 1 to the pool's maximum), so the dialog shows the service's
    own messages; the form only parses. ``limit`` is the pool's ``max_extension_days``."""

    reason = forms.CharField(
        label=_("Why do you need more time?"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    days = forms.IntegerField(label=_("Days asked for"), required=False)

    def __init__(self, *args: Any, limit: int, default_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limit = limit
        self.fields["days"].initial = min(default_days, limit)
        self.fields["days"].widget.attrs.update({"min": 1, "max": limit, "inputmode": "numeric"})
        self.fields["days"].help_text = _("1 to %(max)d days.") % {"max": limit}
        for field in self.fields.values():
            field.widget.attrs["required"] = True  # announced; the server says what is wrong
