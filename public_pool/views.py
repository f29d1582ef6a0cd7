"""The public pool's pages for reps (and everyone): pools, a pool's leads with in-place claims,
"my customers" with days left and the release dialog, notifications, a customer's pool history.

Views are thin: one selector or service each. Domain errors become messages in the user's
language (the exceptions' texts are translatable). Every action works without JavaScript
(POST, then redirect with a message); with htmx it answers a fragment that replaces the part
of the page it changed (``request.htmx``).

Query budgets (asserted in ``tests/public_pool/test_views.py``) do not grow with the page:

- pool page: the pool, the count, one page of leads (pool joined);
- my customers: the count, one page (rule joined), the reasons, the page's extension requests;
- notifications: one page of notifications (customer joined);
- returned to the pool: the count, one page of notices (customer and pool joined), the usable
  pools, the user's last losses, the quotas.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_site.exceptions import DomainError
from crm_site.http import AuthenticatedRequest
from customers import selectors as customer_selectors
from customers.models import Customer, User
from public_pool import lead_selectors, selectors, services
from public_pool.exceptions import AlreadyClaimed, Cooldown, CustomerNotFound, InvalidInput
from public_pool.forms import PAGE_SIZE, ExtensionForm, PoolFilterForm, ReleaseForm
from public_pool.models import ExtensionRequest, PoolEvent

EVENTS_PAGE_SIZE = 50


def _next_url(request: AuthenticatedRequest, default: str) -> str:
    """Where a no-JavaScript form goes back to: its ``next`` if it is ours, else ``default``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


# --- pools -------------------------------------------------------------------------------------


@login_required
@require_GET
def pool_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    pools = list(selectors.pools_with_sizes(user))
    quotas = lead_selectors.quotas_for(user=user, pools=pools)
    return render(
        request,
        "public_pool/pool_list.html",
        {"pools": pools, "rows": [(pool, quotas[pool.pk]) for pool in pools]},
    )


@dataclass(frozen=True)
class LeadRow:
    lead: Customer
    contact: selectors.ContactDetails
    context: lead_selectors.LeadContext


