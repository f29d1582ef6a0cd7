"""Manager and admin pages of the public pool, mounted at ``/pool/manage/`` (``pool_manage:``).

Who: managers act for the reps of the teams they manage and on the pools they may use
(``selectors.pools_for_user``); admins on everything. A rep gets 403 on every page here; a
pool or rule the user may not use is a 404. Rule pages are admin-only.

Views are thin: parse a form, call one service or selector, render. Domain errors become
messages (``InvalidInput.fields`` go back onto the form, so field errors show in the user's
language and nothing is saved). Every list is paginated; its queries do not grow with the
page (asserted in ``tests/public_pool/test_manage_views.py``).

CSV export streams (``StreamingHttpResponse`` over a server-side cursor with
``QuerySet.iterator``), so memory stays bounded whatever the log's size; it starts with a
UTF-8 BOM so Excel opens Chinese text correctly, and its header row is translated.
"""

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_GET, require_POST

from crm_site import spreadsheets
from crm_site.exceptions import DomainError
from crm_site.http import AuthenticatedRequest
from crm_site.streaming import stream
from customers.models import User
from customers.selectors import managed_team_ids
from public_pool import selectors, services
from public_pool.exceptions import InvalidInput
from public_pool.forms import PoolFilterForm
from public_pool.manage_forms import (
    PAGE_SIZE,
    BulkAssignForm,
    DistributeForm,
    EventFilterForm,
    ExtensionDecisionForm,
    add_service_errors,
)
from public_pool.models import ExtensionRequest, Pool, PoolEventKind

CSV_CHUNK = 2000
# "Assign all leads matching the filter" takes at most this many (best first) in one go.
MAX_BULK_ASSIGN = 2000


def manager_or_admin(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_admin or request.user.is_manager):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def admin_only(view: Callable) -> Callable:
    @login_required
    @wraps(view)
    def wrapped(request: AuthenticatedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_admin:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _pool_for(user: User, pool_id: int) -> Pool:
    """A pool ``user`` may use, else 404 (another team's pool does not exist for them)."""
    return get_object_or_404(selectors.pools_for_user(user), pk=pool_id)


# --- overview ----------------------------------------------------------------------------------


@manager_or_admin
@require_GET
def index(request: AuthenticatedRequest) -> HttpResponse:
    pools = list(selectors.pools_with_sizes(request.user))
    pending = selectors.pending_extension_requests(user=request.user).count()
    return render(request, "public_pool/manage/index.html", {"pools": pools, "pending": pending})


# --- bulk assign and distribution ---------------------------------------------------------------


def _assign_context(
    request: AuthenticatedRequest, pool: Pool, form: BulkAssignForm | None = None, **extra: Any
) -> dict:
    user = request.user
    reps = selectors.assignable_reps(actor=user, pool=pool)
    filter_form = PoolFilterForm(request.GET)
    leads = selectors.pooled_customers(user=user, pool_id=pool.pk, filters=filter_form.filters())
    page = Paginator(leads, PAGE_SIZE).get_page(request.GET.get("page"))
    loads = selectors.rep_loads(pool=pool, reps=reps)
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "pool": pool,
        "page": page,
        "leads": [(lead, selectors.masked_contact(lead, pool)) for lead in page.object_list],
        "loads": loads,
        "form": form or BulkAssignForm(reps=reps, leads=leads),
        "filter_form": filter_form,
        "active_filters": filter_form.active_count(),
        "filters": query.urlencode(),
        "max_bulk": MAX_BULK_ASSIGN,
        "distribute_form": extra.pop("distribute_form", None) or DistributeForm(reps=reps),
        **extra,
    }


def _assign_data(request: AuthenticatedRequest, user: User, pool: Pool) -> QueryDict:
    """The posted form, with "all leads matching the filter" (``scope=all``) turned into the
    ids of those leads (at most ``MAX_BULK_ASSIGN``, best first)."""
    data = request.POST.copy()
    if data.get("scope") == "all":
        filters = PoolFilterForm(QueryDict(data.get("filters", ""))).filters()
        ids = selectors.pooled_customers(user=user, pool_id=pool.pk, filters=filters).values_list(
            "pk", flat=True
        )
        data.setlist("customers", [str(pk) for pk in ids[:MAX_BULK_ASSIGN]])
    return data


