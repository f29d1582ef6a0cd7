"""The customer API's ``recycle_due_at``, ``recycle_rule`` and ``recycle_trigger`` (API.md)."""

from datetime import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer
from public_pool import services
from tests.factories import DealFactory, UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db

LIST_URL = "/api/customers/"


@pytest.fixture
def admin(db):
    return UserFactory(username="deadline_admin", admin=True)


def make_rule(admin, pool, **values):
    values.setdefault("name", "rule")
    return services.create_recycle_rule(actor=admin, pool_id=pool.pk, rule=services.RuleData(**values))


def api_row(client, customer):
    return client.get(f"/api/customers/{customer.pk}/").json()


def as_datetime(value):
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_no_followup_deadline_says_so(token_client, admin, rep, pool):
    rule = make_rule(admin, pool, no_followup_days=30, no_deal_days=90)
    customer = owned(rep, pool, claimed_days_ago=10, followup_days_ago=2)

    row = api_row(token_client(rep), customer)

    assert as_datetime(row["recycle_due_at"]) == customer.recycle_due_at
    assert (row["recycle_rule"], row["recycle_trigger"]) == (rule.pk, "no_followup")


def test_a_no_deal_deadline_says_follow_ups_will_not_help(token_client, admin, rep, pool):
    rule = make_rule(admin, pool, no_followup_days=30, no_deal_days=40)
    customer = owned(rep, pool, claimed_days_ago=35, followup_days_ago=1)

    row = api_row(token_client(rep), customer)

    assert as_datetime(row["recycle_due_at"]) == customer.recycle_due_at
    assert (row["recycle_rule"], row["recycle_trigger"]) == (rule.pk, "no_deal")


def test_a_won_deal_leaves_only_the_followup_trigger(token_client, admin, rep, pool):
    make_rule(admin, pool, no_followup_days=30, no_deal_days=40)
    customer = owned(rep, pool, claimed_days_ago=35, followup_days_ago=1)
    DealFactory(customer=customer, won=True)
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk=customer.pk))

    assert api_row(token_client(rep), customer)["recycle_trigger"] == "no_followup"


def test_no_rule_and_pooled_customers_answer_nulls(token_client, admin, rep, pool, other_pool):
    unruled = owned(rep, other_pool, claimed_days_ago=3)
    make_rule(admin, pool, no_followup_days=30)
    lead = pooled(pool)
    admin_client = token_client(admin)

    for customer in (unruled, lead):
        row = api_row(admin_client, customer)
        assert (row["recycle_due_at"], row["recycle_rule"], row["recycle_trigger"]) == (None, None, None)


def test_the_list_carries_the_fields_at_a_constant_query_count(token_client, admin, rep, pool):
    make_rule(admin, pool, no_followup_days=30, no_deal_days=45)
    for i in range(60):
        owned(rep, pool, claimed_days_ago=i % 40, followup_days_ago=i % 7)
    client = token_client(rep)

    counts = {}
    for page_size in (5, 60):
        with CaptureQueriesContext(connection) as queries:
            rows = client.get(LIST_URL, {"page_size": page_size}).json()["results"]
        assert len(rows) == page_size
        assert all(row["recycle_due_at"] and row["recycle_rule"] for row in rows)
        assert {row["recycle_trigger"] for row in rows} <= {"no_followup", "no_deal"}
        counts[page_size] = len(queries)
    assert counts[5] == counts[60]
    triggers = {row["recycle_trigger"] for row in rows}
    assert triggers == {"no_followup", "no_deal"}


# --- The customer page's deadline card ---------------------------------------------------------

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_card_names_the_deadline_the_rule_and_what_resets_it(client, admin, rep, pool):
    make_rule(admin, pool, name="Thirty days", no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=10, followup_days_ago=5)
    client.force_login(rep)

    page = client.get(f"/customers/{customer.pk}/").content.decode()

    assert 'id="deadline-card"' in page
    assert customer.recycle_due_at.astimezone().strftime("%Y-%m-%d") in page or "Back to the pool on" in page
    assert "“Thirty days”" in page
    assert "no follow-up for 30 days" in page
    assert "A follow-up moves it" in page


def test_logging_a_follow_up_shows_the_new_deadline_at_once(client, admin, rep, pool):
    make_rule(admin, pool, name="Thirty days", no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=25, followup_days_ago=20)
    old_due = customer.recycle_due_at
    client.force_login(rep)

    response = client.post(
        f"/customers/{customer.pk}/follow-ups/", {"kind": "call", "note": "Called about the order"}, **HTMX
    )

    body = response.content.decode()
    customer.refresh_from_db()
    assert customer.recycle_due_at > old_due
    assert 'id="deadline-card" class="deadline-card border rounded p-2 mb-3" hx-swap-oob="true"' in body
    new_due = timezone.localtime(customer.recycle_due_at).strftime("%Y-%m-%d %H:%M")
    assert f"Follow-up logged: the deadline is now {new_due}." in body


def test_a_rule_follow_ups_do_not_move_says_what_would(client, admin, rep, pool):
    make_rule(admin, pool, name="Win in 40", no_deal_days=40, exempt_open_deal_from_stage="proposal")
    customer = owned(rep, pool, claimed_days_ago=30)
    client.force_login(rep)

    response = client.post(
        f"/customers/{customer.pk}/follow-ups/", {"kind": "visit", "note": "Visited"}, **HTMX
    )

    body = response.content.decode()
    assert "this rule is not moved by follow-ups" in body
    assert "Follow-ups do not move this deadline." in body
    assert "Win a deal by" in body
    assert "or further also keeps it" in body
