"""``seed_demo`` tells a true story: deadlines consistent with now, warnings due, customers
recently recycled with their notices, and the scorecard set up."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from customers.models import Customer, Role, User
from metrics.models import KpiTarget, ScorecardWeight
from public_pool import services
from public_pool.models import Notification, NotificationKind, PoolEvent, PoolEventKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> None:
    call_command("seed_demo", stdout=StringIO())  # the default options: what `make demo` seeds


def test_the_first_recycle_run_after_start_moves_at_most_5_percent(seeded):
    owned = Customer.objects.filter(owner__isnull=False).count()
    out = StringIO()

    call_command(
        "recycle_pool", dry_run=True, as_of=(timezone.now() + timedelta(minutes=15)).isoformat(), stdout=out
    )
    would_move = services.recycle_stale_customers(dry_run=True, as_of=timezone.now() + timedelta(minutes=15))

    assert owned >= 50
    assert would_move.recycled <= owned * 0.05
    assert "would recycle" in out.getvalue() or would_move.recycled == 0


def test_some_owned_customers_are_inside_the_warning_window_and_warned(seeded):
    now = timezone.now()
    in_window = Customer.objects.filter(
        owner__isnull=False, recycle_due_at__gt=now, recycle_due_at__lte=now + timedelta(days=7)
    )

    assert in_window.exists()
    warned = Notification.objects.filter(kind=NotificationKind.RECYCLE_WARNING)
    assert set(warned.values_list("customer_id", flat=True)) <= set(
        Customer.objects.filter(owner__isnull=False).values_list("pk", flat=True)
    )
    assert warned.exists()


def test_customers_recycled_lately_have_their_events_and_notices(seeded, client):
    since = timezone.now() - timedelta(days=30)
    notices = Notification.objects.filter(kind=NotificationKind.RECYCLED, created_at__gte=since)

    assert notices.count() >= 5
    for notice in notices:
        customer = Customer.objects.get(pk=notice.customer_id)
        assert customer.owner_id is None
        assert customer.pool_id is not None
        event = PoolEvent.objects.filter(customer=customer, kind=PoolEventKind.RECYCLE).latest("at")
        assert (event.from_owner_id, event.rule.name, event.reason) == (
            notice.user_id,
            notice.params["rule"],
            notice.params["trigger"],
        )
        assert event.at == notice.created_at == customer.pooled_at
    rep = User.objects.get(pk=notices.values_list("user_id", flat=True).first())
    assert rep.role == Role.REP
    client.force_login(rep)
    page = client.get("/pool/returned/").content.decode()
    assert page.count('id="returned-') == min(notices.filter(user=rep).count(), 25)


def test_the_scorecard_has_targets_and_weights(seeded):
    assert KpiTarget.objects.filter(kpi="sales").count() == 2  # this quarter and the last
    assert ScorecardWeight.objects.aggregate(total=Sum("weight"))["total"] == 100
