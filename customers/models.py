"""Customer records and the sales organisation that owns them.

Timestamps that KPIs and the public pool are computed from are stored here, set by
services (never by ``save()``): ``created_at`` (history can be back-dated by imports
and the demo seed), ``last_followup_at``, ``first_won_at``, ``claimed_at``,
``pooled_at`` and ``recycle_due_at``.
"""

import re

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    REP = "rep", _("Sales rep")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    manager = models.ForeignKey(
        "customers.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )
    region = models.CharField(_("region"), max_length=50, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


# Han characters (CJK unified ideographs, extension A, compatibility ideographs).
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def person_name(*, given: str, family: str) -> str:
    """A person's name as people write it.

    Names written in Chinese characters put the family name first with no space (陈 + 强 →
    陈强), whatever the page's language: that is how the name is written in English text too.
    Names in Latin script keep the order their owner typed them in, given name first
    ("Anna Weber"), in both languages.
    """
    given, family = given.strip(), family.strip()
    if _HAN.search(given + family):
        return f"{family}{given}"
    return f"{given} {family}".strip()


class User(AbstractUser):
    """A person who signs in. ``role`` decides what they see (see ``selectors.customers_visible_to``).

    Admins edit roles and teams in the Django admin; the role is a field rather than a
    group so that the visibility rule is one indexed comparison, not a join.
    """

    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.REP)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_away = models.BooleanField(
        _("away"), default=False, help_text=_("Away reps get no automatically distributed leads.")
    )

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]  # django-stubs leaves it out
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def is_rep(self) -> bool:
        return self.role == Role.REP

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN or self.is_superuser

    def get_full_name(self) -> str:
        """Family name first for names in Chinese characters (see :func:`person_name`)."""
        return person_name(given=self.first_name, family=self.last_name)

    def get_short_name(self) -> str:
        """How a greeting addresses the person: the whole Chinese name, else the given name."""
        if _HAN.search(self.first_name + self.last_name):
            return self.get_full_name()
        return self.first_name.strip() or self.username

    @staticmethod
    def label(*, username: str, first_name: str, last_name: str) -> str:
        """How pages and pickers name a person: their name, else their username. ``str(user)``
        is this; ``selectors.rep_choices`` names people from plain values with it."""
        return person_name(given=first_name, family=last_name) or username

    def __str__(self) -> str:
        return self.label(username=self.username, first_name=self.first_name, last_name=self.last_name)


class Industry(models.TextChoices):
    MANUFACTURING = "manufacturing", _("Manufacturing")
    SOFTWARE = "software", _("Software & IT")
    FINANCE = "finance", _("Finance")
    RETAIL = "retail", _("Retail & e-commerce")
    HEALTHCARE = "healthcare", _("Healthcare")
    EDUCATION = "education", _("Education")
    LOGISTICS = "logistics", _("Logistics")
    ENERGY = "energy", _("Energy")
    CONSTRUCTION = "construction", _("Construction & real estate")
    MEDIA = "media", _("Media & advertising")
    OTHER = "other", _("Other")


class CompanySize(models.TextChoices):
    MICRO = "micro", _("1–10 employees")
    SMALL = "small", _("11–50 employees")
    MEDIUM = "medium", _("51–200 employees")
    LARGE = "large", _("201–1000 employees")
    ENTERPRISE = "enterprise", _("More than 1000 employees")


class Source(models.TextChoices):
    """Acquisition channel: where a customer came from."""

    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    TRADE_SHOW = "trade_show", _("Trade show")
    COLD_CALL = "cold_call", _("Cold call")
    ADVERTISING = "advertising", _("Advertising")
    SOCIAL = "social", _("Social media")
    PARTNER = "partner", _("Partner")
    IMPORT = "import", _("Import")
    OTHER = "other", _("Other")


class Level(models.TextChoices):
    """The rep's judgement of a customer's importance, set by hand."""

    A = "A", _("A – key account")
    B = "B", _("B – important")
    C = "C", _("C – normal")


