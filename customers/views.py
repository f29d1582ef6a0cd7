"""Server-rendered customer pages: list, detail with its in-place forms, create/edit, pipeline.

Views are thin: they parse a form, call one selector or service, and render. Every page
starts from ``selectors.get_visible_customer`` / ``search_customers``, so a customer the
user may not see is a 404 on every page and action, exactly as in the API.

Query budgets (asserted in ``tests/customers/test_views.py``):

- list: count + one page of rows (owner and team joined) + the page's tags + the owner
  picker's reps (+ teams for admins) — the same whatever the page size;
- detail: customer, contacts, tags, the 50 most recently touched deals, the 50 newest
  follow-ups and feedback — the same whatever the customer's history.

The in-place forms of the detail page post to their own URLs. With htmx they answer with
the detail template's partials (``{% partialdef %}``): the form (cleared after a save, with
field errors otherwise) plus the panels the change touched, swapped out of band. Without
JavaScript the same URLs redirect back to the page after a save (post/redirect/get) and
re-render the whole page with field errors otherwise.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_site import spreadsheets
from crm_site.db_routers import replica_alias
from crm_site.http import AuthenticatedRequest
from crm_site.streaming import stream
from customers import exceptions, forms, selectors, services
from customers.models import (
    Customer,
    Deal,
    DealStage,
    Feedback,
    FollowUp,
    Level,
    Role,
    Source,
    User,
    person_name,
)
from customers.pagination import EstimatingPaginator
from customers.rows import customer_rows

TIMELINE_LIMIT = 50  # entries on the detail page; older history is in the admin and the API
DEALS_LIMIT = 50  # most recently touched deals listed (and feeding the timeline)


def _leads_people(user: User) -> bool:
    """Managers and admins pick owners and filter by rep; reps only ever see their own."""
    return user.is_admin or user.role == Role.MANAGER


# --- list --------------------------------------------------------------------------------------


@login_required
@require_GET
def customer_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    form = forms.CustomerFilterForm.for_user(user, request.GET)
    customers = selectors.search_customers(user=user, filters=form.filters())
    # The count is one COUNT over the same (indexed) filter, stopping at 10,001 rows (longer
    # lists show an estimate: customers.pagination); the page is a LIMIT/OFFSET over an indexed
    # order. Nothing else on the page reads more than one page of rows.
    page = EstimatingPaginator(customers, form.per_page()).get_page(request.GET.get("page"))
    return render(
        request,
        "customers/list.html",
        {
            "form": form,
            "page": page,
            "customers": page.object_list,
            "rows": customer_rows(page.object_list),
            # Managers and admins tick customers to change their owner (the bulk bar).
            "picks": _leads_people(user),
            "ignored_filters": form.ignored_labels(),
            "active_filters": form.active_count(),
            "page_sizes": forms.PAGE_SIZES,
        },
    )


EXPORT_CHUNK = 2000  # rows fetched per round trip while streaming the export


def _export_header() -> list[str]:
    return [
        _("Name"),
        _("Owner"),
        _("Pool"),
        _("Level"),
        _("Stage"),
        _("Source"),
        _("Region"),
        _("Phone"),
        _("Email"),
        _("Created"),
    ]


def _export_rows(customers: Any) -> Any:
    """One CSV row per customer: a single streamed query (owner, pool and the newest deal's
    stage joined in SQL), read ``EXPORT_CHUNK`` rows at a time."""
    latest_stage = (
        Deal.objects.filter(customer_id=OuterRef("pk")).order_by("-created_at", "-id").values("stage")[:1]
    )
    rows = (
        customers.prefetch_related(None)
        .annotate(latest_stage=Subquery(latest_stage))
        .values_list(
            "name",
            "owner__first_name",
            "owner__last_name",
            "pool__name",
            "level",
            "latest_stage",
            "source",
            "region",
            "phone",
            "email",
            "created_at",
        )
    )
    levels, stages, sources = dict(Level.choices), dict(DealStage.choices), dict(Source.choices)
    for name, given, family, pool, level, stage, source, region, phone, email, created in stream(
        rows, chunk_size=EXPORT_CHUNK
    ):
        yield [
            name,
            person_name(given=given or "", family=family or ""),
            pool or "",
            levels.get(level, level),
            stages.get(stage, stage or ""),
            sources.get(source, source),
            region,
            phone,
            email,
            timezone.localtime(created).strftime("%Y-%m-%d %H:%M"),
        ]


@login_required
@require_GET
def customer_export(request: AuthenticatedRequest) -> StreamingHttpResponse:
    """The list's customers, with the list's visibility and filters, as a streamed CSV."""
    form = forms.CustomerFilterForm.for_user(request.user, request.GET)
    customers = selectors.search_customers(user=request.user, filters=form.filters())
    # Read while the response streams: from the read replica when there is one (crm_site/db_routers.py).
    customers = customers.using(replica_alias())
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spreadsheets.streaming_csv_response(
        _export_header(), _export_rows(customers), filename=f"customers-{stamp}.csv"
    )


# --- detail and its timeline -------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One line of a customer's history. ``type`` picks the template branch that renders it."""

    at: datetime
    type: str  # "followup", "deal_created", "deal_won", "deal_lost", "feedback"
    item: FollowUp | Deal | Feedback


