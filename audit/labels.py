"""Words for the settings the audit log records (its entries store field names and values)."""

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
}


def field_label(name: str) -> str:
    return str(LABELS.get(name, name.replace("_", " ").capitalize()))


def value_text(value: Any) -> str:
    """A stored value in words: "—" for none, yes/no, lists and mappings joined."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return ", ".join(value_text(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {value_text(v)}" for k, v in value.items())
    return str(value)