@manager_or_admin
def assign(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    """The pool's leads (searchable, filtered, with "tick all") with checkboxes, each assignable
    rep's load against the limits, and the bulk-assign form. All or nothing on limits unless
    "override" is ticked (then logged)."""
    user = request.user
    pool = _pool_for(user, pool_id)
    if request.method != "POST":
        return render(request, "public_pool/manage/assign.html", _assign_context(request, pool))
    reps = selectors.assignable_reps(actor=user, pool=pool)
    form = BulkAssignForm(
        _assign_data(request, user, pool),
        reps=reps,
        leads=selectors.pooled_customers(user=user, pool_id=pool.pk),
    )
    if form.is_valid():
        try:
            result = services.assign_customers(
                actor=user,
                rep=form.cleaned_data["rep"],
                customer_ids=[c.pk for c in form.cleaned_data["customers"]],
                override=form.cleaned_data["override"],
                note=form.cleaned_data["note"],
            )
        except InvalidInput as error:
            add_service_errors(form, error.fields)
        except DomainError as error:
            form.add_error(None, str(error.message))
        else:
            count = len(result.assigned)
            parts = [
                ngettext("%(count)d lead assigned to %(rep)s.", "%(count)d leads assigned to %(rep)s.", count)
                % {"count": count, "rep": form.cleaned_data["rep"]}
            ]
            if result.skipped:
                skipped = len(result.skipped)
                parts.append(
                    ngettext(
                        "%(count)d skipped: someone took it first.",
                        "%(count)d skipped: someone took them first.",
                        skipped,
                    )
                    % {"count": skipped}
                )
            if result.override_used:
                parts.append(_("The limits were overridden; the log says so."))
            # Whole sentences, each translated on its own, side by side.
            text = " ".join(parts)
            messages.success(request, text)
            back = reverse("pool_manage:assign", args=[pool.pk])
            filters = request.POST.get("filters", "")
            return redirect(f"{back}?{filters}" if filters else back)
    return render(request, "public_pool/manage/assign.html", _assign_context(request, pool, form), status=400)


@manager_or_admin
@require_POST
def distribute(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    """Automatic distribution; the page shows who got how many and which reps were skipped, why."""
    user = request.user
    pool = _pool_for(user, pool_id)
    reps = selectors.assignable_reps(actor=user, pool=pool)
    form = DistributeForm(request.POST, reps=reps)
    result = None
    if form.is_valid():
        chosen = form.cleaned_data["reps"]
        try:
            result = services.distribute_pool_leads(
                actor=user,
                pool_id=pool.pk,
                strategy=form.cleaned_data["strategy"],
                rep_ids=[r.pk for r in chosen] or None,
                max_leads=form.cleaned_data["max_leads"],
            )
        except InvalidInput as error:
            add_service_errors(form, error.fields)
        except DomainError as error:
            form.add_error(None, str(error.message))
    context = _assign_context(request, pool, distribute_form=form)
    if result is not None:
        names = {
            rep.pk: str(rep) for rep in User.objects.filter(pk__in=[*result.assigned, *result.skipped_reps])
        }
        why = {
            "away": _("marked away"),
            "limit_reached": _("at the pool's limit"),
            "not_pool_member": _("not a member of this pool"),
        }
        context["result"] = {
            "total": result.total,
            "assigned": [(names.get(pk, pk), len(ids)) for pk, ids in result.assigned.items() if ids],
            "skipped": [(names.get(pk, pk), why.get(code, code)) for pk, code in result.skipped_reps.items()],
            "unassigned": len(result.unassigned),
        }
    return render(
        request, "public_pool/manage/assign.html", context, status=200 if result is not None else 400
    )


# --- extension requests -------------------------------------------------------------------------


@manager_or_admin
@require_GET
def extensions(request: AuthenticatedRequest) -> HttpResponse:
    requests = selectors.pending_extension_requests(user=request.user)
    page = Paginator(requests, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "public_pool/manage/extensions.html", {"page": page})


@manager_or_admin
@require_POST
def extension_decide(request: AuthenticatedRequest, request_id: int) -> HttpResponse:
    """Approve or refuse from the requests page or the customer's page (``next``); the service's
    refusal (e.g. the customer already left the rep) comes back as a message, nothing changed."""
    back = reverse("pool_manage:extensions")
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        back = target
    form = ExtensionDecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose approve or refuse."))
        return redirect(back)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.decide_extension(
            actor=request.user,
            request_id=request_id,
            approve=approve,
            days=form.cleaned_data["days"],
            note=form.cleaned_data["note"],
        )
    except DomainError as error:
        messages.error(request, str(error.message))
    except ExtensionRequest.DoesNotExist:
        raise Http404 from None
    else:
        messages.success(request, _("Extension approved.") if approve else _("Extension refused."))
    return redirect(back)


# --- event log ----------------------------------------------------------------------------------


def _event_filter_form(request: AuthenticatedRequest) -> EventFilterForm:
    user = request.user
    people = User.objects.order_by("username")
    if not user.is_admin:
        people = people.filter(team_id__in=managed_team_ids(user))
    return EventFilterForm(
        request.GET or None, pools=selectors.pools_for_user(user).order_by("name"), people=people
    )


def _events_page(request: AuthenticatedRequest, *, template: str, extra: dict, **fixed: Any) -> HttpResponse:
    form = _event_filter_form(request)
    events = selectors.pool_events(user=request.user, filters=form.event_filters(**fixed))
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # A filter that does not validate (a date out of range) shows its error with a 400.
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "reason_labels": selectors.event_reason_labels(),
            "query": query.urlencode(),
            **extra,
        },
        status=status,
    )


