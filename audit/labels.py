"""Words for the settings the audit log records (its entries store field names and values).

``audit`` depends on no other app, so an app whose entries carry its own keys or codes registers
how to say them when it starts (``AppConfig.ready``): :func:`register_label_source` for keys such
as ``target:won_deals`` (a KPI's name), :func:`register_value_source` for stored codes such as a
role (``manager`` → "Manager"). Entries keep the codes, so they read in the viewer's language.
"""

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

LABELS = {
    "name": pgettext_lazy("name of a thing, not a person", "Name"),
    "description": gettext_lazy("Description"),
    "teams": gettext_lazy("Member teams"),
    "owner": gettext_lazy("Owner"),
    "max_held_per_rep": gettext_lazy("Most customers a rep may hold"),
    "max_claims_per_day": gettext_lazy("Most claims per rep per day"),
    "cooldown_days": gettext_lazy("Cooldown (days)"),
    "max_extension_days": gettext_lazy("Most days per extension request"),
    "hide_contacts": gettext_lazy("Mask contact details"),
    "recycle_target": gettext_lazy("Recycled customers go to"),
    "is_default": gettext_lazy("Default pool"),
    "enabled": gettext_lazy("Enabled"),
    "priority": gettext_lazy("Priority"),
    "team": gettext_lazy("Team"),
    "level": gettext_lazy("Level"),
    "value_tier": gettext_lazy("Value tier"),
    "tag": gettext_lazy("Tag"),
    "source": gettext_lazy("Source"),
    "no_followup_days": gettext_lazy("Days without follow-up"),
    "no_deal_days": gettext_lazy("Days without a deal"),
    "exempt_open_deal_from_stage": gettext_lazy("Open deals exempt from stage"),
    "warn_days": gettext_lazy("Warning (days before)"),
    "target_pool": gettext_lazy("Target pool"),
    "pool": gettext_lazy("Pool"),
    "code": gettext_lazy("Code"),
    "label": gettext_lazy("Label (English)"),
    "label_zh": gettext_lazy("Label (Chinese)"),
    "order": gettext_lazy("Order"),
    "requires_note": gettext_lazy("Needs a note"),
    "active": gettext_lazy("Active"),
    "schedule": gettext_lazy("Schedule"),
    "role": gettext_lazy("Role"),
    "manager": gettext_lazy("Manager"),
    "region": gettext_lazy("Region"),
    "cap": gettext_lazy("Cap (%)"),
    "is_superuser": gettext_lazy("Superuser (every permission)"),
}


LabelSource = Callable[[str], Any]
_label_sources: list[LabelSource] = []
_value_sources: dict[str, Callable[[Any], Any]] = {}


def register_label_source(source: LabelSource) -> None:
    """``source(key)`` → the key's words, or None when the key is not its own."""
    if source not in _label_sources:
        _label_sources.append(source)


def register_value_source(field: str, source: Callable[[Any], Any]) -> None:
    """``source(code)`` → a stored value of ``field`` in words (None: show it as stored)."""
    _value_sources[field] = source


_object_sources: dict[str, Callable[[str, str], Any]] = {}


def register_object_source(area: str, source: Callable[[str, str], Any]) -> None:
    """``source(object_id, stored_label)`` → what an entry of ``area`` is about, in the reader's
    language (None: the label stored with the entry, e.g. a pool's name)."""
    _object_sources[area] = source


def object_text(area: str, object_id: str, stored_label: str) -> str:
    source = _object_sources.get(area)
    words = source(object_id, stored_label) if source is not None else None
    return str(words) if words is not None else stored_label


def field_label(name: str) -> str:
    if name in LABELS:
        return str(LABELS[name])
    for source in _label_sources:
        label = source(name)
        if label is not None:
            return str(label)
    return name.replace("_", " ").capitalize()


def value_text(value: Any, field: str = "") -> str:
    """A stored value in words: "—" for none, yes/no, lists and mappings joined."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    source = _value_sources.get(field)
    if source is not None and isinstance(value, str):
        words = source(value)
        if words is not None:
            return str(words)
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 120, not 120.0 (decimals are stored as JSON numbers)
    return str(value)
