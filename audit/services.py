"""Writing the audit log: :func:`record_change`, called by the services that change settings,
inside their transaction (so an edit that rolls back leaves no entry)."""

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from audit.models import AuditAction, AuditEntry

Snapshot = Mapping[str, Any]
EMPTY: tuple[Any, ...] = (None, "", [], {})  # "not set", however a field spells it


def _plain(value: Any) -> Any:
    """A JSON value as a person reads it (lists sorted, numbers kept, the rest as text)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set | frozenset):
        return sorted((_plain(v) for v in value), key=str)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return str(value)


def diff(before: Snapshot | None, after: Snapshot | None) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value differs (None = did not exist)."""
    names = list(dict.fromkeys([*(before or {}), *(after or {})]))
    changes = {}
    for name in names:
        old = _plain((before or {}).get(name))
        new = _plain((after or {}).get(name))
        if old != new and not (old in EMPTY and new in EMPTY):
            changes[str(name)] = [old, new]
    return changes


def record_change(
    *,
    actor: Any,
    area: str,
    object_id: Any,
    label: str,
    before: Snapshot | None,
    after: Snapshot | None,
) -> AuditEntry | None:
    """One entry for a created (``before`` None), changed or deleted (``after`` None) setting.

    Nothing is written when a change leaves every value as it was.
    """
    action = (
        AuditAction.CREATED
        if before is None
        else AuditAction.DELETED
        if after is None
        else AuditAction.CHANGED
    )
    changes = diff(before, after)
    if action == AuditAction.CHANGED and not changes:
        return None
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        area=area,
        action=action,
        object_id=str(object_id or ""),
        object_label=str(label)[:200],
        changes=changes,
    )