@manager_or_admin
@require_GET
def events(request: AuthenticatedRequest) -> HttpResponse:
    """The pool log the user may read (managers: their teams' and pools' activity), filtered by
    ``?pool=&kind=&rep=&from=&to=`` (``rep``: who acted)."""
    return _events_page(request, template="public_pool/manage/events.html", extra={"pool": None})


@manager_or_admin
@require_GET
def pool_events(request: AuthenticatedRequest, pool_id: int) -> HttpResponse:
    pool = _pool_for(request.user, pool_id)
    return _events_page(
        request, template="public_pool/manage/events.html", extra={"pool": pool}, pool_id=pool.pk
    )


def _event_csv_header() -> list[str]:
    return [
        _("When"),
        pgettext("kind of pool event", "Kind"),
        _("Customer"),
        pgettext("who did it", "By"),
        _("From owner"),
        _("To owner"),
        _("From pool"),
        _("To pool"),
        _("Reason"),
        _("Rule"),
        _("Limits overridden"),
        _("Note"),
    ]


def _csv_rows(events, reason_labels: dict[str, str]) -> Iterator[list[str]]:
    kinds = dict(PoolEventKind.choices)
    for event in stream(events, chunk_size=CSV_CHUNK):
        yield [
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            str(kinds.get(event.kind, event.kind)),
            event.customer.name,
            str(event.actor) if event.actor else "",
            str(event.from_owner) if event.from_owner else "",
            str(event.to_owner) if event.to_owner else "",
            event.from_pool.name if event.from_pool else "",
            event.to_pool.name if event.to_pool else "",
            reason_labels.get(event.reason, event.reason),
            event.rule.name if event.rule else "",
            _("yes") if event.override else "",
            event.note,
        ]


@manager_or_admin
@require_GET
def events_csv(request: AuthenticatedRequest) -> StreamingHttpResponse:
    """The filtered log as CSV, streamed in chunks (bounded memory), UTF-8 with a BOM."""
    form = _event_filter_form(request)
    if form.is_bound and not form.is_valid():
        raise BadRequest("event filters")  # the page shows why; a download has nowhere to say it
    events = selectors.pool_events(user=request.user, filters=form.event_filters())
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return spreadsheets.streaming_csv_response(
        _event_csv_header(),
        _csv_rows(events, selectors.event_reason_labels()),
        filename=f"pool-events-{stamp}.csv",
    )
