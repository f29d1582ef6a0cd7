"""The customer REST API: wiring, status codes, who may call, error shape, query counts.

The rules themselves are covered by the service and selector tests; here we check that every
endpoint goes through them and answers as API.md says.
"""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory, force_authenticate

from customers.api import CustomerListCreateApi
from customers.models import (
    Customer,
    DealStage,
    FollowUp,
    FollowUpKind,
    Industry,
    Level,
    Source,
    Tag,
)
from customers.normalization import normalize_company_name
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, PoolFactory

pytestmark = pytest.mark.django_db

LIST_URL = "/api/customers/"
FIXED_CUSTOMER_FIELDS = {"id", "name", "owner", "pool", "phone", "email", "level", "last_followup_at"}


def detail_url(customer):
    return f"/api/customers/{customer.pk}/"


def followups_url(customer):
    return f"/api/customers/{customer.pk}/follow-ups/"


def listed_ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def snapshot(customer):
    """The stored state of a customer, to show a refused request changed nothing."""
    customer = Customer.objects.get(pk=customer.pk)
    values = {field.attname: getattr(customer, field.attname) for field in Customer._meta.concrete_fields}
    values["tags"] = sorted(customer.tags.values_list("name", flat=True))
    return values


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    return body


# --- Signing in -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "role", "team_name"),
    [
        ("rep", "rep", "East"),
        ("manager", "manager", "East"),
        ("other_team_rep", "rep", "West"),
        ("admin_user", "admin", None),
    ],
)
def test_token_flow_then_me_answers_who_is_calling(request, api_client, actor, role, team_name):
    user = request.getfixturevalue(actor)

    response = api_client.post(
        "/api/auth/token/", {"username": user.username, "password": "pw"}, format="json"
    )
    assert response.status_code == 200, response.content
    key = response.json()["token"]
    assert Token.objects.get(user=user).key == key

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api_client.get("/api/me/")

    assert me.status_code == 200
    body = me.json()
    assert (body["id"], body["username"], body["role"]) == (user.pk, user.username, role)
    assert body["team"] == user.team_id
    assert body["team_name"] == team_name


def test_asking_twice_gives_the_same_token(api_client, rep):
    credentials = {"username": rep.username, "password": "pw"}

    first = api_client.post("/api/auth/token/", credentials, format="json").json()["token"]
    second = api_client.post("/api/auth/token/", credentials, format="json").json()["token"]

    assert first == second
    assert Token.objects.filter(user=rep).count() == 1


def test_wrong_password_gets_400_and_no_token(api_client, rep):
    response = api_client.post(
        "/api/auth/token/", {"username": rep.username, "password": "nope"}, format="json"
    )

    assert_error(response, 400, "invalid_credentials")
    assert not Token.objects.exists()


def test_inactive_user_gets_no_token(api_client, rep):
    rep.is_active = False
    rep.save(update_fields=["is_active"])

    response = api_client.post(
        "/api/auth/token/", {"username": rep.username, "password": "pw"}, format="json"
    )

    assert_error(response, 400, "invalid_credentials")
    assert not Token.objects.exists()


def test_token_request_without_fields_lists_them(api_client):
    response = api_client.post("/api/auth/token/", {}, format="json")

    body = assert_error(response, 400, "invalid")
    assert set(body["fields"]) == {"username", "password"}


def test_session_sign_in_works_for_the_api(api_client, rep):
    assert api_client.login(username=rep.username, password="pw")

    response = api_client.get("/api/me/")

    assert response.status_code == 200
    assert response.json()["id"] == rep.pk


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/me/"),
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", "/api/customers/{id}/"),
        ("patch", "/api/customers/{id}/"),
        ("get", "/api/customers/{id}/follow-ups/"),
        ("post", "/api/customers/{id}/follow-ups/"),
    ],
)
def test_anonymous_callers_are_refused_with_our_error_shape(api_client, rep, method, path):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = getattr(api_client, method)(
        path.format(id=customer.pk), {"name": "Changed", "kind": "call"}, format="json"
    )

    assert response.status_code in (401, 403)
    assert set(response.json()) == {"code", "detail"}
    assert response.json()["code"] == "not_authenticated"
    assert snapshot(customer) == before
    assert Customer.objects.count() == 1
    assert not FollowUp.objects.exists()


