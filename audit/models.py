"""The audit log of configuration: who changed which setting, when, from what to what.

Append-only like the pool event log: the model refuses to save an existing row or delete one,
and on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE whoever asks (migration 0002).
``audit`` depends on nothing but the user model, so every app can write to it.
"""

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditArea(models.TextChoices):
    POOL = "pool", _("Pool")
    RECYCLE_RULE = "recycle_rule", _("Recycle rule")
    RELEASE_REASON = "release_reason", _("Release reason")
    PRIORITY_WEIGHTS = "priority_weights", _("Priority weights")
    KPI_TARGET = "kpi_target", _("KPI target")
    SCORECARD_WEIGHTS = "scorecard_weights", _("Scorecard weights")
    SCHEDULE = "schedule", _("Schedule")
    USER = "user", _("User role or team")


class AuditAction(models.TextChoices):
    CREATED = "created", _("Created")
    CHANGED = "changed", _("Changed")
    DELETED = "deleted", _("Deleted")


class AppendOnly(Exception):
    pass


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    area = models.CharField(_("area"), max_length=20, choices=AuditArea.choices)
    action = models.CharField(_("action"), max_length=10, choices=AuditAction.choices)
    object_id = models.CharField(_("object id"), max_length=40, blank=True)
    object_label = models.CharField(_("object"), max_length=200, blank=True)
    # {field label: [before, after]} in the words a page shows (names, not ids).
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [models.Index(fields=["area", "-at"], name="audit_area_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.area} {self.object_label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnly("audit entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnly("audit entries are append-only")
