"""The rep's (and everyone's) pool pages: pools, claims in place, my customers, release,
extensions, notifications, duplicate detection on create, and a customer's pool history."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Customer
from public_pool import services
from public_pool.models import ExtensionRequest, Notification, PoolEvent, PoolEventKind, ReleaseReason
from tests.factories import CustomerFactory, RecycleRuleFactory
from tests.public_pool.conftest import owned, pooled

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def _reason() -> ReleaseReason:
    return ReleaseReason.objects.filter(active=True, requires_note=False).order_by("order").first()


def _due_in(customer: Customer, days: float) -> Customer:
    Customer.objects.filter(pk=customer.pk).update(recycle_due_at=timezone.now() + timedelta(days=days))
    customer.refresh_from_db()
    return customer


# --- pools -------------------------------------------------------------------------------------


def test_pool_list_shows_only_the_pools_the_rep_may_use_with_sizes(as_user, rep, pool, other_pool):
    pooled(pool)
    pooled(pool)
    pooled(other_pool)

    response = as_user(rep).get(reverse("public_pool:list"))

    assert response.status_code == 200
    assert [(p.name, p.lead_count) for p in response.context["pools"]] == [(pool.name, 2)]
    assert other_pool.name not in response.content.decode()


def test_pool_page_of_a_pool_the_user_may_not_use_is_404(as_user, rep, other_pool):
    pooled(other_pool)

    assert as_user(rep).get(reverse("public_pool:detail", args=[other_pool.pk])).status_code == 404


def test_pool_page_masks_contacts_when_the_pool_hides_them(as_user, rep, pool):
    pool.hide_contacts = True
    pool.save()
    pooled(pool, name="Hidden Co", phone="13812345678", email="boss@hidden.example")

    page = as_user(rep).get(reverse("public_pool:detail", args=[pool.pk])).content.decode()

    assert "Hidden Co" in page
    assert "138****5678" in page
    assert "13812345678" not in page
    assert "boss@hidden.example" not in page


def test_pool_page_shows_contacts_when_the_pool_does_not_hide_them(as_user, rep, pool):
    pool.hide_contacts = False
    pool.save()
    pooled(pool, phone="13812345678")

    assert "13812345678" in as_user(rep).get(reverse("public_pool:detail", args=[pool.pk])).content.decode()


def test_pool_page_filters_and_orders_by_priority(as_user, rep, pool):
    pooled(pool, name="Low", industry="manufacturing", priority_score=10)
    pooled(pool, name="High", industry="manufacturing", priority_score=90)
    pooled(pool, name="Other industry", industry="retail", priority_score=99)

    response = as_user(rep).get(reverse("public_pool:detail", args=[pool.pk]), {"industry": "manufacturing"})

    assert [row.lead.name for row in response.context["rows"]] == ["High", "Low"]


def test_pool_page_query_count_does_not_grow_with_the_leads(as_user, rep, pool):
    client = as_user(rep)
    pooled(pool)
    client.get(reverse("public_pool:detail", args=[pool.pk]))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("public_pool:detail", args=[pool.pk]))
    for _ in range(30):
        pooled(pool)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("public_pool:detail", args=[pool.pk]))

    assert len(response.context["rows"]) == 25
    assert len(few) == len(many)


# --- claims ------------------------------------------------------------------------------------


def test_claim_with_htmx_answers_the_claimed_box_and_the_quota(as_user, rep, pool):
    pool.max_held_per_rep = 5
    pool.max_claims_per_day = 3
    pool.save()
    lead = pooled(pool)

    response = as_user(rep).post(reverse("public_pool:claim", args=[lead.pk]), **HX)

    lead.refresh_from_db()
    assert lead.owner == rep
    assert lead.pool is None
    body = response.content.decode()
    assert body.startswith(f'<div class="claim-box" id="claim-{lead.pk}">')
    assert "Claimed" in body
    # The quota rides along out of band, already counting this claim.
    assert 'id="pool-quota"' in body
    assert 'hx-swap-oob="true"' in body
    assert re.search(r'data-testid="quota-held">1 / 5<', body)
    assert re.search(r'data-testid="quota-today">1 / 3<', body)
    assert reverse("customers:detail", args=[lead.pk]) in body
    assert "<html" not in body


def test_claim_of_a_lead_a_colleague_took_says_already_claimed_and_changes_nothing(
    as_user, rep, other_rep, pool
):
    lead = pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=lead.pk)
    events = PoolEvent.objects.count()

    response = as_user(rep).post(reverse("public_pool:claim", args=[lead.pk]), **HX)

    lead.refresh_from_db()
    assert lead.owner == other_rep
    assert PoolEvent.objects.count() == events
    assert "already claimed" in response.content.decode()


def test_claim_over_the_held_limit_says_the_limit(as_user, rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    owned(rep, pool)
    lead = pooled(pool)

    response = as_user(rep).post(reverse("public_pool:claim", args=[lead.pk]), **HX)

    lead.refresh_from_db()
    assert lead.owner is None
    assert "limit of 1 customers held" in response.content.decode()


def test_claim_over_the_daily_limit_says_so(as_user, rep, pool):
    pool.max_claims_per_day = 1
    pool.save()
    first, second = pooled(pool), pooled(pool)
    client = as_user(rep)
    client.post(reverse("public_pool:claim", args=[first.pk]), **HX)

    response = client.post(reverse("public_pool:claim", args=[second.pk]), **HX)

    second.refresh_from_db()
    assert second.owner is None
    assert "limit of 1 leads per day" in response.content.decode()


def test_claim_in_cooldown_says_until_when(as_user, rep, pool):
    pool.cooldown_days = 7
    pool.save()
    customer = owned(rep, pool)
    services.release_customer(actor=rep, customer_id=customer.pk, reason=_reason().code)
    release_at = PoolEvent.objects.get(customer=customer, kind=PoolEventKind.RELEASE).at

    response = as_user(rep).post(reverse("public_pool:claim", args=[customer.pk]), **HX)

    customer.refresh_from_db()
    assert customer.owner is None
    until = timezone.localtime(release_at + timedelta(days=7)).strftime("%Y-%m-%d")
    assert "claim it again after" in response.content.decode()
    assert until in response.content.decode()


def test_claim_without_javascript_redirects_to_the_customer_with_a_message(as_user, rep, pool):
    lead = pooled(pool)

    response = as_user(rep).post(reverse("public_pool:claim", args=[lead.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("customers:detail", args=[lead.pk])
    assert "Customer claimed" in response.content.decode()


def test_claim_failure_without_javascript_goes_back_with_the_reason(as_user, rep, other_rep, pool):
    lead = pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=lead.pk)
    back = reverse("public_pool:detail", args=[pool.pk])

    response = as_user(rep).post(reverse("public_pool:claim", args=[lead.pk]), {"next": back}, follow=True)

    assert response.redirect_chain[-1][0] == back
    assert "already claimed" in response.content.decode()


def test_claim_next_best_takes_the_highest_priority_lead(as_user, rep, pool):
    pooled(pool, priority_score=10)
    best = pooled(pool, priority_score=90)

    response = as_user(rep).post(reverse("public_pool:claim_next", args=[pool.pk]))

    best.refresh_from_db()
    assert best.owner == rep
    assert response.url == reverse("customers:detail", args=[best.pk])
    assert Customer.objects.filter(owner=rep).count() == 1


def test_claim_next_best_in_an_empty_pool_says_so(as_user, rep, pool):
    response = as_user(rep).post(reverse("public_pool:claim_next", args=[pool.pk]), follow=True)

    assert "no lead in this pool" in response.content.decode()
    assert not Customer.objects.filter(owner=rep).exists()


# --- my customers, release, extension ----------------------------------------------------------


def test_my_customers_lists_the_soonest_deadline_first_with_badges(as_user, rep, other_rep, pool):
    later = _due_in(owned(rep, pool, name="Later"), 20)
    overdue = _due_in(owned(rep, pool, name="Overdue"), -1)
    soon = _due_in(owned(rep, pool, name="Soon"), 2.5)
    _due_in(owned(other_rep, pool, name="Colleague's"), 1)

    response = as_user(rep).get(reverse("public_pool:mine"))

    assert [customer for customer, _ext in response.context["rows"]] == [overdue, soon, later]
    body = response.content.decode()
    assert "Overdue" in body
    assert "2 days left" in body
    assert "Colleague" not in body


def test_release_requires_a_reason_and_changes_nothing_without_one(as_user, rep, pool):
    customer = owned(rep, pool)
    events = PoolEvent.objects.count()

    response = as_user(rep).post(reverse("public_pool:release", args=[customer.pk]), {"note": "bye"}, **HX)

    customer.refresh_from_db()
    assert response.status_code == 422
    assert "Choose a reason" in response.content.decode()
    assert customer.owner == rep
    assert customer.pool is None
    assert PoolEvent.objects.count() == events


def test_release_with_a_reason_returns_the_customer_to_the_pool(as_user, rep, pool):
    customer = owned(rep, pool)
    reason = _reason()

    response = as_user(rep).post(
        reverse("public_pool:release", args=[customer.pk]), {"reason": reason.code, "note": "no budget"}, **HX
    )

    customer.refresh_from_db()
    # htmx is sent to the pool the customer went to (never back to its page, now a 404 for the rep)
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("public_pool:detail", args=[pool.pk])
    assert customer.owner is None
    assert customer.pool == pool
    event = PoolEvent.objects.get(customer=customer, kind=PoolEventKind.RELEASE)
    assert (event.reason, event.note) == (reason.code, "no budget")


def test_release_lands_on_the_pool_page_saying_where_the_customer_went(as_user, rep, pool):
    customer = owned(rep, pool, name="Hangzhou Tea Works")
    client = as_user(rep)
    detail = reverse("customers:detail", args=[customer.pk])

    # The customer page's dialog sends no "next" (or its own page, which must be ignored).
    response = client.post(
        reverse("public_pool:release", args=[customer.pk]),
        {"reason": _reason().code, "next": detail},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("public_pool:detail", args=[pool.pk])
    assert "Released to East leads: Hangzhou Tea Works." in response.content.decode()
    assert client.get(detail).status_code == 404


def test_release_from_days_left_goes_back_there(as_user, rep, pool):
    customer = owned(rep, pool)
    mine = reverse("public_pool:mine")

    response = as_user(rep).post(
        reverse("public_pool:release", args=[customer.pk]), {"reason": _reason().code, "next": mine}, **HX
    )

    assert response["HX-Redirect"] == mine


def test_release_refused_answers_the_services_message_in_the_dialog(as_user, rep, pool):
    customer = owned(rep, pool)
    assert ReleaseReason.objects.get(code="other").requires_note

    response = as_user(rep).post(
        reverse("public_pool:release", args=[customer.pk]), {"reason": "other"}, **HX
    )

    body = response.content.decode()
    assert response.status_code == 422
    assert body.startswith('<div class="release-box"')
    assert "This reason needs a short explanation." in body
    assert "is-invalid" in body
    customer.refresh_from_db()
    assert customer.owner == rep
    assert not PoolEvent.objects.filter(customer=customer).exists()


def _ask(client, customer, **data):
    prefix = f"extension-{customer.pk}-"
    return client.post(
        reverse("public_pool:request_extension", args=[customer.pk]),
        {prefix + name: value for name, value in data.items()} | {"dialog": "1"},
        **HX,
    )


def test_extension_is_requested_once_and_shows_pending(as_user, rep, pool):
    customer = _due_in(owned(rep, pool), 3)
    client = as_user(rep)

    first = _ask(client, customer, reason="Budget signed in May", days=7)
    second = _ask(client, customer, reason="Again", days=7)

    assert first.status_code == 200
    assert first["HX-Redirect"] == reverse("customers:detail", args=[customer.pk])
    assert second.status_code == 422
    assert "already requested" in second.content.decode()
    assert ExtensionRequest.objects.filter(customer=customer).count() == 1
    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "More time requested" in page
    assert "asked for 7 more days" in page
    assert "Budget signed in May" in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"reason": "   ", "days": 7}, "reason", "Say why you need more time."),
        ({"reason": "Budget", "days": 15}, "days", "Ask for 1 to 14 days."),
        ({"reason": "Budget", "days": 0}, "days", "Ask for 1 to 14 days."),
        ({"reason": "Budget", "days": "many"}, "days", "Enter a whole number."),
    ],
)
def test_a_bad_extension_request_shows_the_error_in_the_dialog_and_saves_nothing(
    as_user, rep, pool, data, field, message
):
    customer = _due_in(owned(rep, pool), 3)

    response = _ask(as_user(rep), customer, **data)

    assert response.status_code == 422
    body = response.content.decode()
    assert f'id="id_extension-{customer.pk}-{field}_errors"' in body
    assert message in body
    assert 'name="dialog"' in body  # still the dialog's form, swapped in place
    assert not ExtensionRequest.objects.exists()
    assert not PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_REQUEST).exists()


def test_the_extension_dialog_speaks_the_users_language(as_user, rep, pool):
    customer = _due_in(owned(rep, pool), 3)
    client = as_user(rep)
    client.cookies["django_language"] = "zh-hans"

    with translation.override("en"):  # the request switches the thread to Chinese; switch back after
        response = _ask(client, customer, reason="", days=99)

    body = response.content.decode()
    assert response.status_code == 422
    assert "请说明需要延期的原因。" in body
    assert "1 到 14 天" in body
    assert "Say why you need more time." not in body
    assert not ExtensionRequest.objects.exists()


def test_the_days_bound_is_the_pools_setting(as_user, rep, pool):
    pool.max_extension_days = 30
    pool.save(update_fields=["max_extension_days"])
    customer = _due_in(owned(rep, pool), 3)
    client = as_user(rep)

    page = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    refused = _ask(client, customer, reason="Long tender", days=31)
    accepted = _ask(client, customer, reason="Long tender", days=30)

    assert 'max="30"' in page
    assert "Ask for 1 to 30 days." in refused.content.decode()
    assert accepted.status_code == 200
    assert ExtensionRequest.objects.get().days == 30


def test_without_javascript_the_extension_form_is_a_page_of_its_own(as_user, rep, pool):
    customer = _due_in(owned(rep, pool), 3)
    client = as_user(rep)
    url = reverse("public_pool:request_extension", args=[customer.pk])
    prefix = f"extension-{customer.pk}-"

    form_page = client.get(url)
    refused = client.post(url, {prefix + "reason": "", prefix + "days": "7"})
    sent = client.post(url, {prefix + "reason": "Tender", prefix + "days": "7"})

    assert form_page.status_code == 200
    assert refused.status_code == 422
    assert "Say why you need more time." in refused.content.decode()
    assert sent.status_code == 302
    assert sent["Location"] == reverse("customers:detail", args=[customer.pk])


# --- home, notifications -----------------------------------------------------------------------


def test_home_lists_customers_at_risk_soonest_first(as_user, rep, pool):
    _due_in(owned(rep, pool, name="Far away"), 30)
    _due_in(owned(rep, pool, name="Nearly gone"), 1)

    response = as_user(rep).get(reverse("home"))

    assert [c.name for c in response.context["at_risk"]] == ["Nearly gone", "Far away"]
    assert "Customers at risk of recycling" in response.content.decode()


def _notify(user, customer, n):
    for i in range(n):
        Notification.objects.create(
            user=user,
            kind="extension_decided",
            customer=customer,
            params={"customer": customer.name, "days": i + 1, "approved": True},
        )


def test_notification_badge_shows_the_unread_count_in_one_query(as_user, rep, pool):
    customer = owned(rep, pool)
    client = as_user(rep)
    _notify(rep, customer, 1)
    client.get(reverse("public_pool:list"))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("public_pool:list"))
    _notify(rep, customer, 6)
    Notification.objects.filter(pk=Notification.objects.order_by("id").first().pk).update(
        read_at=timezone.now()
    )

    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("public_pool:list"))

    assert (
        '<span class="badge rounded-pill text-bg-danger" id="notification-badge">6'
        in response.content.decode()
    )
    assert len(one) == len(many)
    assert sum('"public_pool_notification"' in q["sql"] for q in many.captured_queries) == 1


def test_htmx_fragments_do_not_count_notifications(as_user, rep, pool):
    lead = pooled(pool)
    client = as_user(rep)

    with CaptureQueriesContext(connection) as queries:
        client.post(reverse("public_pool:claim", args=[lead.pk]), **HX)

    assert not any('"public_pool_notification"' in q["sql"] for q in queries.captured_queries)


def test_notifications_page_lists_and_marks_read(as_user, rep, other_rep, pool):
    customer = owned(rep, pool)
    _notify(rep, customer, 2)
    _notify(other_rep, customer, 1)
    client = as_user(rep)

    page = client.get(reverse("public_pool:notifications"))
    client.post(reverse("public_pool:mark_read"))

    assert len(page.context["page"].object_list) == 2
    assert not Notification.objects.filter(user=rep, read_at__isnull=True).exists()
    assert Notification.objects.filter(user=other_rep, read_at__isnull=True).count() == 1


# --- duplicate detection on create -------------------------------------------------------------


def _create(client, **data):
    return client.post(reverse("customers:create"), {"source": "website", "level": "B", **data})


def test_creating_a_customer_that_sits_in_a_pool_offers_to_claim_it(as_user, rep, pool):
    lead = pooled(pool, name="Acme Trading Ltd")
    before = Customer.objects.count()

    response = _create(as_user(rep), name="ACME Trading Limited")

    body = response.content.decode()
    assert Customer.objects.count() == before
    assert pool.name in body
    assert reverse("public_pool:claim", args=[lead.pk]) in body


def test_creating_a_customer_in_a_pool_the_user_may_not_use_offers_no_claim(as_user, rep, other_pool):
    lead = pooled(other_pool, name="Acme Trading Ltd")

    body = _create(as_user(rep), name="Acme Trading").content.decode()

    assert "already exists" in body
    assert reverse("public_pool:claim", args=[lead.pk]) not in body


def test_creating_a_colleagues_customer_names_only_the_owner(as_user, rep, other_team_rep):
    other_team_rep.first_name, other_team_rep.last_name = "Wang", "Fang"
    other_team_rep.save()
    existing = CustomerFactory(owner=other_team_rep, name="Secret Client Co", phone="13900001111")
    before = Customer.objects.count()

    body = _create(as_user(rep), name="Another Name", phone="139-0000-1111").content.decode()

    assert Customer.objects.count() == before
    assert "Wang Fang" in body
    assert "Secret Client" not in body
    assert reverse("customers:detail", args=[existing.pk]) not in body


def test_creating_a_new_customer_without_a_duplicate_creates_it(as_user, rep):
    CustomerFactory(name="Somebody Else", phone="13900002222", email="x@else.example")

    response = _create(as_user(rep), name="Brand New Co", phone="13900003333", email="new@brand.example")

    assert response.status_code == 302
    assert Customer.objects.filter(name="Brand New Co", owner=rep).exists()


def test_api_create_of_a_duplicate_answers_409_with_where(token_client, rep, pool):
    pooled(pool, email="hello@acme.example")
    before = Customer.objects.count()

    response = token_client(rep).post(
        "/api/customers/", {"name": "Fresh Name", "email": "HELLO@acme.example"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate"
    assert pool.name in response.json()["fields"]["email"][0]
    assert Customer.objects.count() == before


# --- pool history ------------------------------------------------------------------------------


def test_new_owner_sees_the_whole_pool_history_with_release_reason_and_rule(as_user, rep, other_rep, pool):
    customer = owned(other_rep, pool)
    reason = _reason()
    services.release_customer(
        actor=other_rep, customer_id=customer.pk, reason=reason.code, note="call in May"
    )
    rule = RecycleRuleFactory(pool=pool, name="Thirty quiet days")
    PoolEvent.objects.create(
        customer=customer, kind=PoolEventKind.RECYCLE, from_pool=pool, to_pool=pool, rule=rule
    )
    services.claim_customer(rep=rep, customer_id=customer.pk)
    client = as_user(rep)

    detail = client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    events = client.get(reverse("public_pool:customer_events", args=[customer.pk])).content.decode()

    for body in (detail, events):
        assert reason.label in body
        assert "call in May" in body
        assert "Thirty quiet days" in body
        assert str(other_rep) in body


def test_pool_history_page_is_404_for_who_may_not_see_the_customer(as_user, rep, other_team_rep, pool):
    customer = owned(rep, pool)

    response = as_user(other_team_rep).get(reverse("public_pool:customer_events", args=[customer.pk]))

    assert response.status_code == 404


def test_my_customers_query_count_does_not_grow_with_the_customers(as_user, rep, pool):
    client = as_user(rep)
    _due_in(owned(rep, pool), 5)
    client.get(reverse("public_pool:mine"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("public_pool:mine"))
    for days in range(30):
        customer = _due_in(owned(rep, pool), days)
        if days % 3 == 0:
            services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("public_pool:mine"))

    assert len(response.context["rows"]) == 25
    assert len(few) == len(many)


def test_release_without_javascript_and_without_reason_says_why_and_changes_nothing(as_user, rep, pool):
    customer = owned(rep, pool)

    response = as_user(rep).post(reverse("public_pool:release", args=[customer.pk]), follow=True)

    customer.refresh_from_db()
    assert customer.owner == rep
    assert "Choose a reason" in response.content.decode()
    assert not PoolEvent.objects.filter(customer=customer, kind=PoolEventKind.RELEASE).exists()


def test_anonymous_pages_do_not_count_notifications(client, db):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("login"))

    assert response.status_code == 200
    assert not any('"public_pool_notification"' in q["sql"] for q in queries.captured_queries)


def test_a_rep_cannot_release_a_colleagues_customer(as_user, rep, other_rep, pool):
    customer = owned(other_rep, pool)

    response = as_user(rep).post(
        reverse("public_pool:release", args=[customer.pk]), {"reason": _reason().code}, **HX
    )

    customer.refresh_from_db()
    assert response.status_code == 404
    assert customer.owner == other_rep
