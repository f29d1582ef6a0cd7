"""Template tags that compose the public pool into other apps' pages.

``customers`` Python modules never import ``public_pool``; its templates ``{% load pool_tags %}``
instead (templates are the project's composition layer). Each tag costs a fixed number of
queries whatever the data:

- ``{% days_left_badge customer %}``: none (reads ``recycle_due_at`` on the row);
- ``{% pool_panel customer %}`` (customer detail): the active reasons, the owner's extension
  request, the customer's latest pool events, and the deadline card — five queries;
- ``{% deadline_card customer %}``: the rule and whether a deal was won since the claim — two;
- ``{% duplicate_notice duplicates %}`` (create page): one query for the user's pools.
"""

from datetime import datetime
from typing import Any

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from public_pool import selectors, services
from public_pool.models import recycle_trigger_words, recycled_reason_words
from public_pool.views import customer_history, extension_form

register = template.Library()

PANEL_EVENTS = 20


@register.filter
def days_left(customer: Any) -> int | None:
    return selectors.days_left(customer)


# The badge's look by how close the deadline is: overdue, ≤ 3 days, ≤ 7 days, further.
BADGE_CLASSES = {
    "overdue": "text-bg-danger",
    "soon": "text-bg-danger",
    "warning": "text-bg-warning",
    "ok": "text-bg-light border",
}


@register.simple_tag
def days_left_badge(customer: Any) -> str:
    """Badge: overdue, due today, ≤ 3 days (danger), ≤ 7 days (warning), else the days left.

    Written here rather than in an included template: the customer list and "Days left" show it
    on every row, and as an inclusion tag it cost ~0.2 ms a row, a fifth of a rep's list page
    (issue 12, bench/README.md). Its words are the catalogue's as before."""
    due = getattr(customer, "recycle_due_at", None)
    if due is None or getattr(customer, "owner_id", None) is None:
        return ""
    now = timezone.now()
    days = selectors.days_left(customer, now) or 0  # a whole number: the deadline is set
    if due <= now:
        tone, label = "overdue", _("Overdue")
    else:
        tone = "soon" if days <= 3 else "warning" if days <= 7 else "ok"
        if days == 0:
            label = _("Due today")
        else:
            label = ngettext("%(days)s day left", "%(days)s days left", days) % {"days": days}
    title = _("Recycled on %(due)s") % {"due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M")}
    return format_html(
        '<span class="badge {}" title="{}" data-days-left="{}">{}</span>',
        BADGE_CLASSES[tone],
        title,
        days,
        label,
    )


@register.inclusion_tag("public_pool/_deadline_card.html")
def deadline_card(customer: Any, oob: bool = False, after_followup: bool = False) -> dict[str, Any]:
    """The deadline card of an owned customer: date, rule in words, what resets it (two queries)."""
    info = selectors.explain_deadline(customer)
    words = ""
    if info is not None:
        words = recycle_trigger_words(trigger=info.trigger, since=info.trigger_since, days=info.trigger_days)
    return {
        "customer": customer,
        "info": info,
        "trigger_words": words,
        "oob": oob,
        "after_followup": after_followup,
    }


@register.inclusion_tag("public_pool/_pool_panel.html", takes_context=True)
def pool_panel(context: template.Context, customer: Any) -> dict[str, Any]:
    """The customer detail's pool card: deadline, release dialog, extension, pool history."""
    user = context["user"]
    is_owner = customer.owner_id is not None and customer.owner_id == user.pk
    may_transfer = (
        customer.owner_id is not None
        and (user.is_admin or user.is_manager)
        and selectors.manages(user, customer.owner)
    )
    # The request of the current ownership: its owner sees it (or "Request more time"), and so
    # does whoever decides it (with Approve / Refuse), the same people who may transfer.
    extension = selectors.current_extension_request(customer) if is_owner or may_transfer else None
    events = customer_history(customer.pk, limit=PANEL_EVENTS)
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "user": user,
        "customer": customer,
        "may_release": customer.owner_id is not None,
        # Managers and admins hand a customer to another rep from its page.
        "may_transfer": may_transfer,
        "is_owner": is_owner,
        "extension": extension,
        "may_decide": may_transfer and not is_owner,
        "extension_form": extension_form(customer)
        if is_owner and extension is None and customer.recycle_due_at
        else None,
        "reasons": list(selectors.active_release_reasons()) if customer.owner_id is not None else [],
        "events": events,
        # Labels are read only when a release is in the history.
        "reason_labels": selectors.event_reason_labels() if any(e.reason for e in events) else {},
        "events_cut": PANEL_EVENTS,
    }


@register.inclusion_tag("public_pool/_duplicate_notice.html", takes_context=True)
def duplicate_notice(context: template.Context, duplicates: Any) -> dict[str, Any]:
    """Where an existing customer is: in a pool (claim button if the user may use it) or owned by
    a colleague (the owner's name only)."""
    user = context["user"]
    usable = set(selectors.pools_for_user(user).values_list("pk", flat=True))
    return {
        "csrf_token": context.get("csrf_token"),
        "duplicates": duplicates,
        "usable_pools": usable,
        "user": user,
    }


@register.inclusion_tag("public_pool/_bulk_owner_form.html", takes_context=True)
def bulk_owner_form(context: template.Context, page: Any) -> dict[str, Any]:
    """The team list's "Change owner" bar (managers, admins): the ticked customers or all matching
    the filter to one rep. No query: the rep picker (each rep's load and room) is fetched when the
    bar is opened (``pool_manage:bulk_owner_choices``), so the list costs what it did."""
    request = context.get("request")
    total = page.paginator.count
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "total": total,
        "all_allowed": total <= services.MAX_BULK_TRANSFER,
        "max_bulk": services.MAX_BULK_TRANSFER,
        "filters": request.GET.urlencode() if request else "",
        "next_url": request.get_full_path() if request else "",
    }


@register.filter
def time_in_pool(since: datetime | None) -> str:
    """How long a lead has waited in the pool, in its largest unit: "3 days", "2 months"."""
    if since is None:
        return ""
    return timesince(since, timezone.now(), depth=1)


@register.filter
def get_item(mapping: dict[str, Any], key: str) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def recycled_reason(notice: Any) -> str:
    """A ``recycled`` notice's trigger in words: "no follow-up since 3 Oct for 30 days"."""
    return recycled_reason_words(notice.params)
