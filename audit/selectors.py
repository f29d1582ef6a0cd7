"""Reading the audit log: filtered entries, newest first."""

from datetime import date, datetime, time

from django.db.models import QuerySet
from django.utils import timezone

from audit.models import AuditEntry


def audit_entries(
    *, area: str = "", actor_id: int | None = None, since: date | None = None, until: date | None = None
) -> QuerySet[AuditEntry]:
    """Entries matching the filters (dates are whole days in the company time zone)."""
    entries = AuditEntry.objects.select_related("actor")
    if area:
        entries = entries.filter(area=area)
    if actor_id:
        entries = entries.filter(actor_id=actor_id)
    zone = timezone.get_current_timezone()
    if since:
        entries = entries.filter(at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        entries = entries.filter(at__lt=datetime.combine(until, time.max, tzinfo=zone))
    return entries
