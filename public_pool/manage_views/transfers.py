"""Managers change who owns customers: one from its page, many from the team's customer list.

- ``transfer_customer`` (``/pool/manage/customers/<id>/transfer/``): the customer page's
  "Transfer…". Reps are picked by name from a searchable list (``?q=``, live with htmx) that
  shows each rep's customers and their load against the customer's home pool's held limit.
- ``transfer`` (``/pool/manage/transfer/``): find a customer by name, then transfer it there.
  (``?customer=<id>`` opens that customer's transfer; a POST with ``customer_id`` still
  transfers, for old bookmarks and scripts.)
- ``bulk_transfer`` (POST from the customer list): the ticked customers, or all matching the
  list's filter (at most ``services.MAX_BULK_TRANSFER``), to one rep, all or nothing on limits
  unless overridden (logged in each event).

A customer the manager may not see is a 404, as everywhere; rules are the services'.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from crm_site.exceptions import DomainError
from crm_site.http import AuthenticatedRequest
from customers import selectors as customer_selectors
from customers.forms import CustomerFilterForm
from customers.models import Customer, User
from public_pool import lead_selectors, services
from public_pool.exceptions import InvalidInput
from public_pool.manage_forms import TransferForm, add_service_errors
from public_pool.manage_views.team import manager_or_admin
from public_pool.transfer_forms import BulkOwnerForm, CustomerTransferForm

PICKER_SIZE = 20
FINDER_PAGE_SIZE = 20


def _transfer(form: CustomerTransferForm | TransferForm, user: User, customer_id: int) -> Customer | None:
    """Run the transfer a valid form asks for; the service's refusals become the form's errors."""
    try:
        return services.transfer_customer(
            actor=user,
            customer_id=customer_id,
            to_rep=form.cleaned_data["to_rep"],
            override=form.cleaned_data["override"],
            note=form.cleaned_data["note"],
        )
    except InvalidInput as error:
        add_service_errors(form, error.fields)
    except DomainError as error:
        form.add_error(None, str(error.message))
    return None


def _picker(user: User, customer: Customer, term: str) -> dict:
    home = customer.home_pool
    pools = [home] if home is not None and home.max_held_per_rep else []
    choices = lead_selectors.rep_choices(actor=user, term=term, limit=PICKER_SIZE + 1, pools=pools)
    return {
        "choices": choices[:PICKER_SIZE],
        "more": len(choices) > PICKER_SIZE,
        "home_pool": pools[0] if pools else None,
        "term": term,
    }


@manager_or_admin
def transfer_customer(request: AuthenticatedRequest, customer_id: int) -> HttpResponse:
    user = request.user
    customer = customer_selectors.get_visible_customer(user=user, customer_id=customer_id)
    reps = lead_selectors.transfer_targets(user)
    form = CustomerTransferForm(request.POST or None, reps=reps)
    term = request.GET.get("q", "")[:100]
    moved = _transfer(form, user, customer.pk) if request.method == "POST" and form.is_valid() else None
    if moved is not None:
        messages.success(
            request,
            _("%(customer)s now belongs to %(rep)s.")
            % {"customer": moved.name, "rep": form.cleaned_data["to_rep"]},
        )
        if customer_selectors.customers_visible_to(user).filter(pk=moved.pk).exists():
            return redirect("customers:detail", pk=moved.pk)
        return redirect("customers:list")
    context = {"customer": customer, "form": form, **_picker(user, customer, term)}
    if request.htmx and request.method == "GET":
        return render(request, "public_pool/manage/_rep_picker.html", context)
    status = 400 if request.method == "POST" else 200
    return render(request, "public_pool/manage/transfer_customer.html", context, status=status)


@manager_or_admin
def transfer(request: AuthenticatedRequest) -> HttpResponse:
    """Find the customer to transfer by name (owned customers the manager sees)."""
    user = request.user
    if request.method == "POST":
        return _transfer_by_number(request, user)
    customer_id = request.GET.get("customer", "")
    if customer_id.isdigit():
        return transfer_customer(request, int(customer_id))
    term = request.GET.get("q", "").strip()[:100]
    customers = customer_selectors.customers_visible_to(user).filter(owner__isnull=False)
    if term:
        customers = customers.filter(name__icontains=term)
    page = Paginator(customers.select_related("owner").order_by("name", "pk"), FINDER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "public_pool/manage/transfer.html",
        {"page": page, "term": term},
    )


def _transfer_by_number(request: AuthenticatedRequest, user: User) -> HttpResponse:
    form = TransferForm(request.POST, reps=lead_selectors.transfer_targets(user))
    customer = _transfer(form, user, form.cleaned_data["customer_id"]) if form.is_valid() else None
    if customer is not None:
        messages.success(
            request,
            _("%(customer)s now belongs to %(rep)s.")
            % {"customer": customer.name, "rep": form.cleaned_data["to_rep"]},
        )
        return redirect("pool_manage:transfer")
    errors = [str(error) for errors in form.errors.values() for error in errors]
    messages.error(request, " ".join(errors))
    return render(
        request,
        "public_pool/manage/transfer.html",
        {"page": Paginator(Customer.objects.none(), FINDER_PAGE_SIZE).get_page(1), "term": ""},
        status=400,
    )


BULK_PICKER_SIZE = 200  # reps listed in the bulk picker (a manager's team is far smaller)


@manager_or_admin
@require_GET
def bulk_owner_choices(request: AuthenticatedRequest) -> HttpResponse:
    """The bulk bar's rep picker, fetched when the bar is opened: each rep the user may give
    customers to, their customers and room under each pool's held limit (three queries)."""
    choices = lead_selectors.rep_choices(actor=request.user, limit=BULK_PICKER_SIZE)
    pools = [load.pool for load in choices[0].loads] if choices else []
    return render(request, "public_pool/_bulk_rep_picker.html", {"choices": choices, "pools": pools})