def test_unknown_token_is_refused(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-key")

    response = api_client.get("/api/me/")

    assert response.status_code in (401, 403)
    assert response.json()["code"] == "authentication_failed"


# --- List: visibility, filters, pagination ----------------------------------------------------


def test_rep_lists_only_their_own_customers(token_client, rep, other_rep, other_team_rep):
    mine = CustomerFactory(owner=rep)
    CustomerFactory(owner=other_rep)
    CustomerFactory(owner=other_team_rep)
    CustomerFactory(pooled=True)

    assert listed_ids(token_client(rep).get(LIST_URL)) == {mine.pk}


def test_manager_lists_the_team_but_not_other_teams(token_client, manager, rep, other_rep, other_team_rep):
    team_customers = {CustomerFactory(owner=owner).pk for owner in (rep, other_rep, manager)}
    CustomerFactory(owner=other_team_rep)

    assert listed_ids(token_client(manager).get(LIST_URL)) == team_customers


def test_admin_lists_every_owned_customer(token_client, admin_user, rep, other_team_rep):
    everyone = {CustomerFactory(owner=rep).pk, CustomerFactory(owner=other_team_rep).pk}

    assert listed_ids(token_client(admin_user).get(LIST_URL)) == everyone


def test_list_is_paginated_with_the_fixed_field_names(token_client, rep):
    customer = CustomerFactory(owner=rep, name="上海星辰科技有限公司", level=Level.A)
    customer.tags.add(Tag.objects.create(name="vip"), Tag.objects.create(name="east"))
    CustomerFactory.create_batch(2, owner=rep)

    client = token_client(rep)

    body = client.get(LIST_URL, {"page_size": 2}).json()

    assert set(body) == {"count", "count_is_estimate", "next", "previous", "results"}
    assert body["count"] == 3
    assert body["count_is_estimate"] is False
    assert len(body["results"]) == 2
    assert body["next"] is not None
    assert body["previous"] is None
    second_page = client.get(body["next"]).json()
    assert second_page["previous"] is not None
    rows = body["results"] + second_page["results"]
    assert len({r["id"] for r in rows}) == 3
    row = next(r for r in rows if r["id"] == customer.pk)
    assert set(row) >= FIXED_CUSTOMER_FIELDS
    assert row["owner"] == rep.pk
    assert row["pool"] is None
    assert row["name"] == "上海星辰科技有限公司"
    assert row["phone"] == customer.phone
    assert row["level"] == "A"
    assert row["tags"] == ["east", "vip"]
    assert row["team"] == rep.team_id


def test_owner_me_lists_the_callers_own_customers(token_client, manager, rep):
    own = CustomerFactory(owner=manager)
    CustomerFactory(owner=rep)

    assert listed_ids(token_client(manager).get(LIST_URL, {"owner": "me"})) == {own.pk}


def test_owner_id_filter_stays_within_what_the_caller_sees(token_client, manager, rep, other_team_rep):
    reps_customer = CustomerFactory(owner=rep)
    CustomerFactory(owner=manager)
    CustomerFactory(owner=other_team_rep)
    client = token_client(manager)

    assert listed_ids(client.get(LIST_URL, {"owner": rep.pk})) == {reps_customer.pk}
    assert listed_ids(client.get(LIST_URL, {"owner": other_team_rep.pk})) == set()


@pytest.mark.parametrize(
    ("param", "value", "match", "other"),
    [
        ("level", "A", {"level": Level.A}, {"level": Level.C}),
        ("source", "referral", {"source": Source.REFERRAL}, {"source": Source.WEBSITE}),
        ("industry", "finance", {"industry": Industry.FINANCE}, {"industry": Industry.RETAIL}),
        ("search", "星辰", {"name": "上海星辰科技有限公司"}, {"name": "Beijing Other Co"}),
        ("search", "hello@star.cn", {"email": "hello@star.cn"}, {"email": "hi@moon.cn"}),
        ("search", "138 1234 5678", {"phone": "13812345678"}, {"phone": "13900000000"}),
    ],
)
def test_each_filter_narrows_the_list(token_client, admin_user, rep, param, value, match, other):
    hit = CustomerFactory(owner=rep, **match)
    CustomerFactory(owner=rep, **other)

    assert listed_ids(token_client(admin_user).get(LIST_URL, {param: value})) == {hit.pk}


def test_team_filter(token_client, admin_user, rep, other_team_rep):
    east = CustomerFactory(owner=rep)
    CustomerFactory(owner=other_team_rep)

    assert listed_ids(token_client(admin_user).get(LIST_URL, {"team": rep.team_id})) == {east.pk}


def test_stage_filter_lists_customers_with_a_deal_at_that_stage(token_client, rep):
    hit = DealFactory(customer__owner=rep, stage=DealStage.PROPOSAL).customer
    DealFactory(customer__owner=rep, won=True)
    CustomerFactory(owner=rep)

    assert listed_ids(token_client(rep).get(LIST_URL, {"stage": "proposal"})) == {hit.pk}


def test_ordering_by_name(token_client, rep):
    for name in ("Charlie Co", "Alpha Co", "Bravo Co"):
        CustomerFactory(owner=rep, name=name)

    rows = token_client(rep).get(LIST_URL, {"ordering": "name"}).json()["results"]

    assert [row["name"] for row in rows] == ["Alpha Co", "Bravo Co", "Charlie Co"]


def test_invalid_filters_answer_400_with_fields(token_client, rep):
    CustomerFactory(owner=rep)
    params = {"owner": "bob", "team": "east", "level": "Z", "stage": "nope", "ordering": "password"}

    body = assert_error(token_client(rep).get(LIST_URL, params), 400, "invalid")

    assert set(body["fields"]) == set(params)


def _bulk_customers(owner, count, *, tags=()):
    now = timezone.now()
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"Bulk {owner.username} {i}",
            name_normalized=normalize_company_name(f"Bulk {owner.username} {i}"),
            phone=f"137{owner.pk:03d}{i:05d}",
            owner=owner,
            team_id=owner.team_id,
            created_at=now,
            updated_at=now,
            claimed_at=now,
        )
        for i in range(count)
    )
    through = Customer.tags.through
    through.objects.bulk_create(
        through(customer_id=customer.pk, tag_id=tag.pk) for customer in customers for tag in tags
    )
    return customers


