"""Pools of unassigned leads, the rules that send owned customers back, and the pool's log.

A customer's ownership state lives on the customer row (``Customer.pool`` /
``Customer.owner``) so that the database enforces "owned or pooled, never both
or neither". Everything that changes it is a function in ``public_pool.services``
and writes exactly one :class:`PoolEvent` in the same transaction.

Recycle policy (see ``services.policies``): an owned customer *belongs* to a pool, its
``home_pool`` (the pool it was last taken from; customers that never were in a pool
belong to the pool marked ``is_default``). Of that pool's enabled :class:`RecycleRule`
rows, the FIRST whose conditions match (lowest ``priority``, then ``id``) applies —
firewall-style, so an admin can put "A-level customers: 60 days" above "everyone: 30
days". The applying rule's parameters are copied onto the customer row
(``recycle_rule``, ``recycle_idle_days``, ``recycle_deal_days``,
``recycle_exempt_stage``) so that ``customers.services`` can keep ``recycle_due_at``
current from the row's own columns without importing this app.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import formats, timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from customers.models import DealStage, Level, Source, ValueTier

# The most a pool's ``max_extension_days`` may be set to (a year).
MAX_EXTENSION_DAYS_CEILING = 365


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
        _("max customers held per rep"),
        null=True,
        blank=True,
        help_text=_("Customers taken from this pool that a rep may hold at once. Empty means no limit."),
    )
    max_claims_per_day = models.PositiveIntegerField(
        _("max claims per rep per day"),
        null=True,
        blank=True,
        help_text=_(
            "Leads a rep may take from this pool per day (claimed or assigned). Empty means no limit."
        ),
    )
    cooldown_days = models.PositiveIntegerField(
        _("cooldown days"),
        default=0,
        help_text=_("Days before a previous owner may claim a lead they released or lost again."),
    )
    hide_contacts = models.BooleanField(_("hide contact details while pooled"), default=True)
    max_extension_days = models.PositiveIntegerField(
        _("max extension days"),
        default=14,
        db_default=14,
        help_text=_("The most days a rep may ask for in one request for more time."),
    )
    recycle_target = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recycle into"),
        help_text=_(
            "Where this pool's rules send recycled customers unless a rule says otherwise. Empty: this pool."
        ),
    )
    is_default = models.BooleanField(
        _("default pool"),
        default=False,
        help_text=_(
            "Customers that never were in a pool follow this pool's recycle rules, "
            "and released customers without a pool go here."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    # Rule edits stamp ``rules_changed_at``; re-matching the pool's owned customers (a task, and
    # the recycle job for anything a missing worker left behind) stamps ``rules_applied_at``.
    rules_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    rules_applied_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("pool")
        verbose_name_plural = _("pools")
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="pool_one_default"
            ),
            models.CheckConstraint(
                condition=Q(max_extension_days__gte=1, max_extension_days__lte=MAX_EXTENSION_DAYS_CEILING),
                name="pool_max_extension_days_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReleaseReason(models.Model):
    """Why a rep gives a customer back. Admins edit the list; events store the ``code``.

    Database rows cannot go through gettext, so each row carries its English ``label`` and
    a Simplified Chinese ``label_zh``; :attr:`display_label` picks by the active language.
    Reasons are deactivated, never deleted, so old events keep a meaning.
    """

    code = models.SlugField(_("code"), max_length=40, unique=True)
    label = models.CharField(_("label (English)"), max_length=100)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    requires_note = models.BooleanField(
        _("requires a note"), default=False, help_text=_("The rep must explain in free text.")
    )

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("release reason")
        verbose_name_plural = _("release reasons")

    def __str__(self) -> str:
        return self.display_label

    @property
    def display_label(self) -> str:
        language = translation.get_language() or ""
        if language.lower().startswith("zh") and self.label_zh:
            return self.label_zh
        return self.label


# Stages an "open deal at or past" exemption can name: the open ones, in pipeline order.
EXEMPT_STAGE_CHOICES = [(stage.value, stage.label) for stage in DealStage if stage in DealStage.open_stages()]


class RecycleRule(models.Model):
    """When owned customers of ``pool`` go back to a pool.

    Conditions (all optional, combined with AND): the owner's ``team``, the customer's
    ``level``, ``value_tier``, a ``tag`` and ``source``. Triggers (either or both; a null
    turns one off): no follow-up for ``no_followup_days`` (counted from the later of the
    last follow-up and the claim), and no won deal ``no_deal_days`` after the claim. The
    customer is due at the earlier trigger. Exemptions: protected customers always; an open
    deal at or past ``exempt_open_deal_from_stage``. Recycled customers go to
    ``target_pool``, else the pool's ``recycle_target``, else the pool itself.
    """

    pool = models.ForeignKey(
        Pool, on_delete=models.CASCADE, related_name="recycle_rules", verbose_name=_("pool")
    )
    name = models.CharField(_("name"), max_length=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=100,
        help_text=_("When several rules match a customer, the lowest number applies."),
    )
    team = models.ForeignKey(
        "customers.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only for team"),
    )
    level = models.CharField(_("only for level"), max_length=1, choices=Level.choices, blank=True)
    value_tier = models.CharField(
        _("only for value tier"), max_length=1, choices=ValueTier.choices, blank=True
    )
    tag = models.ForeignKey(
        "customers.Tag",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("only with tag"),
    )
    source = models.CharField(_("only from source"), max_length=20, choices=Source.choices, blank=True)
    no_followup_days = models.PositiveIntegerField(
        _("recycle after days without follow-up"), null=True, blank=True, help_text=_("Empty: condition off.")
    )
    no_deal_days = models.PositiveIntegerField(
        _("recycle when no deal won within days of the claim"),
        null=True,
        blank=True,
        help_text=_("Empty: condition off."),
    )
    exempt_open_deal_from_stage = models.CharField(
        _("exempt with an open deal at or past"),
        max_length=12,
        choices=EXEMPT_STAGE_CHOICES,
        blank=True,
        help_text=_("Empty: open deals do not exempt. Protected customers are always exempt."),
    )
    warn_days = models.PositiveIntegerField(
        _("warn days before"), default=3, help_text=_("Owners are told this many days before recycling.")
    )
    target_pool = models.ForeignKey(
        Pool,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recycle into"),
        help_text=_("Empty: the pool's default target, or the pool itself."),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["pool", "priority", "id"]
        verbose_name = _("recycle rule")
        verbose_name_plural = _("recycle rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(no_followup_days__isnull=False) | Q(no_deal_days__isnull=False),
                name="recyclerule_has_a_trigger",
                violation_error_message=_(
                    "A rule needs days without follow-up, days without a deal, or both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(no_followup_days__isnull=True) | Q(no_followup_days__gte=1),
                name="recyclerule_followup_days_positive",
            ),
            models.CheckConstraint(
                condition=Q(no_deal_days__isnull=True) | Q(no_deal_days__gte=1),
                name="recyclerule_deal_days_positive",
            ),
        ]
        indexes = [models.Index(fields=["pool", "enabled", "priority", "id"], name="recyclerule_pool_order")]

    def __str__(self) -> str:
        return f"{self.pool}: {self.name}"

    @property
    def effective_target_id(self) -> int:
        """The pool recycled customers go to."""
        return self.target_pool_id or self.pool.recycle_target_id or self.pool_id


class PriorityWeights(models.Model):
    """How a pool ranks its leads (``services.priority``). One row per pool, made on demand.

    Each factor scores a lead 0–100; the priority score is the weighted mean of the factor
    scores, times 10 (so 0–1000, an integer the pool list sorts by). Categorical factors
    (industry, size, source, level) take their per-value score from the ``*_scores`` maps
    (missing values score ``0``); ``recency`` is 100 for activity today, falling linearly to 0
    at ``recency_horizon_days``; ``engagement`` is 10 points per earlier follow-up plus 25 per
    earlier deal (35 more if won), capped at 100.
    """

    pool = models.OneToOneField(
        Pool,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="priority_weights",
        verbose_name=_("pool"),
    )
    industry_weight = models.PositiveSmallIntegerField(_("industry weight"), default=20)
    size_weight = models.PositiveSmallIntegerField(_("size weight"), default=20)
    source_weight = models.PositiveSmallIntegerField(_("source weight"), default=15)
    level_weight = models.PositiveSmallIntegerField(_("level (need) weight"), default=10)
    recency_weight = models.PositiveSmallIntegerField(_("recency weight"), default=20)
    engagement_weight = models.PositiveSmallIntegerField(_("past engagement weight"), default=15)
    industry_scores = models.JSONField(_("score per industry"), default=dict, blank=True)
    size_scores = models.JSONField(_("score per company size"), default=dict, blank=True)
    source_scores = models.JSONField(_("score per source"), default=dict, blank=True)
    level_scores = models.JSONField(_("score per level"), default=dict, blank=True)
    recency_horizon_days = models.PositiveIntegerField(_("recency horizon (days)"), default=180)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("priority weights")
        verbose_name_plural = _("priority weights")
        constraints = [
            models.CheckConstraint(
                condition=Q(recency_horizon_days__gte=1), name="priorityweights_horizon_positive"
            ),
        ]

    def __str__(self) -> str:
        return gettext("Priority weights of %(pool)s") % {"pool": self.pool}


class PoolEventKind(models.TextChoices):
    CLAIM = "claim", _("Claimed")
    RELEASE = "release", _("Released")
    ASSIGN = "assign", _("Assigned")
    TRANSFER = "transfer", _("Transferred")
    RECYCLE = "recycle", _("Recycled")
    IMPORT = "import", _("Imported")
    CREATE = "create", _("Created in pool")
    MOVE = "move", _("Moved between pools")
    EXTENSION_REQUEST = "extension_request", _("Extension requested")
    EXTENSION_APPROVE = "extension_approve", _("Extension approved")
    EXTENSION_REFUSE = "extension_refuse", _("Extension refused")


class RecycleTrigger(models.TextChoices):
    """What made a rule recycle a customer (``PoolEvent.reason`` of ``recycle`` events)."""

    NO_FOLLOWUP = "no_followup", _("no follow-up in time")
    NO_DEAL = "no_deal", _("no deal won in time")


# ``PoolEvent.reason`` of automatic distribution: the strategy (``services.DistributionStrategy``).
DISTRIBUTION_REASON_LABELS = {
    "round_robin": _("round robin"),
    "least_loaded": _("least loaded first"),
}


# Kinds that hand a pooled lead to a rep: the per-day limit counts these.
TAKE_KINDS = [PoolEventKind.CLAIM, PoolEventKind.ASSIGN]
# Kinds by which a rep loses a customer into a pool: the cooldown starts with these.
LOSS_KINDS = [PoolEventKind.RELEASE, PoolEventKind.RECYCLE, PoolEventKind.MOVE]


class PoolEvent(models.Model):
    """One entry of the append-only pool log.

    Written only by ``public_pool.services``, exactly one per ownership change, in the same
    transaction. On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE (migration
    0003); every foreign key is PROTECT so nothing cascades into the log.

    ``from_pool`` is set when the customer was pooled before the change, ``to_pool`` when it
    is pooled after; ``from_owner``/``to_owner`` likewise for owners. ``actor`` is null for the
    system (the recycle job). ``reason`` is a release-reason code for releases, the trigger
    (``no_followup``/``no_deal``) for recycling, the strategy for automatic distribution.
    """

    # No single-column index: ``poolevent_customer_at`` leads with the customer, and every claim,
    # release and recycle writes an event, so an index less is time saved on each.
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.PROTECT,
        related_name="pool_events",
        verbose_name=_("customer"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=24, choices=PoolEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        db_index=False,  # served by poolevent_actor_at
    )
    from_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from owner"),
        db_index=False,  # served by poolevent_from_owner_at
    )
    to_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to owner"),
        db_index=False,  # served by poolevent_taken_per_day / poolevent_to_owner_at
    )
    from_pool = models.ForeignKey(
        Pool,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("from pool"),
        db_index=False,  # served by poolevent_from_pool_at
    )
    to_pool = models.ForeignKey(
        Pool,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to pool"),
        db_index=False,  # served by poolevent_to_pool_at
    )
    reason = models.CharField(_("reason"), max_length=40, blank=True)
    note = models.TextField(_("note"), blank=True)
    rule = models.ForeignKey(
        RecycleRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("rule"),
    )
    override = models.BooleanField(_("limits overridden"), default=False)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("pool event")
        verbose_name_plural = _("pool events")
        indexes = [
            models.Index(F("customer"), F("at").desc(), F("id").desc(), name="poolevent_customer_at"),
            models.Index(F("from_pool"), F("at").desc(), name="poolevent_from_pool_at"),
            models.Index(F("to_pool"), F("at").desc(), name="poolevent_to_pool_at"),
            models.Index(fields=["actor", "at"], name="poolevent_actor_at"),
            models.Index(fields=["from_owner", "at"], name="poolevent_from_owner_at"),
            models.Index(fields=["to_owner", "at"], name="poolevent_to_owner_at"),
            models.Index(F("kind"), F("at").desc(), name="poolevent_kind_at"),
            # The per-day limit: leads a rep took from a pool since midnight. Spelled as an OR,
            # not IN: PostgreSQL prints an IN list over a varchar column in a form that reads
            # back differently, and seed_demo drops and recreates this index from its printout.
            models.Index(
                fields=["to_owner", "from_pool", "at"],
                condition=Q(kind="claim") | Q(kind="assign"),
                name="poolevent_taken_per_day",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.customer_id} {self.at:%Y-%m-%d %H:%M}"


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ExtensionRequest(models.Model):
    """A rep's request to push a customer's recycle deadline out; one per customer per ownership.

    An ownership is (customer, owner, ``owned_since`` = the customer's ``claimed_at``), so a
    rep who loses and later regains a customer may ask again; the unique constraint makes a
    second request in one ownership fail even when two arrive at once.
    """

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("customer"),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("requested by")
    )
    owned_since = models.DateTimeField(_("owned since"))
    days = models.PositiveIntegerField(_("days"))
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExtensionStatus.choices, default=ExtensionStatus.PENDING
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "owner", "owned_since"], name="extension_once_per_ownership"
            ),
            models.CheckConstraint(condition=Q(days__gte=1), name="extension_days_positive"),
            models.CheckConstraint(
                condition=Q(status="pending", decided_at__isnull=True)
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="extension_decided_at_iff_decided",
            ),
        ]
        indexes = [models.Index(fields=["status", "requested_at"], name="extension_status_requested")]

    def __str__(self) -> str:
        return f"{self.customer} +{self.days}d ({self.get_status_display()})"

    @property
    def customer_still_theirs(self) -> bool:
        """The requesting rep still owns the customer, in the ownership the request was made in
        (not recycled, released or transferred since, even if taken back later)."""
        customer = self.customer
        owned_since = customer.claimed_at or customer.created_at
        return customer.owner_id == self.owner_id and owned_since == self.owned_since


class NotificationKind(models.TextChoices):
    RECYCLE_WARNING = "recycle_warning", _("Recycle warning")
    RECYCLE_ESCALATION = "recycle_escalation", _("Recycle warning for a team member")
    EXTENSION_REQUESTED = "extension_requested", _("Extension requested")
    EXTENSION_DECIDED = "extension_decided", _("Extension decided")
    RECYCLED = "recycled", _("Returned to the pool")


def recycle_trigger_words(*, trigger: str, since: datetime | None, days: int | None) -> str:
    """A recycle trigger in words: "no follow-up since 3 Oct for 30 days" (active language)."""
    params = {
        "since": formats.date_format(timezone.localtime(since), "MONTH_DAY_FORMAT") if since else "",
        "days": days if days is not None else "",
    }
    if trigger == RecycleTrigger.NO_DEAL:
        if since is None:
            return gettext("no deal won in time")
        return gettext("no deal won since %(since)s for %(days)s days") % params
    if since is None:
        return gettext("no follow-up in time")
    return gettext("no follow-up since %(since)s for %(days)s days") % params


def recycled_reason_words(params: dict) -> str:
    """The trigger of a ``recycled`` notice in words, from its ``params``."""
    since = params.get("since")
    return recycle_trigger_words(
        trigger=params.get("trigger", ""),
        since=parse_datetime(since) if isinstance(since, str) else None,
        days=params.get("days"),
    )


def recycled_message(params: dict) -> str:
    """The ``recycled`` notice, from the values the recycle batch stored (see ``services.recycle``)."""
    words = recycled_reason_words(params)
    return gettext("%(customer)s went back to the pool %(pool)s by the rule “%(rule)s”: %(why)s.") % {
        "customer": params.get("customer", ""),
        "pool": params.get("pool", ""),
        "rule": params.get("rule", ""),
        "why": words,
    }


# One warning per (user, customer, deadline): the warn job may run any number of times.
DEADLINE_KINDS = [NotificationKind.RECYCLE_WARNING, NotificationKind.RECYCLE_ESCALATION]


class Notification(models.Model):
    """An in-app message (the navigation badge counts the unread ones).

    ``params`` holds the values the message is rendered from at display time, in the
    reader's language (:attr:`message`). ``emailed_at`` marks those the warn job mailed.
    """

    # The recycle job writes a notice per customer moved, in its batch statement; every index
    # per row is time taken there. So no single-column indexes on the two keys
    # (``notification_user_created`` and ``notification_customer_due`` lead with them). The
    # database foreign keys are kept: measured in bench.pool (bench/README.md), their two checks
    # per notice cost little beside the customer UPDATE of the same batch.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("user"),
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=24, choices=NotificationKind.choices)
    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
        db_index=False,
    )
    due_at = models.DateTimeField(_("recycle due"), null=True, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True)
    # ``recycled`` notices: when the owner's manager got them in the daily team digest.
    team_digested_at = models.DateTimeField(_("in the team digest at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "customer", "due_at"],
                condition=Q(kind__in=["recycle_warning", "recycle_escalation"]),
                name="notification_once_per_deadline",
            ),
        ]
        indexes = [
            models.Index(F("user"), F("created_at").desc(), name="notification_user_created"),
            models.Index(fields=["user"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["customer", "due_at"], name="notification_customer_due"),
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        """The text in the active language, from ``params``."""
        params = {"customer": self.params.get("customer", ""), "days": self.params.get("days", "")}
        due = self.due_at and timezone.localtime(self.due_at).strftime("%Y-%m-%d %H:%M")
        params["due"] = due or ""
        params["owner"] = self.params.get("owner", "")
        if self.kind == NotificationKind.RECYCLE_WARNING:
            return gettext("%(customer)s will be recycled on %(due)s unless you follow up.") % params
        if self.kind == NotificationKind.RECYCLE_ESCALATION:
            return gettext("%(owner)s's customer %(customer)s will be recycled on %(due)s.") % params
        if self.kind == NotificationKind.RECYCLED:
            return recycled_message(self.params)
        if self.kind == NotificationKind.EXTENSION_REQUESTED:
            return gettext("%(owner)s asks for %(days)s more days for %(customer)s.") % params
        return self._extension_decided_message(params)

    def _extension_decided_message(self, params: dict[str, Any]) -> str:
        params["by"] = self.params.get("by", "")
        approved = bool(self.params.get("approved"))
        if approved and params["by"] and params["due"]:
            text = gettext(
                "%(by)s approved %(days)s more days for %(customer)s. New recycle deadline: %(due)s."
            )
        elif approved:
            text = gettext("Your extension of %(days)s days for %(customer)s was approved.")
        elif params["by"] and params["due"]:
            text = gettext("%(by)s refused more time for %(customer)s. The recycle deadline stays %(due)s.")
        else:
            text = gettext("Your extension for %(customer)s was refused.")
        message = text % params
        if self.params.get("note"):
            message += " " + gettext("Note: %(note)s") % {"note": self.params["note"]}
        return message


class ImportStatus(models.TextChoices):
    DRAFT = "draft", _("Waiting for the column mapping")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """One upload of a lead file into a pool (``services.imports``): who, when, the column
    mapping, progress, counts, and the per-row report (a CSV in the default storage).

    Life: ``draft`` (uploaded, mapping not confirmed; pages only) → ``queued`` (a Celery task
    is enqueued) → ``running`` → ``done`` or ``failed``. While running, each chunk of rows is
    committed in one transaction together with ``last_row`` (the watermark: the file row up to
    which everything is imported and reported), the counts and ``report_bytes`` (the committed
    length of the report file), so a run killed half-way resumes after ``last_row`` and
    repeats no row. Files refused before any row is read leave no batch.
    """

    pool = models.ForeignKey(
        Pool, on_delete=models.PROTECT, related_name="import_batches", verbose_name=_("pool")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("imported by"),
    )
    created_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    file_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    source_file = models.FileField(_("uploaded file"), upload_to="imports/sources/%Y/%m/", blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    header = models.JSONField(_("header row"), default=list, blank=True)
    mapping = models.JSONField(_("column mapping"), default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows processed"), default=0)
    last_row = models.PositiveIntegerField(_("last row imported"), default=1)
    report_bytes = models.PositiveBigIntegerField(_("report length"), default=0)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    duplicate_count = models.PositiveIntegerField(_("duplicates"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    error_message = models.TextField(_("error"), blank=True)
    report = models.FileField(_("report"), upload_to="imports/%Y/%m/", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.created_at:%Y-%m-%d %H:%M})"

    @property
    def is_active(self) -> bool:
        """Queued or running: the page keeps polling its progress."""
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        return min(100, self.processed_rows * 100 // self.total_rows) if self.total_rows else 0


class JobLock(models.Model):
    """A named run lock for periodic jobs where PostgreSQL's advisory locks are missing (SQLite).

    Taken by one conditional UPDATE (free or expired → ours), so two processes can never both
    hold it; ``expires_at`` frees the lock of a run that died without releasing it, and a live
    run moves it on as it goes. See ``public_pool.services.run_lock``.
    """

    name = models.CharField(_("job"), max_length=50, primary_key=True)
    holder = models.CharField(_("held by"), max_length=64, blank=True)
    expires_at = models.DateTimeField(_("held until"), null=True, blank=True)

    class Meta:
        verbose_name = _("job lock")
        verbose_name_plural = _("job locks")

    def __str__(self) -> str:
        return self.name


class ChatKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")
    FEISHU = "feishu", _("Feishu group robot")


class TeamChatWebhook(models.Model):
    """A team's group-chat robot: recycle warnings, recycled notices and extension decisions of
    the team's reps are also posted there (``services.team_chat``), each kind in its own format."""

    team = models.OneToOneField(
        "customers.Team", on_delete=models.CASCADE, related_name="chat_webhook", verbose_name=_("team")
    )
    kind = models.CharField(_("chat"), max_length=16, choices=ChatKind.choices)
    url = models.URLField(_("webhook URL"), max_length=500)
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("team chat webhook")
        verbose_name_plural = _("team chat webhooks")

    def __str__(self) -> str:
        return f"{self.team} · {self.get_kind_display()}"
