"""NPS and CSAT survey links sent to a customer's contact (see ``metrics.services.surveys``)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

__all__ = ["SurveyInvitation", "SurveyKind"]


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    CSAT = "csat", _("CSAT (1–5)")


class SurveyInvitation(models.Model):
    """One survey link: who was asked what, when it expires, and the answer it produced.

    The link's token is ``django.core.signing`` over the row's id (``metrics.selectors.surveys.token_for``),
    so it needs no column; ``answered_at`` is set once, by a conditional UPDATE, and
    ``feedback`` points at the ``customers.Feedback`` row the answer became.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("customer"),
    )
    contact = models.ForeignKey(
        "customers.Contact",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("contact"),
    )
    kind = models.CharField(_("kind"), max_length=4, choices=SurveyKind.choices)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    sent_at = models.DateTimeField(_("sent at"))
    expires_at = models.DateTimeField(_("expires at"))
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    feedback = models.ForeignKey(
        "customers.Feedback",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("feedback"),
    )

    class Meta:
        ordering = ["-sent_at", "-id"]
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("sent_at")), name="survey_expires_after_sent"
            ),
        ]
        indexes = [models.Index(F("customer"), F("sent_at").desc(), name="survey_customer_sent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.contact_id} ({self.sent_at:%Y-%m-%d})"