def test_page_size_above_200_is_capped(token_client, rep):
    _bulk_customers(rep, 201)

    body = token_client(rep).get(LIST_URL, {"page_size": 500}).json()

    assert body["count"] == 201
    assert len(body["results"]) == 200
    assert body["next"] is not None


@pytest.mark.parametrize("actor", ["rep", "manager", "admin_user"])
def test_list_runs_the_same_few_queries_for_any_page_size(request, token_client, rep, other_rep, actor):
    tags = [Tag.objects.create(name=name) for name in ("vip", "east", "renewal")]
    _bulk_customers(rep, 110, tags=tags)
    _bulk_customers(other_rep, 10, tags=tags[:1])
    client = token_client(request.getfixturevalue(actor))

    counts = {}
    for page_size in (5, 100):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST_URL, {"page_size": page_size, "ordering": "name"})
        assert len(response.json()["results"]) == page_size
        assert all(row["tags"] and row["owner_name"] for row in response.json()["results"])
        counts[page_size] = len(queries)

    assert counts[5] == counts[100]
    assert counts[100] <= 8


# --- Create -----------------------------------------------------------------------------------


def test_rep_creates_a_customer_they_own(token_client, rep):
    payload = {
        "name": "  Acme Trading Ltd ",
        "phone": "+86 138-0000-0000",
        "email": "Info@Acme.example",
        "industry": "retail",
        "level": "B",
        "tags": ["vip", "east"],
    }

    response = token_client(rep).post(LIST_URL, payload, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    customer = Customer.objects.get()
    assert body["id"] == customer.pk
    assert (body["owner"], body["team"], body["pool"]) == (rep.pk, rep.team_id, None)
    assert (customer.owner, customer.created_by) == (rep, rep)
    assert (body["name"], body["phone"], body["email"]) == (
        "Acme Trading Ltd",
        "+8613800000000",
        "info@acme.example",
    )
    assert body["tags"] == ["east", "vip"]
    assert body["source"] == Source.OTHER  # the service's default for what was left out


def test_manager_creates_a_customer_for_a_team_member(token_client, manager, rep):
    response = token_client(manager).post(LIST_URL, {"name": "Acme", "owner": rep.pk}, format="json")

    assert response.status_code == 201, response.content
    assert Customer.objects.get().owner == rep


def test_rep_cannot_create_a_customer_for_a_colleague(token_client, rep, other_rep):
    response = token_client(rep).post(LIST_URL, {"name": "Acme", "owner": other_rep.pk}, format="json")

    assert_error(response, 403, "permission_denied")
    assert not Customer.objects.exists()


def test_the_base_customers_view_refuses_to_create_into_a_pool(admin_user):
    """``customers`` alone cannot create into a pool (that belongs to ``public_pool``, which
    routes its own subclass at /api/customers/); the base view says so and saves nothing."""
    pool = PoolFactory()
    request = APIRequestFactory().post(LIST_URL, {"name": "Acme", "pool": pool.pk}, format="json")
    force_authenticate(request, user=admin_user)

    response = CustomerListCreateApi.as_view()(request)
    response.render()

    assert response.status_code == 400, response.content
    assert response.data["code"] == "pool_not_supported"
    assert "pool" in response.data["fields"]
    assert not Customer.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Acme", "email": "not-an-email"}, "email"),
        ({"name": "Acme", "level": "Z"}, "level"),
        ({"name": "Acme", "industry": "piracy"}, "industry"),
        ({"name": "Acme", "phone": "call me"}, "phone"),
        ({"name": "Acme", "website": "not a url"}, "website"),
        ({"name": "Acme", "owner": 999_999}, "owner"),
        ({"name": "x" * 201}, "name"),
    ],
)
def test_bad_create_payload_is_rejected_with_fields_and_nothing_saved(token_client, manager, payload, field):
    response = token_client(manager).post(LIST_URL, payload, format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["fields"]
    assert all(isinstance(message, str) for message in body["fields"][field])
    assert not Customer.objects.exists()
    assert not Tag.objects.exists()


def test_validation_errors_follow_accept_language(token_client, rep):
    client = token_client(rep)

    english = client.post(LIST_URL, {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    chinese = client.post(LIST_URL, {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert english.json()["fields"]["name"] == ["This field is required."]
    # DRF ships this message in Chinese; our own ``detail`` follows once locale/ has the catalogue.
    assert chinese.json()["fields"]["name"] == ["该字段是必填项。"]
    for response in (english, chinese):
        body = assert_error(response, 400, "invalid")
        assert set(body) == {"code", "detail", "fields"}
    assert not Customer.objects.exists()


# --- Detail and PATCH -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["rep", "manager", "admin_user"])
def test_owner_their_manager_and_admins_read_a_customer(request, token_client, rep, actor):
    customer = CustomerFactory(owner=rep)

    response = token_client(request.getfixturevalue(actor)).get(detail_url(customer))

    assert response.status_code == 200
    assert response.json()["id"] == customer.pk
    assert set(response.json()) >= FIXED_CUSTOMER_FIELDS


@pytest.mark.parametrize("actor", ["other_rep", "other_team_rep"])
def test_a_customer_the_caller_may_not_see_is_404(request, token_client, rep, actor):
    customer = CustomerFactory(owner=rep)

    response = token_client(request.getfixturevalue(actor)).get(detail_url(customer))

    assert_error(response, 404, "not_found")


def test_other_teams_manager_gets_404(token_client, rep, other_team_rep):
    customer = CustomerFactory(owner=rep)
    west_manager = other_team_rep.team.manager

    assert_error(token_client(west_manager).get(detail_url(customer)), 404, "not_found")


def test_pooled_customer_is_404_here(token_client, admin_user, rep):
    pooled = CustomerFactory(pooled=True)

    assert_error(token_client(rep).get(detail_url(pooled)), 404, "not_found")


def test_patch_changes_only_the_fields_sent(token_client, rep):
    customer = CustomerFactory(owner=rep, industry=Industry.FINANCE, region="Shanghai", note="Keep")
    customer.tags.add(Tag.objects.create(name="vip"))
    before = snapshot(customer)

    response = token_client(rep).patch(
        detail_url(customer), {"level": "A", "region": "Suzhou"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["level"], response.json()["region"]) == ("A", "Suzhou")
    after = snapshot(customer)
    assert (after["level"], after["region"]) == ("A", "Suzhou")
    # The other details and the ownership stay as they were (bookkeeping such as the recycle
    # deadline is the services' business and may move).
    kept = {"name", "industry", "size", "address", "website", "phone", "email", "source", "campaign_id"}
    kept |= {"is_protected", "note", "tags", "owner_id", "team_id", "pool_id", "created_at"}
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}
    assert after["updated_at"] > before["updated_at"]


def test_patch_replaces_tags(token_client, manager, rep):
    customer = CustomerFactory(owner=rep)
    customer.tags.add(Tag.objects.create(name="old"))

    response = token_client(manager).patch(detail_url(customer), {"tags": ["new", "hot"]}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["tags"] == ["hot", "new"]
    assert sorted(customer.tags.values_list("name", flat=True)) == ["hot", "new"]


@pytest.mark.parametrize("actor", ["other_rep", "other_team_rep"])
def test_patch_on_a_customer_the_caller_may_not_see_is_404_and_changes_nothing(
    request, token_client, rep, actor
):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = token_client(request.getfixturevalue(actor)).patch(
        detail_url(customer), {"name": "Hijacked", "email": "bad"}, format="json"
    )

    assert_error(response, 404, "not_found")
    assert snapshot(customer) == before


@pytest.mark.parametrize("field", ["owner", "pool"])
def test_patch_cannot_change_ownership(token_client, manager, rep, other_rep, field):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = token_client(manager).patch(
        detail_url(customer), {field: other_rep.pk, "name": "Renamed"}, format="json"
    )

    body = assert_error(response, 400, "invalid")
    assert field in body["fields"]
    assert snapshot(customer) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": ""}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"level": "Z"}, "level"),
        ({"source": "pigeon"}, "source"),
        ({"tags": "vip"}, "tags"),
    ],
)
def test_bad_patch_payload_is_rejected_with_fields_and_nothing_saved(token_client, rep, payload, field):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = token_client(rep).patch(detail_url(customer), payload, format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["fields"]
    assert snapshot(customer) == before


def test_put_is_not_offered(token_client, rep):
    customer = CustomerFactory(owner=rep)

    assert_error(
        token_client(rep).put(detail_url(customer), {"name": "X"}, format="json"), 405, "method_not_allowed"
    )


# --- Follow-ups -------------------------------------------------------------------------------


def test_owner_logs_a_follow_up(token_client, rep):
    customer = CustomerFactory(owner=rep)

    response = token_client(rep).post(
        followups_url(customer), {"kind": "call", "note": "Asked for a quote"}, format="json"
    )

    assert response.status_code == 201, response.content
    followup = FollowUp.objects.get()
    body = response.json()
    assert (body["id"], body["customer"], body["kind"], body["by"]) == (
        followup.pk,
        customer.pk,
        "call",
        rep.pk,
    )
    assert followup.note == "Asked for a quote"
    customer.refresh_from_db()
    assert customer.last_followup_at == followup.at


def test_follow_up_can_be_back_dated(token_client, rep):
    customer = CustomerFactory(owner=rep)
    at = timezone.now() - timedelta(days=2)

    response = token_client(rep).post(
        followups_url(customer), {"kind": "visit", "note": "Visited", "at": at.isoformat()}, format="json"
    )

    assert response.status_code == 201, response.content
    assert FollowUp.objects.get().at == at


def test_manager_logs_a_follow_up_for_a_team_members_customer(token_client, manager, rep):
    customer = CustomerFactory(owner=rep)

    response = token_client(manager).post(
        followups_url(customer), {"kind": "meeting", "note": "Met"}, format="json"
    )

    assert response.status_code == 201, response.content
    assert FollowUp.objects.get().by == manager


@pytest.mark.parametrize("actor", ["other_rep", "other_team_rep"])
def test_follow_up_on_a_customer_the_caller_may_not_see_is_404(request, token_client, rep, actor):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)
    client = token_client(request.getfixturevalue(actor))

    assert_error(client.post(followups_url(customer), {"kind": "call"}, format="json"), 404, "not_found")
    assert_error(client.get(followups_url(customer)), 404, "not_found")
    assert not FollowUp.objects.exists()
    assert snapshot(customer) == before


def test_visible_customer_the_service_refuses_is_403(token_client, manager, team, other_team_rep):
    # Still filed under the manager's team, but its owner has moved to another team: the manager
    # sees it (visibility follows the row's team) yet may not work on it (the service asks
    # whether they manage the owner).
    customer = CustomerFactory(owner=other_team_rep, team=team)
    before = snapshot(customer)

    response = token_client(manager).post(
        followups_url(customer), {"kind": "call", "note": "Hi"}, format="json"
    )

    assert_error(response, 403, "permission_denied")
    assert not FollowUp.objects.exists()
    assert snapshot(customer) == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "kind"),
        ({"kind": "telepathy"}, "kind"),
        ({"kind": "call", "at": "yesterday-ish"}, "at"),
        ({"kind": "call", "note": "Hi", "at": (timezone.now() + timedelta(days=1)).isoformat()}, "at"),
    ],
)
def test_bad_follow_up_is_rejected_with_fields_and_nothing_saved(token_client, rep, payload, field):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = token_client(rep).post(followups_url(customer), payload, format="json")

    body = assert_error(response, 400, "invalid")
    assert field in body["fields"]
    assert not FollowUp.objects.exists()
    assert snapshot(customer) == before


def test_future_follow_up_error_has_the_same_shape_in_chinese(token_client, rep):
    customer = CustomerFactory(owner=rep)
    future = (timezone.now() + timedelta(days=1)).isoformat()

    response = token_client(rep).post(
        followups_url(customer),
        {"kind": "call", "note": "Hi", "at": future},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    body = assert_error(response, 400, "invalid")
    assert set(body) == {"code", "detail", "fields"}
    assert isinstance(body["fields"]["at"], list)
    assert body["fields"]["at"][0]
    assert not FollowUp.objects.exists()


RFC_3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"kind": "call"}, "Write what happened: the note cannot be empty."),
        ({"kind": "call", "note": ""}, "Write what happened: the note cannot be empty."),
        ({"kind": "call", "note": "  \n\t "}, "Write what happened: the note cannot be empty."),
    ],
)
def test_a_blank_note_is_400_with_a_field_error(token_client, rep, payload, message):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = token_client(rep).post(followups_url(customer), payload, format="json")

    body = assert_error(response, 400, "invalid")
    assert set(body) == {"code", "detail", "fields"}
    assert body["fields"] == {"note": [message]}
    assert not FollowUp.objects.exists()
    assert snapshot(customer) == before


