"""The "Returned to the pool" page: a rep's customers recycled in the last 30 days."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from public_pool import services
from public_pool.models import Notification, NotificationKind
from tests.factories import UserFactory
from tests.public_pool.conftest import owned

pytestmark = pytest.mark.django_db

URL = "/pool/returned/"


@pytest.fixture
def admin(db):
    return UserFactory(username="returned_admin", admin=True)


def recycle(admin, rep, pool, count, *, name_prefix="Lost", **rule):
    rule.setdefault("no_followup_days", 30)
    services.create_recycle_rule(
        actor=admin, pool_id=pool.pk, rule=services.RuleData(name="Thirty days", **rule)
    )
    customers = [
        owned(rep, pool, claimed_days_ago=40, followup_days_ago=35, name=f"{name_prefix} {i}")
        for i in range(count)
    ]
    services.recycle_stale_customers()
    return customers


def test_lists_what_the_rep_lost_by_which_rule_with_claim_where_allowed(client, admin, rep, other_rep, pool):
    lost = recycle(admin, rep, pool, 3)
    # A colleague took one back meanwhile; an old notice is out of the 30-day window.
    services.claim_customer(rep=other_rep, customer_id=lost[0].pk)
    Notification.objects.filter(customer=lost[1]).update(created_at=timezone.now() - timedelta(days=31))
    client.force_login(rep)

    page = client.get(URL).content.decode()

    assert "Lost 0" in page
    assert "Lost 1" not in page
    assert "Lost 2" in page
    assert "“Thirty days”: no follow-up since" in page
    assert "for 30 days" in page
    assert "Taken by someone else" in page
    assert f'action="/pool/customers/{lost[2].pk}/claim/"' in page


def test_a_cooldown_shows_the_date_it_ends_instead_of_claim(client, admin, rep, pool):
    pool.cooldown_days = 7
    pool.save()
    (customer,) = recycle(admin, rep, pool, 1)
    client.force_login(rep)

    page = client.get(URL).content.decode()

    until = timezone.localtime(timezone.now() + timedelta(days=7))
    assert 'data-claim-state="cooldown"' in page
    assert "In your cooldown until" in page
    assert until.strftime("%B") in page
    assert f'action="/pool/customers/{customer.pk}/claim/"' not in page


def test_claiming_back_from_the_page(client, admin, rep, pool):
    (customer,) = recycle(admin, rep, pool, 1)
    client.force_login(rep)

    response = client.post(f"/pool/customers/{customer.pk}/claim/", {"next": URL}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).owner_id == rep.pk
    assert "Yours again" in client.get(URL).content.decode()


def test_only_the_callers_own_notices(client, admin, rep, other_rep, pool):
    recycle(admin, rep, pool, 1, name_prefix="Rep's")
    client.force_login(other_rep)

    page = client.get(URL).content.decode()

    assert "Rep's 0" not in page
    assert "None of your customers went back to the pool lately." in page


def test_the_page_costs_the_same_queries_for_2_or_25_rows(client, admin, rep, pool):
    pool.cooldown_days = 3
    pool.max_held_per_rep = 100
    pool.save()
    recycle(admin, rep, pool, 2)
    client.force_login(rep)
    client.get(URL)  # warm the session and content types

    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for i in range(23):
        owned(rep, pool, claimed_days_ago=40, followup_days_ago=35, name=f"More {i}")
    services.recycle_stale_customers()
    with CaptureQueriesContext(connection) as many:
        page = client.get(URL).content.decode()

    assert page.count('id="returned-') == 25
    assert len(many) == len(few)


def test_recycled_notifications_link_to_the_page(client, admin, rep, pool):
    recycle(admin, rep, pool, 1)
    client.force_login(rep)

    page = client.get("/pool/notifications/").content.decode()

    notice = Notification.objects.get(kind=NotificationKind.RECYCLED)
    assert f'href="/pool/returned/#returned-{notice.pk}"' in page
    assert 'href="/pool/returned/"' in page  # the navigation entry
