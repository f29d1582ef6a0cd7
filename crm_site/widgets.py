"""Form widgets of our own.

``PlainSelect`` is Django's ``Select`` written out in Python. Django renders every option of a
select through two templates (``select_option.html``, which includes ``attrs.html``); for a
picker of a few hundred people that is most of a page: the admin's customer list at 1,000,000
customers spent about 78 ms of its ~100 ms rendering the owner filter's 222 options (issue 12,
bench/README.md). The markup is the same as Django's, option for option (tests/test_widgets.py
compares the two), so a form keeps its look, its labels and its selected value. It escapes with
``html.escape`` directly: through ``format_html`` each option cost ~25 µs, and the 222 options
6 ms a page.
"""

import html
from typing import Any

from django import forms
from django.utils.safestring import SafeData, SafeString, mark_safe


def _escape(value: Any) -> str:
    """As the template's autoescape (``conditional_escape``) without its lazy-string wrapper,
    which costs more than the escaping for a few hundred options."""
    return str(value) if isinstance(value, SafeData) else html.escape(str(value))


def _attributes(attrs: dict[str, Any]) -> str:
    """As Django's ``attrs.html``: in their order, ``True`` as the bare name, ``False`` left out."""
    return "".join(
        f" {_escape(name)}" if value is True else f' {_escape(name)}="{_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PlainSelect(forms.Select):
    """A ``Select`` for long lists of choices (people, teams)."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = []
        for group_name, options, _index in widget["optgroups"]:
            rows = "".join(
                f'<option value="{_escape(option["value"])}"{_attributes(option["attrs"])}>'
                f"{_escape(option['label'])}</option>"
                for option in options
            )
            groups.append(
                f'<optgroup label="{_escape(group_name)}">{rows}</optgroup>' if group_name else rows
            )
        return mark_safe(  # noqa: S308  # every value above went through _escape
            f'<select name="{_escape(widget["name"])}"{_attributes(widget["attrs"])}>{"".join(groups)}</select>'
        )
