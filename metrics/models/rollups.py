"""Daily roll-ups: the additive counts and sums the KPIs are built from (``metrics.selectors.rollups``).

One :class:`DailyRollup` row per (day, rep, team, pool, channel) that had any activity; a
dimension is null where it does not apply (a lead created straight into a pool has no rep).
``day`` is a calendar day in the company time zone. The rows are written only by
``metrics.services.rollups.rollup_days`` (delete and re-insert of whole days, so rolling a day up twice
gives the same rows); :class:`RollupDay` marks the days that have been rolled up, so that
readers know which days to take from this table and which to compute live (today, and any day
the nightly job has not reached yet).

The dimensions are plain ids without foreign keys: a roll-up is a record of what happened,
and deleting a user, team or pool must neither cascade into it nor be refused because of it.
"""

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

__all__ = ["ADDITIVE_MEASURES", "DailyRollup", "RollupDay"]


def _count(label: "StrOrPromise") -> models.PositiveIntegerField:
    # db_default: SQL that writes rows (the roll-up, the seed) may leave a measure out.
    return models.PositiveIntegerField(label, default=0, db_default=0)


class DailyRollup(models.Model):
    day = models.DateField(_("day"))
    rep_id = models.BigIntegerField(_("rep"), null=True, blank=True)
    team_id = models.BigIntegerField(_("team"), null=True, blank=True)
    pool_id = models.BigIntegerField(_("pool"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=20, blank=True, default="")

    followups_call = _count(_("calls"))
    followups_visit = _count(_("visits"))
    followups_email = _count(_("e-mails"))
    followups_meeting = _count(_("meetings"))
    followups_message = _count(_("messages"))
    deals_won = _count(_("deals won"))
    won_amount = models.DecimalField(
        _("amount won"), max_digits=18, decimal_places=2, default=0, db_default=0
    )
    deals_lost = _count(_("deals lost"))
    new_customers = _count(_("new customers"))
    customers_created = _count(_("customers created"))
    claims = _count(_("claims"))
    assigns = _count(_("assignments"))
    releases = _count(_("releases"))
    recycles = _count(_("recycles"))
    pool_entries = _count(_("pool entries"))
    nps_answers = _count(_("NPS answers"))
    nps_promoters = _count(_("NPS promoters"))
    nps_detractors = _count(_("NPS detractors"))
    csat_answers = _count(_("CSAT answers"))
    csat_satisfied = _count(_("CSAT satisfied"))
    csat_sum = _count(_("CSAT score sum"))

    class Meta:
        verbose_name = _("daily roll-up")
        verbose_name_plural = _("daily roll-ups")
        # One row per key by construction (``rollup_days`` groups every source's rows by the key
        # in one statement); a unique constraint could not say so for null dimensions portably.
        indexes = [
            models.Index(fields=["day"], name="rollup_day"),
            # Company-wide sums and the series read ranges of days; scoped reads add one column.
            models.Index(fields=["rep_id", "day"], name="rollup_rep_day", condition=Q(rep_id__isnull=False)),
            models.Index(
                fields=["team_id", "day"], name="rollup_team_day", condition=Q(team_id__isnull=False)
            ),
            models.Index(
                fields=["pool_id", "day"], name="rollup_pool_day", condition=Q(pool_id__isnull=False)
            ),
            models.Index(fields=["channel", "day"], name="rollup_channel_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} rep={self.rep_id} team={self.team_id} pool={self.pool_id} {self.channel}"


class RollupDay(models.Model):
    """A day whose roll-up rows are complete (written in the same transaction as the rows)."""

    day = models.DateField(_("day"), primary_key=True)
    rolled_up_at = models.DateTimeField(_("rolled up at"), default=timezone.now)

    class Meta:
        verbose_name = _("rolled-up day")
        verbose_name_plural = _("rolled-up days")

    def __str__(self) -> str:
        return str(self.day)


ADDITIVE_MEASURES: tuple[str, ...] = tuple(
    field.name
    for field in DailyRollup._meta.local_fields
    if field.name not in {"id", "day", "rep_id", "team_id", "pool_id", "channel"}
)
