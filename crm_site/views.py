"""Site-wide pages: the home dashboard.

The home page is the first thing a rep sees every morning, so it answers "what do I have and
what needs me": customers in my scope, follow-ups logged this week, the open pipeline, and
the customers that have waited longest for a follow-up. Every figure is scoped by
``selectors.customers_visible_to`` (a rep: their own; a manager: the team; an admin: all),
and the page costs a fixed number of queries: one aggregate per table plus one short list.
"""

from datetime import datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q, Sum
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from crm_site.http import AuthenticatedRequest
from customers import selectors
from customers.models import Deal, DealStage, FollowUp, Role
from public_pool import selectors as pool_selectors

STALE_AFTER_DAYS = 30  # "needs attention": owned, and no follow-up for this long (or ever)
ATTENTION_LIST_SIZE = 5


def _start_of_week(now: datetime) -> datetime:
    """Monday 00:00 of this week in the active time zone (the company's, see TIME_ZONE)."""
    today = timezone.localdate(now)
    monday = today - timedelta(days=today.weekday())
    return timezone.make_aware(datetime.combine(monday, time.min))


def _start_of_month(now: datetime) -> datetime:
    return timezone.make_aware(datetime.combine(timezone.localdate(now).replace(day=1), time.min))


@login_required
@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    now = timezone.now()
    visible = selectors.customers_visible_to(user)

    customers = visible.aggregate(
        total=Count("pk"),
        mine=Count("pk", filter=Q(owner=user)),
        stale=Count(
            "pk",
            filter=Q(owner__isnull=False)
            & (
                Q(last_followup_at__isnull=True)
                | Q(last_followup_at__lt=now - timedelta(days=STALE_AFTER_DAYS))
            ),
        ),
    )
    followups_this_week = (
        selectors.of_visible_customers(FollowUp.objects.all(), user)
        .filter(at__gte=_start_of_week(now))
        .count()
    )
    open_stages = DealStage.open_stages()
    deals = selectors.of_visible_customers(Deal.objects.all(), user).aggregate(
        open_count=Count("pk", filter=Q(stage__in=open_stages)),
        open_amount=Sum("amount", filter=Q(stage__in=open_stages)),
        won_count=Count("pk", filter=Q(stage=DealStage.WON, closed_at__gte=_start_of_month(now))),
        won_amount=Sum("amount", filter=Q(stage=DealStage.WON, closed_at__gte=_start_of_month(now))),
    )
    attention = list(
        selectors.search_customers(user=user, filters=selectors.CustomerFilters(sort="last_followup_at"))[
            :ATTENTION_LIST_SIZE
        ]
    )
    # Customers at risk of recycling: the user's own, soonest deadline first (one bounded query).
    at_risk = list(pool_selectors.customers_at_risk(user=user)[:ATTENTION_LIST_SIZE])
    return render(
        request,
        "home.html",
        {
            "scope": "all" if user.is_admin else "team" if user.role == Role.MANAGER else "mine",
            "customer_count": customers["total"],
            "my_customer_count": customers["mine"],
            "stale_count": customers["stale"],
            "stale_days": STALE_AFTER_DAYS,
            "followups_this_week": followups_this_week,
            "open_deal_count": deals["open_count"],
            "open_deal_amount": deals["open_amount"] or Decimal(0),
            "won_count": deals["won_count"],
            "won_amount": deals["won_amount"] or Decimal(0),
            "attention": attention,
            "at_risk": at_risk,
        },
    )
