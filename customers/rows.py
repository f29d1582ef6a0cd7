"""The customer list's rows, worked out in Python before the template writes them.

The list is the page people open most, and at 25 to 100 rows a page its cost is the rows: for
each one the template used to look up the level's and the industry's labels (Django's
``get_FOO_display`` builds a dict of every choice, translating each label, once per call),
reverse the detail URL and format the last follow-up three ways through template filters.
About 0.5 ms a row on the benchmark machine, half the admin's page at 1,000,000 customers
(issue 12, bench/README.md). Here the labels are translated once per page, and each row's
values are computed with plain calls; the template only places them. The markup and the
words are the ones the template wrote before (tests/customers/test_rows.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.urls import reverse
from django.utils import timezone

from customers.models import Customer, Industry, Level


@dataclass(frozen=True)
class FollowUp:
    """The last follow-up as the list shows it: when, to the minute, and how long ago."""

    iso: str  # the <time datetime> attribute, in the reader's time zone
    minute: str  # the tooltip: 2026-12-06 14:05
    ago: str  # "3 days ago", "3天之前"


@dataclass(frozen=True)
class CustomerRow:
    customer: Customer
    url: str
    level_label: str
    industry_label: str  # "" when the customer has no industry
    owner_name: str  # "" when the customer is in a pool
    followed_up: FollowUp | None
    tag_names: list[str]


def _follow_up(moment: datetime | None) -> FollowUp | None:
    if moment is None:
        return None
    local = timezone.localtime(moment)
    return FollowUp(iso=local.isoformat(), minute=local.strftime("%Y-%m-%d %H:%M"), ago=naturaltime(moment))


def customer_rows(customers: Iterable[Customer]) -> list[CustomerRow]:
    """One row per customer, in their order. Reads ``owner`` and ``tags``: select and prefetch
    them (``selectors.search_customers`` does) or each row costs a query."""
    levels = {value: str(label) for value, label in Level.choices}
    industries = {value: str(label) for value, label in Industry.choices}
    return [
        CustomerRow(
            customer=customer,
            url=reverse("customers:detail", args=[customer.pk]),
            level_label=levels.get(customer.level, customer.level),
            industry_label=industries.get(customer.industry, customer.industry),
            owner_name=str(customer.owner) if customer.owner_id is not None else "",
            followed_up=_follow_up(customer.last_followup_at),
            tag_names=[tag.name for tag in customer.tags.all()],
        )
        for customer in customers
    ]