def _timeline(customer: Customer, deals: list[Deal]) -> list[TimelineEntry]:
    """Follow-ups, deal events and feedback merged, newest first, at most ``TIMELINE_LIMIT``.

    Each source is read newest first with the same limit (indexes ``followup_customer_at``,
    ``feedback_customer_at``), so the merge is exact for follow-ups and feedback and costs two
    queries whatever the history. Deal events come from ``deals`` (the most recently touched
    deals, already loaded for the deals panel).
    """
    entries = [
        TimelineEntry(at=followup.at, type="followup", item=followup)
        for followup in customer.followups.select_related("by").order_by("-at", "-id")[:TIMELINE_LIMIT]
    ]
    entries += [
        TimelineEntry(at=answer.at, type="feedback", item=answer)
        for answer in customer.feedback.select_related("contact", "recorded_by").order_by("-at", "-id")[
            :TIMELINE_LIMIT
        ]
    ]
    for deal in deals:
        entries.append(TimelineEntry(at=deal.created_at, type="deal_created", item=deal))
        if deal.closed_at is not None:
            closed = "deal_won" if deal.stage == DealStage.WON else "deal_lost"
            entries.append(TimelineEntry(at=deal.closed_at, type=closed, item=deal))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:TIMELINE_LIMIT]


def _detail_context(customer: Customer, **extra: Any) -> dict[str, Any]:
    deals = list(customer.deals.select_related("owner").order_by("-updated_at", "-id")[:DEALS_LIMIT])
    timeline = _timeline(customer, deals)
    context: dict[str, Any] = {
        "customer": customer,
        "contacts": list(customer.contacts.all()),
        "tags": list(customer.tags.all()),
        "deals": deals,
        "timeline": timeline,
        "timeline_is_cut": len(timeline) == TIMELINE_LIMIT,
        "stages": DealStage.choices,
        "open_stages": DealStage.open_stages(),
        "followup_form": forms.FollowUpForm(),
        "contact_form": forms.ContactForm(),
        "deal_form": forms.DealForm(),
        "stage_form": None,
        "just_saved": "",
        # The in-place forms re-render this page at their POST-only URLs: switch language back here.
        "language_next": reverse("customers:detail", args=[customer.pk]),
    }
    context.update(extra)
    return context


