"""Churn early-warning flags (``metrics.services.churn``) and the value-tier thresholds (``metrics.services.tiers``).

A :class:`ChurnFlag` is one reason one paying customer looks at risk. The nightly job replaces
the set of current flags as a whole (upsert + delete of the ones that no longer hold), keeping
``flagged_at`` for flags that persist, so "flagged since" means since the risk first showed.
Typed columns keep the figures the reason is rendered from at display time, in the reader's
language (:attr:`ChurnFlag.message`), as ``public_pool.Notification`` does with its params.
"""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

__all__ = ["ChurnFlag", "ChurnReason", "ValueTierSettings"]


class ChurnReason(models.TextChoices):
    PURCHASE_GAP = "purchase_gap", _("Overdue purchase")
    DETRACTOR = "detractor", _("Detractor NPS answer")
    FOLLOWUPS_STOPPED = "followups_stopped", _("Follow-ups stopped")


class ChurnFlag(models.Model):
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="churn_flags", verbose_name=_("customer")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=ChurnReason.choices)
    # The figures the reason is rendered from (which ones depends on the reason).
    days = models.PositiveIntegerField(_("days"), null=True, blank=True)
    interval_days = models.DecimalField(
        _("median days between purchases"), max_digits=9, decimal_places=1, null=True, blank=True
    )
    nps = models.PositiveSmallIntegerField(_("NPS score"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    flagged_at = models.DateTimeField(_("flagged at"), default=timezone.now)
    checked_at = models.DateTimeField(_("last confirmed"), default=timezone.now)

    class Meta:
        ordering = ["-flagged_at", "-id"]
        verbose_name = _("churn warning")
        verbose_name_plural = _("churn warnings")
        constraints = [
            models.UniqueConstraint(fields=["customer", "reason"], name="churnflag_once_per_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.reason}"

    @property
    def message(self) -> str:
        """The reason with its figures, in the active language."""
        days = self.days or 0
        if self.reason == ChurnReason.PURCHASE_GAP:
            return ngettext(
                "No purchase for %(days)s day; usually buys every %(interval)s days.",
                "No purchase for %(days)s days; usually buys every %(interval)s days.",
                days,
            ) % {"days": days, "interval": _number(self.interval_days)}
        if self.reason == ChurnReason.DETRACTOR:
            answered = timezone.localtime(self.answered_at).date().isoformat() if self.answered_at else ""
            return gettext("Gave an NPS score of %(score)s on %(date)s.") % {
                "score": self.nps,
                "date": answered,
            }
        return ngettext("No follow-up for %(days)s day.", "No follow-up for %(days)s days.", days) % {
            "days": days
        }


def _number(value: Decimal | None) -> str:
    """``30.0`` reads ``30``, ``30.5`` stays."""
    if value is None:
        return ""
    return f"{value:.1f}".removesuffix(".0")


class ValueTierSettings(models.Model):
    """CLV thresholds admins may set for value tiers (one row, edited in the Django admin).

    With both thresholds empty, tiers are relative: the top 20 % of paying customers by CLV are
    A, the next 30 % B, the rest C. With both set, A is CLV ≥ ``tier_a_min_clv`` and B is
    CLV ≥ ``tier_b_min_clv``. Customers without a won deal have no CLV and no tier.
    """

    tier_a_min_clv = models.DecimalField(
        _("tier A from CLV"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    tier_b_min_clv = models.DecimalField(
        _("tier B from CLV"), max_digits=16, decimal_places=2, null=True, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("value tier thresholds")
        verbose_name_plural = _("value tier thresholds")
        constraints = [
            models.CheckConstraint(
                condition=Q(tier_a_min_clv__isnull=True, tier_b_min_clv__isnull=True)
                | Q(
                    tier_a_min_clv__isnull=False,
                    tier_b_min_clv__isnull=False,
                    tier_a_min_clv__gte=models.F("tier_b_min_clv"),
                ),
                name="valuetier_thresholds_both_ordered",
                violation_error_message=_(
                    "Set both thresholds (tier A at least tier B), or leave both empty to rank customers by share."
                ),
            ),
        ]

    def __str__(self) -> str:
        return gettext("Value tier thresholds")

    @property
    def thresholds(self) -> tuple[Decimal, Decimal] | None:
        if self.tier_a_min_clv is None or self.tier_b_min_clv is None:
            return None
        return self.tier_a_min_clv, self.tier_b_min_clv