def _bulk_ids(user: User, form: BulkOwnerForm) -> list[int] | None:
    """The customers the bulk form means; None when "all matching" matches too many."""
    if form.cleaned_data["scope"] != "all":
        return form.cleaned_data["customers"]
    filters = CustomerFilterForm.for_user(user, QueryDict(form.cleaned_data["filters"])).filters()
    ids = list(
        customer_selectors.search_customers(user=user, filters=filters)
        .filter(owner__isnull=False)
        .values_list("pk", flat=True)[: services.MAX_BULK_TRANSFER + 1]
    )
    return ids if len(ids) <= services.MAX_BULK_TRANSFER else None


@manager_or_admin
@require_POST
def bulk_transfer(request: AuthenticatedRequest) -> HttpResponse:
    """Change the owner of many customers at once; back to the list with what happened."""
    user = request.user
    form = BulkOwnerForm(request.POST, reps=lead_selectors.transfer_targets(user))
    back = reverse("customers:list")
    if form.is_valid():
        target = form.cleaned_data["next"]
        if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            back = target
        ids = _bulk_ids(user, form)
        to_rep = form.cleaned_data["to_rep"]
        if ids is None:
            messages.error(
                request,
                _("More than %(max)d customers match: narrow the filter, or tick the customers to change.")
                % {"max": services.MAX_BULK_TRANSFER},
            )
            return redirect(back)
        try:
            result = services.transfer_customers(
                actor=user,
                customer_ids=ids,
                to_rep=to_rep,
                override=form.cleaned_data["override"],
                note=form.cleaned_data["note"],
            )
        except InvalidInput as error:
            messages.error(request, " ".join(str(message) for message in error.fields.values()))
        except DomainError as error:
            messages.error(request, _("Nothing was changed: %(why)s") % {"why": error.message})
        else:
            messages.success(request, _bulk_summary(result, to_rep))
        return redirect(back)
    messages.error(request, " ".join(str(error) for errors in form.errors.values() for error in errors))
    return redirect(back)


def _bulk_summary(result: services.TransferResult, to_rep: User) -> str:
    count = len(result.transferred)
    parts = [
        ngettext(
            "%(count)d customer now belongs to %(rep)s.", "%(count)d customers now belong to %(rep)s.", count
        )
        % {"count": count, "rep": to_rep}
    ]
    already = sum(1 for why in result.skipped.values() if why == "already_theirs")
    other = len(result.skipped) - already
    if already:
        parts.append(
            ngettext("%(count)d was already theirs.", "%(count)d were already theirs.", already)
            % {"count": already}
        )
    if other:
        parts.append(
            ngettext(
                "%(count)d skipped: no longer owned by a rep.",
                "%(count)d skipped: no longer owned by a rep.",
                other,
            )
            % {"count": other}
        )
    if result.override_used:
        parts.append(_("The limits were overridden; the log says so."))
    return " ".join(parts)
