"""Form widgets of our own.

``PlainSelect`` is Django's ``Select`` written out in Python. Django renders every option of a
select through two templates (``select_option.html``, which includes ``attrs.html``); for a
picker of a few hundred people that is most of a page: the admin's customer list at 1,000,000
customers spent about 78 ms of its ~100 ms rendering the owner filter's 222 options (issue 12,
bench/README.md). The markup is the same as Django's, option for option (tests/test_widgets.py
compares the two), so a form keeps its look, its labels and its selected value.
"""

from typing import Any

from django import forms
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString


def _attributes(attrs: dict[str, Any]) -> SafeString:
    """As Django's ``attrs.html``: in their order, ``True`` as the bare name, ``False`` left out."""
    return format_html_join(
        "",
        "{}",
        (
            (format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value),)
            for name, value in attrs.items()
            if value is not False
        ),
    )


class PlainSelect(forms.Select):
    """A ``Select`` for long lists of choices (people, teams)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rows = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                ((str(option["value"]), _attributes(option["attrs"]), option["label"]) for option in options),
            )
            groups.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, rows) if group_name else rows
            )
        return format_html(
            '<select name="{}"{}>{}</select>',
            widget["name"],
            _attributes(widget["attrs"]),
            format_html_join("", "{}", ((group,) for group in groups)),
        )
