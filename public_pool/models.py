"""Pools of unassigned leads.

A customer's ownership state lives on the customer row (``Customer.pool`` /
``Customer.owner``) so that the database enforces "owned or pooled, never both
or neither". Claim, release and recycle rules build on this model.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Pool(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    teams = models.ManyToManyField(
        "customers.Team",
        related_name="pools",
        blank=True,
        verbose_name=_("member teams"),
        help_text=_("Reps of these teams may see and claim the pool's leads."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_pools",
        null=True,
        blank=True,
        verbose_name=_("owner"),
    )
    max_held_per_rep = models.PositiveIntegerField(
        _("max customers held per rep"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    max_claims_per_day = models.PositiveIntegerField(
        _("max claims per rep per day"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    cooldown_days = models.PositiveIntegerField(
        _("cooldown days"),
        default=0,
        help_text=_("Days before a previous owner may claim a lead they released or lost again."),
    )
    hide_contacts = models.BooleanField(_("hide contact details while pooled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")

    def __str__(self) -> str:
        return self.name