@login_required
@require_GET
def pool_detail(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    """A pool's leads, best first, filtered and paged, each with where it came from and whether
    the user may take it now; the user's quota on top. A pool the user may not use is a 404."""
    user = request.user
    pool = get_object_or_404(selectors.pools_for_user(user), pk=pool_id)
    form = PoolFilterForm(request.GET)
    leads = selectors.pooled_customers(user=user, pool_id=pool.pk, filters=form.filters())
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    on_page = list(page.object_list)
    contexts = lead_selectors.lead_contexts(
        user=user, pool=pool, customer_ids=[c.pk for c in on_page], now=now
    )
    rows = [
        LeadRow(
            lead=lead, contact=selectors.masked_contact(lead, pool), context=contexts.get(lead.pk, NO_HISTORY)
        )
        for lead in on_page
    ]
    return render(
        request,
        "public_pool/pool_detail.html",
        {
            "pool": pool,
            "form": form,
            "active_filters": form.active_count(),
            "page": page,
            "rows": rows,
            "quota": lead_selectors.quota_for(user=user, pool=pool, now=now),
        },
    )


# --- claims ------------------------------------------------------------------------------------

NO_HISTORY = lead_selectors.LeadContext()


def _claim_fragment(
    request: AuthenticatedRequest, *, customer_id: int, failure: DomainError | None
) -> HttpResponse:
    """htmx answer to a claim: the lead's action box (what happened, or why it cannot be taken
    now), the user's quota in that pool out of band, and any error in the page's message area —
    whole, never squeezed into the action cell."""
    user = request.user
    row: Mapping[str, Any] = (
        Customer.objects.filter(pk=customer_id).values("pool_id", "home_pool_id").first() or {}
    )
    pool_id = row.get("pool_id") or row.get("home_pool_id")
    pool = selectors.pools_for_user(user).filter(pk=pool_id).first() if pool_id else None
    context = NO_HISTORY
    state = "claimed" if failure is None else ""
    if isinstance(failure, Cooldown):
        context = lead_selectors.LeadContext(cooldown_until=failure.until)
    elif isinstance(failure, AlreadyClaimed | CustomerNotFound):
        state = "gone"
    quota = lead_selectors.quota_for(user=user, pool=pool) if pool is not None else None
    response = render(
        request,
        "public_pool/_claim_response.html",
        {
            "lead_id": customer_id,
            "state": state,
            "lead_context": context,
            "quota": quota,
            "next_url": _next_url(request, reverse("public_pool:list")),
            "oob_messages": [("danger", str(failure.message))] if failure is not None else [],
        },
    )
    return response


@login_required
@require_POST
def claim(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    """Claim one lead. htmx: the lead's action box and the quota change in place (see
    :func:`_claim_fragment`); without JavaScript, a redirect with a message."""
    user = request.user
    failure: DomainError | None = None
    try:
        services.claim_customer(rep=user, customer_id=customer_id)
    except DomainError as error:
        failure = error
    if request.htmx:
        return _claim_fragment(request, customer_id=customer_id, failure=failure)
    if failure is not None:
        messages.error(request, str(failure.message))
        return redirect(_next_url(request, reverse("public_pool:list")))
    messages.success(request, _("Customer claimed: it is now yours."))
    return redirect("customers:detail", pk=customer_id)


@login_required
@require_POST
def claim_next(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    """Claim the best lead of the pool the rep may take now, then open it."""
    user = request.user
    try:
        customer = services.claim_next_best(rep=user, pool_id=pool_id)
    except DomainError as failure:
        if failure.code in ("not_found", "not_pool_member"):  # a pool the user may not use: 404
            raise Http404 from failure
        messages.error(request, str(failure.message))
        return redirect("public_pool:detail", pool_id=pool_id)
    messages.success(request, _("You claimed %(name)s.") % {"name": customer.name})
    return redirect("customers:detail", pk=customer.pk)


# --- my customers, release, extension ----------------------------------------------------------


def _extension_states(user: User, customers: list[Customer]) -> dict[int, ExtensionRequest]:
    """The user's extension request per customer in its current ownership, one query for the page."""
    owned_since = {c.pk: c.claimed_at or c.created_at for c in customers}
    states: dict[int, ExtensionRequest] = {}
    for request in ExtensionRequest.objects.filter(
        owner=user, customer_id__in=list(owned_since)
    ).select_related("owner"):
        if request.owned_since == owned_since[request.customer_id]:
            states[request.customer_id] = request
    return states


@login_required
@require_GET
def my_customers(request: AuthenticatedRequest) -> HttpResponse:
    """The user's own customers with a recycle deadline, soonest first."""
    user = request.user
    page = Paginator(selectors.customers_at_risk(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    customers = list(page.object_list)
    extensions = _extension_states(user, customers)
    rows = [(customer, extensions.get(customer.pk)) for customer in customers]
    return render(
        request,
        "public_pool/my_customers.html",
        {"page": page, "rows": rows, "reasons": ReleaseForm.reasons(), "release_form": ReleaseForm()},
    )


def _after_release(request: AuthenticatedRequest, *, user: User, customer: Customer, pool_id: int) -> str:
    """Where the rep lands after a release: back where they came from (the form's ``next``, e.g.
    "days left"), never the customer's own page — it is not theirs any more, and reloading it
    would be a 404. From the customer page that means the pool the customer went to (where the
    rep sees it as a lead), or "days left" when the rep may not open that pool."""
    own_page = reverse("customers:detail", args=[customer.pk])
    target = _next_url(request, "")
    if target and not target.split("?")[0].startswith(own_page):
        return target
    if selectors.may_use_pool(user, pool_id):
        return reverse("public_pool:detail", args=[pool_id])
    return reverse("public_pool:mine")


@login_required
@require_POST
def release(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    """Release a customer with a reason.

    A refused release (no reason, a reason that needs a note) changes nothing and says why with
    the service's own message: in place in the dialog (htmx, 422) or as a message on the page.
    A release goes back where the rep came from (:func:`_after_release`) with "Released to
    <pool>": htmx is told to navigate (``HX-Redirect``), so nothing on screen still shows the
    customer as the rep's.
    """
    user = request.user
    customer = customer_selectors.get_visible_customer(user=user, customer_id=customer_id)
    form = ReleaseForm(request.POST)
    form.is_valid()
    try:
        released = services.release_customer(
            actor=user,
            customer_id=customer.pk,
            reason=form.cleaned_data.get("reason", ""),
            note=form.cleaned_data.get("note", ""),
        )
    except DomainError as failure:
        error = str(failure.message)
        if request.htmx:
            context: dict[str, Any] = {
                "customer": customer,
                "reasons": ReleaseForm.reasons(),
                "form": form,
                "error": error,
                "release_next": request.POST.get("next", ""),
            }
            return render(request, "public_pool/_release_form.html", context, status=422)
        messages.error(request, error)
        return redirect(_next_url(request, reverse("customers:detail", args=[customer.pk])))
    pool = released.pool  # a release always pools the customer
    messages.success(
        request,
        _("Released to %(pool)s: %(name)s.") % {"pool": pool.name if pool else "", "name": released.name},
    )
    target = _after_release(request, user=user, customer=released, pool_id=released.pool_id or 0)
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = target
        return response
    return redirect(target)


def extension_form(customer: Customer, data: Any = None) -> ExtensionForm:
    """The "Request more time" form for ``customer``, bounded by its pool's ``max_extension_days``."""
    return ExtensionForm(
        data,
        limit=selectors.extension_day_limit(customer),
        default_days=settings.PUBLIC_POOL_EXTENSION_DAYS,
        prefix=f"extension-{customer.pk}",
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_extension(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    """Ask the manager for more time before a customer is recycled (once per ownership), with a
    reason and the days asked for.

    On the customer page this is a dialog (``_extension_dialog.html``); GET renders the same form
    as a page of its own (the dialog's link without JavaScript, and the "days left" list). A
    refused request changes nothing and comes back with the service's messages under the fields:
    htmx swaps the form in place (422), a plain POST re-renders the page. A request goes back to
    ``next`` (the customer page) where it shows as pending — htmx is told to navigate there.
    """
    user = request.user
    customer = customer_selectors.get_visible_customer(user=user, customer_id=customer_id)
    back = _next_url(request, reverse("customers:detail", args=[customer.pk]))
    if request.method == "GET":
        form = extension_form(customer)
        context = {"customer": customer, "form": form, "next": back}
        return render(request, "public_pool/extension_request.html", context)
    form = extension_form(customer, request.POST)
    if form.is_valid():
        try:
            services.request_extension(
                rep=user,
                customer_id=customer.pk,
                reason=form.cleaned_data["reason"],
                days=form.cleaned_data["days"],
            )
        except InvalidInput as failure:
            for name, message in failure.fields.items():
                form.add_error(name if name in form.fields else None, message)
        except DomainError as failure:
            form.add_error(None, str(failure.message))
    if form.errors:
        context = {"customer": customer, "form": form, "next": back, "in_dialog": "dialog" in request.POST}
        if request.htmx:
            return render(request, "public_pool/_extension_form.html", context, status=422)
        return render(request, "public_pool/extension_request.html", context, status=422)
    messages.success(request, _("More time requested; your manager will decide."))
    if request.htmx:
        response = HttpResponse()
        response["HX-Redirect"] = back
        return response
    return redirect(back)


# --- notifications -----------------------------------------------------------------------------


@login_required
@require_GET
def notifications(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    page = Paginator(selectors.notifications_for(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public_pool/notifications.html", {"page": page})


@login_required
@require_GET
def returned(request: AuthenticatedRequest) -> HttpResponse:
    """ "Returned to the pool": the user's customers recycled in the last 30 days, by which rule,
    each with Claim where the user may take it back now, or why not and until when."""
    user = request.user
    page = Paginator(selectors.returned_to_pool(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = lead_selectors.returned_rows(user=user, notices=list(page.object_list))
    return render(
        request,
        "public_pool/returned.html",
        {"page": page, "rows": rows, "days": selectors.RETURNED_DAYS, "next_url": request.get_full_path()},
    )


@login_required
@require_POST
def mark_read(request: AuthenticatedRequest) -> HttpResponse:
    """Mark the listed notifications (``id``, repeated) read, or all of them without ids."""
    user = request.user
    ids = [int(value) for value in request.POST.getlist("id") if value.isdigit()]
    services.mark_notifications_read(user=user, notification_ids=ids or None)
    if request.htmx:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return redirect("public_pool:notifications")


# --- a customer's pool history -----------------------------------------------------------------


def visible_customer_or_pooled(user: User, customer_id: int) -> Customer:
    """A customer ``user`` may see: visible to them (``customers.selectors``), or a lead in a
    pool they may use. Anything else is a 404."""
    customer = customer_selectors.customers_visible_to(user).filter(pk=customer_id).first()
    if customer is None:
        customer = Customer.objects.filter(pk=customer_id, pool__in=selectors.pools_for_user(user)).first()
    if customer is None:
        raise Http404
    return customer


def customer_history(customer_id: int, limit: int = EVENTS_PAGE_SIZE) -> list[PoolEvent]:
    """A customer's pool events, newest first, with everyone's names: a new owner sees why the
    lead was released or recycled before. Callers check that the user may see the customer
    (``pool_events`` restricts reps to what they own now, which hides a pooled lead's past)."""
    return list(
        PoolEvent.objects.filter(customer_id=customer_id)
        .select_related("actor", "from_owner", "to_owner", "from_pool", "to_pool", "rule")
        .order_by("-at", "-id")[:limit]
    )


@login_required
@require_GET
def customer_events(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    user = request.user
    customer = visible_customer_or_pooled(user, customer_id)
    return render(
        request,
        "public_pool/customer_events.html",
        {
            "customer": customer,
            "events": customer_history(customer.pk),
            "reason_labels": selectors.event_reason_labels(),
        },
    )
