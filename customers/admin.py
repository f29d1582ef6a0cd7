"""Django admin for customer records and the sales organisation.

Decisions:
- Writes with business meaning go through ``customers.services`` exactly as pages and the API
  do: adding a customer, contact, follow-up, deal or feedback answer, editing a customer and
  moving a deal. So the admin keeps ``name_normalized``, ``last_followup_at``,
  ``first_won_at`` and ``updated_at`` as right as every other entry point does.
- Ownership (``owner``, ``pool`` and the denormalised ``team``) is read-only on an existing
  customer: claim, release, assign, transfer and recycle are public-pool operations that also
  write the pool event log. On the add form the owner is chosen and the team follows from it.
- Lists stay fast at 1,000,000 customers and 5,000,000 follow-ups: foreign keys to large
  tables use raw-id or autocomplete widgets (never a ``<select>`` of every row), lists
  ``select_related`` what they show, sort by indexed columns, skip the unfiltered full count
  (``show_full_result_count = False``), and an unfiltered list reads PostgreSQL's row estimate
  instead of ``COUNT(*)`` (``EstimatedCountPaginator``).
- The history inlines on a customer show the newest rows only, read-only, with a link to the
  full filtered list: a customer with thousands of follow-ups still opens at once.
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Lower
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from crm_site.exceptions import DomainError
from crm_site.http import signed_in_user
from customers import normalization, services
from customers.models import (
    Campaign,
    CampaignParticipant,
    CampaignSpend,
    Contact,
    Customer,
    Deal,
    DealStage,
    Feedback,
    FollowUp,
    Tag,
    Team,
    TokenActivity,
    User,
)

if TYPE_CHECKING:
    from django.db.models import Model
    from django.forms import ModelForm
    from django_stubs_ext import WithAnnotations

    class _MemberCount(TypedDict):
        member_count: int

    class _TotalSpend(TypedDict):
        total_spend: Decimal | None


HISTORY_ROWS = 10  # rows of each history inline on the customer page


class EstimatedCountPaginator(Paginator):
    """Use PostgreSQL's planner estimate for the row count of an unfiltered big table.

    ``COUNT(*)`` over a million rows costs more than the page itself. When the list has no
    filter and the statistics say the table is large, the estimate is shown instead; a
    filtered list, a small table or another database gets an exact count.
    """

    estimate_above = 50_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            connection = connections[queryset.db]
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
                        [queryset.model._meta.db_table],
                    )
                    row = cursor.fetchone()
                if row and row[0] > self.estimate_above:
                    return int(row[0])
        return super().count


def _lookup_q(term: str, *, name_field: str) -> Q:
    """Name anywhere (trigram index on PostgreSQL), or the phone / e-mail exactly (indexed)."""
    match = Q(**{f"{name_field}__icontains": term})
    phone = normalization.normalize_phone(term)
    if len(phone) >= 5:
        match |= Q(phone=phone)
    if "@" in term:
        match |= Q(email_lower=term.lower())
    return match


class IndexedSearchMixin(admin.ModelAdmin):
    """Search the way the indexes allow, instead of Django's ``icontains`` on every field."""

    search_fields = ("name",)  # shown as the search box; the lookup is ``_lookup_q``
    search_help_text = _("Company or contact name, an exact phone number, or an exact e-mail address.")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        queryset = queryset.alias(email_lower=Lower("email")).filter(_lookup_q(term, name_field="name"))
        return queryset, False