class ValueTier(models.TextChoices):
    """Computed nightly from customer lifetime value (KPI.md, "Value tier")."""

    A = "A", _("Tier A")
    B = "B", _("Tier B")
    C = "C", _("Tier C")


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    channel = models.CharField(_("channel"), max_length=20, choices=Source.choices)
    budget = models.DecimalField(_("budget"), max_digits=14, decimal_places=2, default=0)
    target_leads = models.PositiveIntegerField(
        _("target leads"), default=0, help_text=_("Leads the campaign is meant to bring in.")
    )
    target_sales = models.DecimalField(_("target sales"), max_digits=14, decimal_places=2, default=0)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    owner = models.ForeignKey(
        "customers.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="campaigns",
        verbose_name=_("owner"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-starts_on"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="campaign_dates_ordered"),
            models.CheckConstraint(condition=Q(budget__gte=0), name="campaign_budget_not_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignSpend(models.Model):
    """What a campaign spent in one calendar month (``month`` is that month's first day)."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="spends", verbose_name=_("campaign")
    )
    month = models.DateField(_("month"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["month"]
        verbose_name = _("campaign spend")
        verbose_name_plural = _("campaign spends")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "month"], name="campaign_spend_once_per_month"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="campaign_spend_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} {self.month:%Y-%m}"


class Customer(models.Model):
    name = models.CharField(_("company name"), max_length=200)
    # Lower-cased, spaces, punctuation and legal-form suffixes removed: duplicate detection.
    name_normalized = models.CharField(max_length=200, editable=False)
    industry = models.CharField(_("industry"), max_length=20, choices=Industry.choices, blank=True)
    size = models.CharField(_("size"), max_length=20, choices=CompanySize.choices, blank=True)
    region = models.CharField(_("region"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    source = models.CharField(_("source"), max_length=20, choices=Source.choices, default=Source.OTHER)
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="customers",
        verbose_name=_("campaign"),
        db_index=False,  # served by cust_campaign_id
    )
    level = models.CharField(_("level"), max_length=1, choices=Level.choices, default=Level.C)
    value_tier = models.CharField(
        _("value tier"), max_length=1, choices=ValueTier.choices, blank=True, editable=False
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("tags"))
    is_protected = models.BooleanField(
        _("protected"), default=False, help_text=_("Protected customers are never recycled.")
    )
    note = models.TextField(_("note"), blank=True)

    # Ownership: exactly one of owner / pool is set (constraint below).
    owner = models.ForeignKey(
        User,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # served by the (owner, ...) sort indexes
        related_name="customers",
        verbose_name=_("owner"),
    )
    # The owner's team, kept on the row so a manager's list is one index range scan.
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # served by the (team, ...) sort indexes
        related_name="customers",
        verbose_name=_("team"),
    )
    pool = models.ForeignKey(
        "public_pool.Pool",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # served by cust_pool_pooled
        related_name="customers",
        verbose_name=_("pool"),
    )

    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)
    last_followup_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    first_won_at = models.DateTimeField(_("first deal won"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("owned since"), null=True, blank=True)
    pooled_at = models.DateTimeField(_("in pool since"), null=True, blank=True)
    recycle_due_at = models.DateTimeField(_("recycle due"), null=True, blank=True)

    # --- Public pool bookkeeping (kept by public_pool.services; see public_pool/models.py) -------
    # The pool an owned customer belongs to: the pool it was last taken from. Its recycle rules
    # apply, and releases go back to it. Null for customers that never were in a pool.
    home_pool = models.ForeignKey(
        "public_pool.Pool",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # served by cust_home_pool_owner
        related_name="home_customers",
        verbose_name=_("home pool"),
    )
    # The recycle policy that applies, copied from the first matching rule so that
    # ``customers.services.refresh_recycle_due`` recomputes ``recycle_due_at`` from this row's
    # own columns (a follow-up, a won deal or protection moves it at once) without importing
    # public_pool. ``recycle_policy_stale`` marks rows whose matching rule may have changed
    # (new customer, edited level/tags/source); the public pool re-matches them set-based.
    recycle_rule = models.ForeignKey(
        "public_pool.RecycleRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # the recycle job reaches rows through cust_rule_recycle_due
        related_name="+",
        verbose_name=_("recycle rule"),
    )
    recycle_idle_days = models.PositiveIntegerField(null=True, blank=True, editable=False)
    recycle_deal_days = models.PositiveIntegerField(null=True, blank=True, editable=False)
    recycle_exempt_stage = models.CharField(
        max_length=12, blank=True, default="", db_default="", editable=False
    )
    recycle_extension_days = models.PositiveIntegerField(
        _("extension days"), default=0, db_default=0, editable=False
    )
    recycle_policy_stale = models.BooleanField(default=True, db_default=True, editable=False)
    # Rank in the pool list (public_pool.services.priority), 0–1000.
    priority_score = models.IntegerField(_("priority"), default=0, db_default=0, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(
                condition=Q(owner__isnull=False, pool__isnull=True)
                | Q(owner__isnull=True, pool__isnull=False),
                name="customer_owned_xor_pooled",
                violation_error_message=_("A customer is either owned by a rep or in a pool."),
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | Q(team__isnull=True),
                name="customer_team_only_when_owned",
            ),
        ]
        # The list page sorts within a scope (own, team, all); each sort has an index per scope so
        # the first page is a bounded index scan at any size. The "longest without follow-up" sort
        # needs NULLS FIRST, which SQLite cannot index: those indexes are in migration 0003.
        indexes = [
            models.Index(F("owner"), F("updated_at").desc(), F("id").desc(), name="cust_owner_updated"),
            models.Index(F("team"), F("updated_at").desc(), F("id").desc(), name="cust_team_updated"),
            models.Index(F("updated_at").desc(), F("id").desc(), name="cust_updated"),
            models.Index(fields=["owner", "name", "id"], name="cust_owner_name"),
            models.Index(fields=["team", "name", "id"], name="cust_team_name"),
            models.Index(fields=["name", "id"], name="cust_name"),
            # Duplicate detection (normalised name, phone, e-mail) and filters.
            models.Index(fields=["name_normalized"], name="cust_name_normalized"),
            models.Index(fields=["phone"], name="cust_phone"),
            models.Index(Lower("email"), name="cust_email_lower"),
            models.Index(fields=["region"], name="cust_region"),
            # With the channel and campaign, so that today's first wins per channel (CAC) and per
            # campaign (the campaign table) are read from the index alone.
            models.Index(fields=["first_won_at"], include=["source", "campaign"], name="cust_first_won"),
            # A campaign's customers by id from the index alone (today's attributed sales), with
            # their creation moment (today's leads of the listed campaigns).
            models.Index(fields=["campaign", "id"], include=["created_at"], name="cust_campaign_id"),
            models.Index(fields=["pool", "pooled_at"], name="cust_pool_pooled"),
            # Longest-waiting leads across several pools (stale stock lists): read in order, stop early.
            models.Index(
                fields=["pooled_at", "id"], condition=Q(pool__isnull=False), name="cust_pooled_since"
            ),
            # The recycle job's range scan and "at risk" lists: only owned rows have a deadline.
            models.Index(
                fields=["recycle_due_at"], condition=Q(owner__isnull=False), name="cust_recycle_due_owned"
            ),
            models.Index(
                fields=["owner", "recycle_due_at"],
                condition=Q(recycle_due_at__isnull=False),
                name="cust_owner_recycle_due",
            ),
            # The recycle job's batches: one rule's due customers in deadline order, so that a
            # batch reads its own rows only and stops after the batch size (bench/README.md).
            models.Index(
                fields=["recycle_rule", "recycle_due_at"],
                condition=Q(owner__isnull=False, recycle_due_at__isnull=False),
                name="cust_rule_recycle_due",
            ),
            # The pool list and "claim next best": highest priority first, id as tie-breaker.
            models.Index(F("pool"), F("priority_score").desc(), F("id"), name="cust_pool_priority"),
            # Held-per-rep limit (home_pool, owner) and re-matching a pool's owned customers (home_pool).
            models.Index(fields=["home_pool", "owner"], name="cust_home_pool_owner"),
            models.Index(
                fields=["id"],
                condition=Q(recycle_policy_stale=True, owner__isnull=False),
                name="cust_recycle_stale",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_pooled(self) -> bool:
        return self.pool_id is not None


class Contact(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("customer")
    )
    name = models.CharField(_("name"), max_length=100)
    # A person's job title (职务), not a thing's name: the context keeps it apart from the deal's title.
    title = models.CharField(pgettext_lazy("contact", "title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=50, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["phone"], name="contact_phone"),
            models.Index(Lower("email"), name="contact_email_lower"),
        ]

    def __str__(self) -> str:
        return self.name


class FollowUpKind(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
    EMAIL = "email", _("Email")
    MEETING = "meeting", _("Meeting")
    MESSAGE = "message", _("Message")


class FollowUp(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="followups", verbose_name=_("customer")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=FollowUpKind.choices)
    note = models.TextField(_("note"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="followups", verbose_name=_("by"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        indexes = [
            models.Index(F("customer"), F("at").desc(), name="followup_customer_at"),
            models.Index(fields=["by", "at"], name="followup_by_at"),
            models.Index(fields=["at"], name="followup_at"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"


class DealStage(models.TextChoices):
    """Pipeline stages in order; ``won`` and ``lost`` close a deal."""

    LEAD = "lead", _("Lead")
    QUALIFIED = "qualified", _("Qualified")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")

    @classmethod
    def open_stages(cls) -> list[str]:
        return [cls.LEAD, cls.QUALIFIED, cls.PROPOSAL, cls.NEGOTIATION]

    @classmethod
    def closed_stages(cls) -> list[str]:
        return [cls.WON, cls.LOST]


class Deal(models.Model):
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="deals", verbose_name=_("customer")
    )
    owner = models.ForeignKey(User, on_delete=models.PROTECT, related_name="deals", verbose_name=_("owner"))
    title = models.CharField(_("title"), max_length=200)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    stage = models.CharField(_("stage"), max_length=12, choices=DealStage.choices, default=DealStage.LEAD)
    expected_close = models.DateField(_("expected close"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(stage__in=DealStage.closed_stages(), closed_at__isnull=False)
                | (~Q(stage__in=DealStage.closed_stages()) & Q(closed_at__isnull=True)),
                name="deal_closed_at_iff_closed",
            ),
        ]
        indexes = [
            # With the customer and amount: the won deals of a span summed per customer or
            # campaign (CLV, the campaign table) without visiting the table where pages are
            # all-visible (rows written since the last vacuum are still read from the table).
            models.Index(
                fields=["stage", "closed_at"], include=["customer", "amount"], name="deal_stage_closed"
            ),
            # A person's deals by stage and, for closed ones, by day: a team's or a rep's wins
            # of today (the current period's live rows, sales cycles, CLV) without a bitmap AND.
            models.Index(fields=["owner", "stage", "closed_at"], name="deal_owner_stage_closed"),
            models.Index(fields=["customer", "stage"], name="deal_customer_stage"),
            # Today's changed deals: the current period's funnel and stock figures re-read only
            # those on top of what they cached this morning (metrics.figures_cache).
            # (PostgreSQL keeps the included columns in the index: which customer, owner and
            # creation day a changed deal concerns is read without visiting the table.)
            models.Index(
                fields=["updated_at"], include=["id", "customer", "owner", "created_at"], name="deal_updated"
            ),
            # A customer's won deals in order, with their owner, read from the index alone: the
            # owner of each first win (the roll-up's and today's new customers) and each
            # customer's wins in the current period's stock (metrics.kpis.sales).
            models.Index(
                fields=["customer", "closed_at", "id"],
                include=["owner"],
                condition=Q(stage="won"),
                name="deal_customer_won",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.stage in DealStage.open_stages()


class FeedbackChannel(models.TextChoices):
    SURVEY = "survey", _("Survey link")
    PHONE = "phone", _("Phone")
    MANUAL = "manual", _("Entered by hand")


class Feedback(models.Model):
    """One answer from a customer: an NPS score, a CSAT score and/or a complaint."""

    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="feedback", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback",
        verbose_name=_("contact"),
    )
    nps = models.PositiveSmallIntegerField(_("NPS score (0–10)"), null=True, blank=True)
    csat = models.PositiveSmallIntegerField(_("CSAT score (1–5)"), null=True, blank=True)
    complaint = models.TextField(_("complaint"), blank=True)
    channel = models.CharField(
        _("channel"), max_length=10, choices=FeedbackChannel.choices, default=FeedbackChannel.MANUAL
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    recorded_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        constraints = [
            models.CheckConstraint(condition=Q(nps__isnull=True) | Q(nps__lte=10), name="feedback_nps_range"),
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5), name="feedback_csat_range"
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=False) | Q(csat__isnull=False) | ~Q(complaint=""),
                name="feedback_not_empty",
            ),
        ]
        indexes = [
            # With the customer and the scores: a team's or a rep's answers of today (the current
            # period's live rows) are today's answers matched against its customers, read from
            # the index alone where its pages are all-visible.
            models.Index(fields=["at"], include=["customer", "nps", "csat"], name="feedback_at"),
            models.Index(F("customer"), F("at").desc(), name="feedback_customer_at"),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.at:%Y-%m-%d}"


class CampaignParticipant(models.Model):
    """A customer (and optionally the contact) who took part in a campaign."""

    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="participants", verbose_name=_("campaign")
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="campaign_participations", verbose_name=_("customer")
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("contact")
    )
    joined_at = models.DateTimeField(_("joined at"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign participant")
        verbose_name_plural = _("campaign participants")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "customer"], name="campaign_participant_once"),
        ]
        # Today's participants in the current period's campaign table (metrics.campaigns).
        indexes = [models.Index(fields=["joined_at"], name="campaign_participant_joined")]

    def __str__(self) -> str:
        return f"{self.campaign} – {self.customer}"


class TokenActivity(models.Model):
    """When an API token (DRF's ``authtoken.Token``) was last used, for idle expiry.

    A token stops working after ``settings.API_TOKEN_IDLE_DAYS`` without use, counted from
    ``last_used_at`` or, before its first recorded use, from the token's ``created``.
    ``customers.authentication`` refreshes ``last_used_at`` at most once a minute, so a busy
    client does not write on every request. Deleting the token deletes this row.
    """

    token = models.OneToOneField(
        "authtoken.Token",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="activity",
        verbose_name=_("token"),
    )
    last_used_at = models.DateTimeField(_("last used"), default=timezone.now)

    class Meta:
        verbose_name = _("API token use")
        verbose_name_plural = _("API token uses")

    def __str__(self) -> str:
        return str(self.last_used_at)
