"""``PlainSelect`` writes the same markup as Django's ``Select``, option for option."""

import re

import pytest
from django import forms
from django.utils.safestring import mark_safe

from crm_site.widgets import PlainSelect

CHOICES = [
    ("", "Anyone"),
    (1, "王秀英"),
    (2, 'Ann <b>"Ace"</b> & Co'),
    (30, "rep30"),
]
# A label already marked safe is written as is (as the template does); values are escaped.
SAFE = [("", mark_safe("<em>Anyone</em>")), ("<x>", "x & y"), ("'q'", mark_safe("a &amp; b"))]
GROUPED = [("", "—"), ("East 华东", [(1, "a"), (2, "b")]), ("West", [(3, "c & d")])]


def _same_markup(html: str) -> str:
    """Django's templates put a newline and indentation between tags; nothing else differs."""
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        (CHOICES, None, {}),
        (CHOICES, 2, {"class": "form-select", "id": "id_owner"}),
        (CHOICES, "30", {"class": "form-select is-invalid", "aria-describedby": "id_owner_errors"}),
        (CHOICES, "", {"required": True, "disabled": False}),
        (GROUPED, 3, {"class": "form-select"}),
        (SAFE, "<x>", {"class": "form-select", "title": 'say "hi" & <go>'}),
    ],
)
def test_plain_select_renders_what_djangos_select_renders(choices, value, attrs):
    theirs = forms.Select(attrs=dict(attrs), choices=choices).render("owner", value)
    ours = PlainSelect(attrs=dict(attrs), choices=choices).render("owner", value)
    assert _same_markup(ours) == _same_markup(theirs)
    assert "<b>" not in ours  # labels are escaped


def test_a_bound_form_field_keeps_its_selected_value_and_classes():
    class Form(forms.Form):
        owner = forms.TypedChoiceField(coerce=int, required=False, choices=CHOICES, widget=PlainSelect)

    html = str(Form(data={"owner": "2"})["owner"])
    assert '<option value="2" selected>' in html
    assert html.count("<option") == len(CHOICES)