class ServiceAdminMixin(admin.ModelAdmin):
    """Show a domain error raised by a service as a message instead of a server error.

    The admin saves inside one transaction, so nothing of the refused change is kept.
    """

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as error:
            detail = str(error.message)
            fields = getattr(error, "fields", None)
            if fields:
                detail = f"{detail} " + "; ".join(f"{name}: {text}" for name, text in fields.items())
            self.message_user(request, detail, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def _adopt(target: Model, source: Model) -> None:
    """Make the admin's unsaved instance the row a service created, so the admin can link to it."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


# --- organisation --------------------------------------------------------------------------------


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        (_("Sales organisation"), {"fields": ("role", "team", "phone", "is_away")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Sales organisation"), {"fields": ("role", "team", "email", "first_name", "last_name")}),
    )
    list_display = ("username", "first_name", "last_name", "role", "team", "is_away", "is_active", "is_staff")
    list_filter = ("role", "team", "is_away", "is_active", "is_staff", "is_superuser")
    list_select_related = ("team",)
    autocomplete_fields = ("team",)

    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        """Through the service: a new team moves the rep's customers with them, and a role or
        team change writes its audit entry."""
        services.save_user(actor=signed_in_user(request), user=obj)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.delete_user(actor=signed_in_user(request), user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            services.delete_user(actor=signed_in_user(request), user=user)


class MemberInline(admin.TabularInline):
    model = User
    fields = ("username", "first_name", "last_name", "role", "is_away", "is_active")
    readonly_fields = fields
    extra = 0
    show_change_link = True
    verbose_name = _("member")
    verbose_name_plural = _("members (change a person's team on their user page)")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "manager", "region", "member_count")
    list_select_related = ("manager",)
    search_fields = ("name", "region")
    autocomplete_fields = ("manager",)
    inlines = (MemberInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_count=Count("members"))

    def save_model(self, request: HttpRequest, obj: Team, form: ModelForm, change: bool) -> None:
        """Through the service, which audits a new name, manager or region."""
        services.save_team(actor=signed_in_user(request), team=obj)

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        services.delete_team(actor=signed_in_user(request), team=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        for team in queryset:
            services.delete_team(actor=signed_in_user(request), team=team)

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, team: WithAnnotations[Team, _MemberCount]) -> int:
        return team.member_count


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name",)
    search_fields = ("name",)


# --- customers -------------------------------------------------------------------------------


class NewestRowsFormSet(BaseInlineFormSet):
    """An inline formset over the newest ``HISTORY_ROWS`` rows only."""

    def get_queryset(self) -> QuerySet:
        if not hasattr(self, "_newest_rows"):
            self._newest_rows = super().get_queryset()[:HISTORY_ROWS]
        return self._newest_rows


class HistoryInline(admin.TabularInline):
    """Read-only, newest rows first; add and change them on their own admin pages or the site."""

    formset = NewestRowsFormSet
    extra = 0
    show_change_link = True
    related: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related(*self.related)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class ContactInline(HistoryInline):
    model = Contact
    fields = readonly_fields = ("name", "title", "phone", "email", "wechat", "is_primary")


class FollowUpInline(HistoryInline):
    model = FollowUp
    fields = readonly_fields = ("at", "kind", "by", "note")
    related = ("by",)


class DealInline(HistoryInline):
    model = Deal
    fields = readonly_fields = ("title", "stage", "amount", "owner", "expected_close", "closed_at")
    related = ("owner",)


class FeedbackInline(HistoryInline):
    model = Feedback
    fields = readonly_fields = ("at", "nps", "csat", "complaint", "channel")


def _customer_data(cleaned: dict[str, Any]) -> services.CustomerData:
    campaign = cleaned.get("campaign")
    return services.CustomerData(
        name=cleaned["name"],
        industry=cleaned.get("industry", ""),
        size=cleaned.get("size", ""),
        region=cleaned.get("region", ""),
        address=cleaned.get("address", ""),
        website=cleaned.get("website", ""),
        phone=cleaned.get("phone", ""),
        email=cleaned.get("email", ""),
        source=cleaned["source"],
        campaign_id=campaign.pk if campaign else None,
        level=cleaned["level"],
        is_protected=cleaned.get("is_protected", False),
        note=cleaned.get("note", ""),
        tags=tuple(tag.name for tag in cleaned.get("tags", ())),
    )


OWNERSHIP_HELP = _(
    "Owner, team and pool are changed by public-pool operations only (claim, release, assign, "
    "transfer, recycle), which also record who moved the customer and why. The team is always "
    "the owner's team."
)


# Read-only on an existing customer. The pool bookkeeping (home pool, the recycle rule that
# applies, the priority score) is kept by public_pool.services and shown for reference.
OWNERSHIP_FIELDS = ("owner", "team", "pool", "home_pool", "recycle_rule", "priority_score")


@admin.register(Customer)
class CustomerAdmin(ServiceAdminMixin, IndexedSearchMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "owner",
        "team",
        "pool",
        "level",
        "source",
        "industry",
        "region",
        "last_followup_at",
        "updated_at",
    )
    list_select_related = ("owner", "team", "pool")
    list_filter = ("level", "source", "industry", "size", "is_protected", "value_tier", "team", "pool")
    ordering = ("-updated_at", "-id")  # served by an index in every scope
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    autocomplete_fields = ("owner", "campaign", "tags")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    inlines = (ContactInline, FollowUpInline, DealInline, FeedbackInline)
    actions = None  # bulk deletes would skip the history and the pool's event log
    readonly_fields = (
        "value_tier",
        "created_by",
        "created_at",
        "updated_at",
        "last_followup_at",
        "first_won_at",
        "claimed_at",
        "pooled_at",
        "recycle_due_at",
        "history",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Customer | None = None) -> list:
        ownership = ("owner",) if obj is None else OWNERSHIP_FIELDS
        return [
            (
                None,
                {"fields": ("name", "industry", "size", "region", "address", "website", "phone", "email")},
            ),
            (
                _("Sales"),
                {"fields": ("source", "campaign", "level", "value_tier", "tags", "is_protected", "note")},
            ),
            (_("Ownership"), {"fields": ownership, "description": OWNERSHIP_HELP}),
            (
                _("History"),
                {
                    "fields": (
                        "history",
                        "created_by",
                        "created_at",
                        "updated_at",
                        "last_followup_at",
                        "first_won_at",
                        "claimed_at",
                        "pooled_at",
                        "recycle_due_at",
                    )
                },
            ),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Customer | None = None) -> tuple[str, ...]:
        if obj is None:
            return tuple(self.readonly_fields)
        return (*self.readonly_fields, *OWNERSHIP_FIELDS)

    def get_form(self, request: HttpRequest, obj: Customer | None = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            form.base_fields["owner"].required = True
            form.base_fields["owner"].help_text = gettext(
                "The rep who owns the new customer; the team follows from the owner. "
                "To put a new lead into a pool, use the pool's import or its pages."
            )
        return form

    @admin.display(description=_("full history"))
    def history(self, customer: Customer) -> str:
        if customer.pk is None:
            return "–"
        links = [
            (reverse(f"admin:customers_{model}_changelist") + f"?customer__id__exact={customer.pk}", label)
            for model, label in (
                ("contact", gettext("contacts")),
                ("followup", gettext("follow-ups")),
                ("deal", gettext("deals")),
                ("feedback", gettext("feedback")),
            )
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links)

    def save_model(self, request: HttpRequest, obj: Customer, form: ModelForm, change: bool) -> None:
        data = _customer_data(form.cleaned_data)
        if change:
            services.update_customer(actor=signed_in_user(request), customer=obj, data=data)
        else:
            created = services.create_customer(
                actor=signed_in_user(request), data=data, owner=form.cleaned_data["owner"]
            )
            _adopt(obj, created)

    def save_related(self, request: HttpRequest, form: ModelForm, formsets: list, change: bool) -> None:
        # The service has set the tags; the history inlines are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


# --- a customer's history ----------------------------------------------------------------------


class CustomerChildAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Rows that hang off a customer: big tables, so raw-id pickers and no full counts."""

    raw_id_fields: ClassVar[tuple[str, ...]] = ("customer",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        # Moving a row to another customer would rewrite two customers' histories.
        return tuple(self.readonly_fields) if obj is None else (*self.readonly_fields, "customer")


@admin.register(Contact)
class ContactAdmin(IndexedSearchMixin, CustomerChildAdmin):
    list_display = ("name", "customer", "title", "phone", "email", "wechat", "is_primary")
    list_select_related = ("customer",)
    list_filter = ("is_primary",)
    ordering = ("-id",)
    fields = ("customer", "name", "title", "phone", "email", "wechat", "is_primary", "created_at")
    readonly_fields = ("created_at",)

    def save_model(self, request: HttpRequest, obj: Contact, form: ModelForm, change: bool) -> None:
        if change:
            obj.phone = normalization.normalize_phone(obj.phone)
            obj.email = obj.email.strip().lower()
            super().save_model(request, obj, form, change)
            return
        values = form.cleaned_data
        created = services.add_contact(
            actor=signed_in_user(request),
            customer=values["customer"],
            name=values["name"],
            title=values.get("title", ""),
            phone=values.get("phone", ""),
            email=values.get("email", ""),
            wechat=values.get("wechat", ""),
            is_primary=values.get("is_primary", False),
        )
        _adopt(obj, created)


@admin.register(FollowUp)
class FollowUpAdmin(CustomerChildAdmin):
    list_display = ("at", "customer", "kind", "by", "short_note")
    list_select_related = ("customer", "by")
    list_filter = ("kind", ("at", admin.DateFieldListFilter))
    ordering = ("-at", "-id")
    fields = ("customer", "kind", "at", "note", "by", "created_at")
    readonly_fields = ("by", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> tuple[str, ...]:
        # A logged follow-up's kind and time feed the recycle deadline and the KPIs: only the
        # note may be corrected afterwards.
        if obj is None:
            return tuple(self.readonly_fields)
        return (*self.readonly_fields, "customer", "kind", "at")

    @admin.display(description=_("note"))
    def short_note(self, followup: FollowUp) -> str:
        return followup.note[:80]

    def save_model(self, request: HttpRequest, obj: FollowUp, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        values = form.cleaned_data
        created = services.log_followup(
            actor=signed_in_user(request),
            customer=values["customer"],
            kind=values["kind"],
            note=values.get("note", ""),
            at=values.get("at"),
        )
        _adopt(obj, created)


@admin.register(Deal)
class DealAdmin(CustomerChildAdmin):
    list_display = ("title", "customer", "owner", "stage", "amount", "expected_close", "closed_at")
    list_select_related = ("customer", "owner")
    list_filter = ("stage", ("closed_at", admin.DateFieldListFilter))
    ordering = ("-created_at", "-id")
    search_fields = ("title",)
    fields = (
        "customer",
        "title",
        "amount",
        "stage",
        "expected_close",
        "owner",
        "closed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = ("owner", "closed_at", "created_at", "updated_at")
    actions = ("mark_won", "mark_lost")

    def save_model(self, request: HttpRequest, obj: Deal, form: ModelForm, change: bool) -> None:
        values = form.cleaned_data
        if not change:
            created = services.create_deal(
                actor=signed_in_user(request),
                customer=values["customer"],
                title=values["title"],
                amount=values["amount"],
                stage=values["stage"],
                expected_close=values.get("expected_close"),
            )
            _adopt(obj, created)
            return
        # Title, amount and expected close are plain data; the stage has rules (closed_at,
        # the customer's first won deal), so it moves through the service.
        Deal.objects.filter(pk=obj.pk).update(
            title=values["title"], amount=values["amount"], expected_close=values.get("expected_close")
        )
        if "stage" in form.changed_data:
            stored = Deal.objects.select_related("customer").get(pk=obj.pk)
            _adopt(obj, services.move_deal(actor=signed_in_user(request), deal=stored, stage=values["stage"]))

    def _move_selected(self, request: HttpRequest, queryset: QuerySet[Deal], stage: str) -> None:
        moved = 0
        for deal in queryset.select_related("customer"):
            if deal.stage != stage:
                services.move_deal(actor=signed_in_user(request), deal=deal, stage=stage)
                moved += 1
        self.message_user(
            request,
            ngettext("%(count)d deal moved.", "%(count)d deals moved.", moved) % {"count": moved},
            level=messages.SUCCESS,
        )

    @admin.action(description=_("Mark the selected deals as won"), permissions=["change"])
    def mark_won(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        self._move_selected(request, queryset, DealStage.WON)

    @admin.action(description=_("Mark the selected deals as lost"), permissions=["change"])
    def mark_lost(self, request: HttpRequest, queryset: QuerySet[Deal]) -> None:
        self._move_selected(request, queryset, DealStage.LOST)


@admin.register(Feedback)
class FeedbackAdmin(CustomerChildAdmin):
    """A customer's answer is a record: it is entered once and then only read (or deleted)."""

    list_display = ("at", "customer", "nps", "csat", "short_complaint", "channel")
    list_select_related = ("customer",)
    list_filter = ("channel", "nps", "csat", ("at", admin.DateFieldListFilter))
    ordering = ("-at", "-id")
    fields = ("customer", "contact", "nps", "csat", "complaint", "channel", "at", "recorded_by")
    raw_id_fields = ("customer", "contact")
    readonly_fields = ("recorded_by",)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    @admin.display(description=_("complaint"))
    def short_complaint(self, feedback: Feedback) -> str:
        return feedback.complaint[:80]

    def save_model(self, request: HttpRequest, obj: Feedback, form: ModelForm, change: bool) -> None:
        values = form.cleaned_data
        created = services.record_feedback(
            actor=signed_in_user(request),
            customer=values["customer"],
            nps=values.get("nps"),
            csat=values.get("csat"),
            complaint=values.get("complaint", ""),
            contact=values.get("contact"),
            channel=values["channel"],
            at=values.get("at"),
        )
        _adopt(obj, created)


# --- campaigns -------------------------------------------------------------------------------------


class CampaignSpendInline(admin.TabularInline):
    model = CampaignSpend
    extra = 1


class CampaignParticipantInline(admin.TabularInline):
    model = CampaignParticipant
    formset = NewestRowsFormSet
    raw_id_fields = ("customer", "contact")
    extra = 0
    ordering = ("-joined_at", "-id")
    verbose_name_plural = _("participants (newest first; all of them under Campaign participants)")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignParticipant]:
        return super().get_queryset(request).select_related("customer", "contact")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "budget", "total_spend", "starts_on", "ends_on", "owner")
    list_select_related = ("owner",)
    list_filter = ("channel", "starts_on")
    search_fields = ("name",)
    autocomplete_fields = ("owner",)
    inlines = (CampaignSpendInline, CampaignParticipantInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Campaign]:
        return super().get_queryset(request).annotate(total_spend=Sum("spends__amount"))

    @admin.display(description=_("spent"), ordering="total_spend")
    def total_spend(self, campaign: WithAnnotations[Campaign, _TotalSpend]) -> object:
        return campaign.total_spend or 0


@admin.register(CampaignSpend)
class CampaignSpendAdmin(admin.ModelAdmin):
    list_display = ("campaign", "month", "amount")
    list_select_related = ("campaign",)
    list_filter = ("month",)
    autocomplete_fields = ("campaign",)
    ordering = ("-month",)


@admin.register(CampaignParticipant)
class CampaignParticipantAdmin(admin.ModelAdmin):
    list_display = ("campaign", "customer", "contact", "joined_at")
    list_select_related = ("campaign", "customer", "contact")
    list_filter = ("campaign",)
    autocomplete_fields = ("campaign",)
    raw_id_fields = ("customer", "contact")
    ordering = ("-joined_at", "-id")
    show_full_result_count = False
    paginator = EstimatedCountPaginator


@admin.register(TokenActivity)
class TokenActivityAdmin(admin.ModelAdmin):
    """When each API token was last used (idle tokens expire, ``API_TOKEN_IDLE_DAYS``); read-only.
    To revoke a token, delete it under "Auth Token"."""

    list_display = ("token_user", "last_used_at")
    list_select_related = ("token__user",)
    ordering = ("-last_used_at",)

    @admin.display(description=_("user"), ordering="token__user__username")
    def token_user(self, obj: TokenActivity) -> str:
        return str(obj.token.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TokenActivity | None = None) -> bool:
        return False