@login_required
@require_GET
def customer_detail(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    customer = selectors.get_visible_customer(user=request.user, customer_id=pk)
    return render(request, "customers/detail.html", _detail_context(customer))


def _run_service(form: django_forms.Form, action: Callable[[], object]) -> bool:
    """Call a service for a valid form; its rule errors become the form's errors."""
    try:
        action()
    except exceptions.CustomerInvalid as error:
        forms.add_service_errors(form, error.fields)
        return False
    except exceptions.NotAllowed as error:
        form.add_error(None, str(error.message))
        return False
    return True


def _submit_in_place(
    request: AuthenticatedRequest,
    customer: Customer,
    *,
    form: Any,
    form_key: str,
    save: Callable[[Any], object],
    partial: str,
    anchor: str,
    done: str,
) -> HttpResponse:
    """The shared flow of the detail page's in-place forms (see the module docstring).

    ``form_key`` names the form in the template context, ``partial`` the fragment htmx gets,
    ``anchor`` where a browser without JavaScript lands after the redirect.
    """
    saved = form.is_valid() and _run_service(form, lambda: save(form))
    if saved and not request.htmx:
        messages.success(request, done)
        return redirect(f"{reverse('customers:detail', args=[customer.pk])}#{anchor}")
    if saved:
        # Re-read: the service moved last_followup_at / first_won_at / updated_at in SQL.
        customer = selectors.get_visible_customer(user=request.user, customer_id=customer.pk)
        form = type(form)() if form_key != "stage_form" else None
    context = _detail_context(customer, **{form_key: form}, just_saved=form_key if saved else "", done=done)
    if request.htmx:
        return render(request, f"customers/detail.html#{partial}", context)
    return render(request, "customers/detail.html", context)


@login_required
@require_POST
def log_followup(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = selectors.get_visible_customer(user=user, customer_id=pk)
    return _submit_in_place(
        request,
        customer,
        form=forms.FollowUpForm(request.POST),
        form_key="followup_form",
        save=lambda form: services.log_followup(actor=user, customer=customer, **form.service_kwargs()),
        partial="followup-response",
        anchor="timeline",
        done=_("Follow-up logged."),
    )


@login_required
@require_POST
def add_contact(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = selectors.get_visible_customer(user=user, customer_id=pk)
    return _submit_in_place(
        request,
        customer,
        form=forms.ContactForm(request.POST),
        form_key="contact_form",
        save=lambda form: services.add_contact(actor=user, customer=customer, **form.service_kwargs()),
        partial="contacts",
        anchor="contacts",
        done=_("Contact added."),
    )


@login_required
@require_POST
def add_deal(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = selectors.get_visible_customer(user=user, customer_id=pk)
    return _submit_in_place(
        request,
        customer,
        form=forms.DealForm(request.POST),
        form_key="deal_form",
        save=lambda form: services.create_deal(actor=user, customer=customer, **form.service_kwargs()),
        partial="deals-response",
        anchor="deals",
        done=_("Deal added."),
    )


@login_required
@require_POST
def move_deal(request: AuthenticatedRequest, pk: int, deal_pk: int) -> HttpResponse:
    user = request.user
    customer = selectors.get_visible_customer(user=user, customer_id=pk)
    deal = get_object_or_404(Deal, pk=deal_pk, customer=customer)
    deal.customer = customer  # the service checks who may work on it; spare it a query
    return _submit_in_place(
        request,
        customer,
        form=forms.DealStageForm(request.POST),
        form_key="stage_form",
        save=lambda form: services.move_deal(actor=user, deal=deal, **form.service_kwargs()),
        partial="deals-response",
        anchor="deals",
        done=_("Deal stage changed."),
    )


# --- create and edit ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(
    request: AuthenticatedRequest, create_service: Callable[..., Customer] = services.create_customer
) -> HttpResponse:
    """``create_service``: see ``customers.urls.build_urlpatterns``."""
    user = request.user
    owners = list(selectors.reps_visible_to(user)) if _leads_people(user) else []
    form = forms.CustomerForm(
        request.POST or None,
        owners=owners,
        may_protect=_leads_people(user),
        initial={"owner": user.pk},
    )
    if request.method == "POST" and form.is_valid():
        created: list[Customer] = []

        def create() -> None:
            created.append(create_service(actor=user, data=form.customer_data(), owner=form.chosen_owner()))

        try:
            if _run_service(form, create):
                messages.success(request, _("Customer created."))
                return redirect("customers:detail", pk=created[0].pk)
        except exceptions.DuplicateCustomer as duplicate:
            # Nothing was created; the page says where the existing customer is (a pool, or a
            # colleague's name only) through the public pool's ``duplicate_notice`` tag.
            return render(
                request,
                "customers/form.html",
                {"form": form, "customer": None, "duplicates": duplicate.matches},
            )
    return render(request, "customers/form.html", {"form": form, "customer": None})


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    user = request.user
    customer = selectors.get_visible_customer(user=user, customer_id=pk)
    form = forms.CustomerForm(
        request.POST or None,
        may_protect=_leads_people(user),
        initial=forms.CustomerForm.initial_for(customer, (tag.name for tag in customer.tags.all())),
    )
    if request.method == "POST" and form.is_valid():

        def update() -> None:
            services.update_customer(actor=user, customer=customer, data=form.customer_data())

        if _run_service(form, update):
            messages.success(request, _("Customer saved."))
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", {"form": form, "customer": customer})


# --- pipeline ----------------------------------------------------------------------------------


@login_required
@require_GET
def pipeline(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    owners = selectors.rep_choices(user) if _leads_people(user) else []
    form = forms.PipelineFilterForm(request.GET, owners=owners)
    owner_id = form.owner_id() if owners else None
    columns = selectors.deal_pipeline(user=user, owner_id=owner_id)
    open_columns = [column for column in columns if column.stage in DealStage.open_stages()]
    return render(
        request,
        "customers/pipeline.html",
        {
            "form": form,
            "show_filter": bool(owners),
            "columns": columns,
            "open_count": sum(column.count for column in open_columns),
            "open_amount": sum((column.amount for column in open_columns), start=0),
            "today": timezone.localdate(),
        },
    )
