"""The weighted quarterly scorecard's settings (KPI.md, "Weighted scorecard"): a target per KPI,
quarter and scope, a weight per chosen KPI, and the cap on each KPI's achievement.

Rules (targets positive, weights summing to 100 %, cap at least 100 %) are checked by
``metrics.services.scorecard``; the database holds the ones a single row can state.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["DEFAULT_SCORECARD_CAP", "KpiTarget", "ScorecardSettings", "ScorecardWeight"]

DEFAULT_SCORECARD_CAP = Decimal(120)


class KpiTarget(models.Model):
    """What a KPI should reach in one quarter, for one rep, one team, or everyone.

    ``rep`` and ``team`` are both null for the company-wide default ("everyone"); at most one of
    them is set. ``quarter`` is the quarter's first day. A target is in the KPI's own unit
    (percent as 12.5 for 12.5 %, money, days, a count).
    """

    kpi = models.CharField(_("KPI"), max_length=40)
    quarter = models.DateField(_("quarter"))
    rep = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sales rep"),
    )
    team = models.ForeignKey(
        "customers.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("team"),
    )
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=4)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        ordering = ["-quarter", "kpi"]
        verbose_name = _("KPI target")
        verbose_name_plural = _("KPI targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(rep__isnull=True) | Q(team__isnull=True), name="kpi_target_one_scope"
            ),
            models.CheckConstraint(condition=Q(target__gt=0), name="kpi_target_positive"),
            # One target per KPI, quarter and scope; NULL never equals NULL, hence one per case.
            models.UniqueConstraint(
                fields=["kpi", "quarter", "rep"], condition=Q(rep__isnull=False), name="kpi_target_rep_once"
            ),
            models.UniqueConstraint(
                fields=["kpi", "quarter", "team"],
                condition=Q(team__isnull=False),
                name="kpi_target_team_once",
            ),
            models.UniqueConstraint(
                fields=["kpi", "quarter"],
                condition=Q(rep__isnull=True, team__isnull=True),
                name="kpi_target_everyone_once",
            ),
        ]
        indexes = [models.Index(fields=["quarter", "kpi"], name="kpi_target_quarter")]

    def __str__(self) -> str:
        return f"{self.kpi} {self.quarter:%Y-%m}: {self.target}"


class ScorecardWeight(models.Model):
    """A KPI chosen for the scorecard and its weight in percent; all weights sum to 100."""

    kpi = models.CharField(_("KPI"), max_length=40, unique=True)
    weight = models.DecimalField(_("weight (%)"), max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["-weight", "kpi"]
        verbose_name = _("scorecard weight")
        verbose_name_plural = _("scorecard weights")
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="scorecard_weight_range"),
        ]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.weight} %"


class ScorecardSettings(models.Model):
    """The one row of scorecard settings (``pk`` is always 1): the cap on a KPI's achievement,
    in percent (120 means a KPI counts at most 1.2 * its weight)."""

    cap = models.DecimalField(_("cap (%)"), max_digits=6, decimal_places=2, default=DEFAULT_SCORECARD_CAP)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("scorecard settings")
        verbose_name_plural = _("scorecard settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="scorecard_settings_single_row"),
            models.CheckConstraint(condition=Q(cap__gte=100), name="scorecard_cap_at_least_100"),
        ]

    def __str__(self) -> str:
        return f"cap {self.cap} %"
