"""Forms of the managers' change-of-owner pages: one customer (its page's "Transfer…") and many
(the team's customer list). Shapes only; the rules are ``services.transfer_customer(s)``'s."""

from typing import cast

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from customers.models import User


class _OwnerChangeForm(forms.Form):
    to_rep = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=User.objects.none(),
        error_messages={"required": _("Choose the rep who takes over.")},
    )
    override = forms.BooleanField(label=_("Override the pool's limits (logged)"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, reps: QuerySet[User], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["to_rep"]).queryset = reps
        self.fields["note"].widget.attrs["class"] = "form-control"
        self.fields["override"].widget.attrs["class"] = "form-check-input"


class CustomerTransferForm(_OwnerChangeForm):
    """One customer to another rep, picked by name in a searchable list of radio buttons."""


class BulkOwnerForm(_OwnerChangeForm):
    """Many customers to one rep: the ticked ones, or all matching the list's filter
    (``filters``: the list page's query string, re-read with the list's own filter form)."""

    SCOPES = [("picked", _("The ticked customers")), ("all", _("All customers matching the filter"))]

    customers = forms.CharField(required=False)  # repeated; read whole in clean_customers
    scope = forms.ChoiceField(choices=SCOPES, initial="picked", widget=forms.RadioSelect)
    filters = forms.CharField(required=False, max_length=2000)
    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_rep"].widget.attrs["class"] = "form-select"

    def clean_customers(self) -> list[int]:
        # Any ids: the service decides which the actor may change (and skips the rest).
        # Bound to request.POST (a QueryDict); the field is repeated.
        picked = cast(QueryDict, self.data).getlist("customers")
        return [int(value) for value in picked if str(value).isdigit()]