@pytest.mark.parametrize(
    "at",
    [
        "1999-12-31T23:59:59+08:00",
        "1970-01-01T00:00:00Z",
        "0001-01-01T00:00:00Z",
        "0001-01-01T00:00:00",
        "0001-01-01T00:00:00+14:00",
        "9999-12-31T23:59:59Z",
        "9999-12-31T23:59:59-12:00",
    ],
)
def test_at_out_of_range_is_400_never_500(token_client, rep, at):
    customer = CustomerFactory(owner=rep)
    before = snapshot(customer)

    response = token_client(rep).post(
        followups_url(customer), {"kind": "call", "note": "Hi", "at": at}, format="json"
    )

    body = assert_error(response, 400, "invalid")
    assert list(body["fields"]) == ["at"]
    assert not FollowUp.objects.exists()
    assert snapshot(customer) == before


def test_the_earliest_at_is_the_first_of_january_2000_in_the_company_time_zone(token_client, rep):
    customer = CustomerFactory(owner=rep)

    response = token_client(rep).post(
        followups_url(customer),
        {"kind": "call", "note": "Y2K", "at": "2000-01-01T00:00:00+08:00"},
        format="json",
    )

    assert response.status_code == 201, response.content


def test_before_2000_is_refused_in_the_callers_language(token_client, rep):
    customer = CustomerFactory(owner=rep)

    response = token_client(rep).post(
        followups_url(customer),
        {"kind": "call", "note": " ", "at": "1999-01-01T00:00:00Z"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    body = assert_error(response, 400, "invalid")
    assert body["fields"] == {"note": ["请写下跟进内容：备注不能为空。"]}
    response = token_client(rep).post(
        followups_url(customer),
        {"kind": "call", "note": "Hi", "at": "1999-01-01T00:00:00Z"},
        format="json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert assert_error(response, 400, "invalid")["fields"] == {
        "at": ["跟进时间不能早于 2000 年 1 月 1 日。"]
    }


def test_follow_up_times_are_answered_in_rfc_3339(token_client, rep):
    customer = CustomerFactory(owner=rep)
    client = token_client(rep)

    created = client.post(
        followups_url(customer), {"kind": "call", "note": "Hi", "at": "2024-03-01T01:30:00Z"}, format="json"
    ).json()
    listed = client.get(followups_url(customer)).json()["results"][0]

    assert created["at"] == "2024-03-01T09:30:00+08:00"
    for row in (created, listed):
        assert RFC_3339.match(row["at"]), row["at"]
        assert RFC_3339.match(row["created_at"]), row["created_at"]


def test_follow_ups_are_listed_newest_first_and_paginated(token_client, rep):
    customer = CustomerFactory(owner=rep)
    now = timezone.now()
    _oldest, newest, middle = (
        FollowUpFactory(customer=customer, at=now - timedelta(days=days), kind=FollowUpKind.CALL)
        for days in (3, 1, 2)
    )
    FollowUpFactory(customer=CustomerFactory(owner=rep))  # another customer's

    body = token_client(rep).get(followups_url(customer), {"page_size": 2}).json()

    assert body["count"] == 3
    assert [row["id"] for row in body["results"]] == [newest.pk, middle.pk]
    assert body["next"] is not None
    assert body["results"][0]["by"] == rep.pk


def test_follow_up_list_runs_the_same_queries_for_any_page_size(token_client, rep):
    customer = CustomerFactory(owner=rep)
    FollowUpFactory.create_batch(30, customer=customer)
    client = token_client(rep)

    counts = []
    for page_size in (2, 30):
        with CaptureQueriesContext(connection) as queries:
            assert (
                len(client.get(followups_url(customer), {"page_size": page_size}).json()["results"])
                == page_size
            )
        counts.append(len(queries))

    assert counts[0] == counts[1]


def test_team_filter_cannot_widen_what_a_manager_sees(token_client, manager, other_team_rep):
    CustomerFactory(owner=other_team_rep)

    assert listed_ids(token_client(manager).get(LIST_URL, {"team": other_team_rep.team_id})) == set()
