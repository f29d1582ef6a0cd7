"""The public pool's REST API: wiring, status codes, error codes, who may call, masking, query counts.

The rules are covered by the service and selector tests; here each endpoint is checked to go
through them and answer as API.md says. Refused calls assert that nothing changed.
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Customer, User
from public_pool import services
from public_pool.models import (
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    Pool,
    PoolEvent,
    PoolEventKind,
    RecycleRule,
    ReleaseReason,
)
from tests.factories import PoolFactory, RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db

FIXED_EVENT_FIELDS = {"id", "customer", "kind", "actor", "from_owner", "to_owner", "reason", "rule", "at"}
FIXED_RULE_FIELDS = {"id", "pool", "name", "enabled", "no_followup_days", "no_deal_days", "warn_days"}
FIXED_CUSTOMER_FIELDS = {"id", "name", "owner", "pool", "phone", "email", "level", "last_followup_at"}
# What claim, claim next, release and assign answer (API.md, "Ownership changes answer slim").
SLIM_OWNERSHIP_FIELDS = {"id", "name", "owner", "team", "pool", "home_pool", "claimed_at", "recycle_due_at"}


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]


def state(customer):
    """What ownership looks like now, plus how many events the customer has."""
    row = Customer.objects.values("owner_id", "pool_id", "home_pool_id", "claimed_at").get(pk=customer.pk)
    return row, PoolEvent.objects.filter(customer_id=customer.pk).count()


@pytest.fixture
def reason(db):
    return ReleaseReason.objects.create(code="api-no-need", label="No need", label_zh="没有需求")


# --- Claim ------------------------------------------------------------------------------------


def test_claim_gives_the_lead_to_the_rep_with_one_event(rep, pool):
    lead = pooled(pool)

    response = client_for(rep).post(f"/api/customers/{lead.pk}/claim/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) >= SLIM_OWNERSHIP_FIELDS
    assert (body["id"], body["owner"], body["pool"]) == (lead.pk, rep.pk, None)
    event = PoolEvent.objects.get(customer=lead)
    assert (event.kind, event.actor_id, event.to_owner_id, event.from_pool_id) == (
        "claim",
        rep.pk,
        rep.pk,
        pool.pk,
    )


def test_claim_of_a_taken_lead_is_409_already_claimed_and_changes_nothing(rep, other_rep, pool):
    lead = pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=lead.pk)
    before = state(lead)

    response = client_for(rep).post(f"/api/customers/{lead.pk}/claim/")

    assert_error(response, 409, "already_claimed")
    assert state(lead) == before


def test_claim_past_the_held_limit_is_409_limit_reached(rep, pool):
    Pool.objects.filter(pk=pool.pk).update(max_held_per_rep=1)
    owned(rep, pool)
    lead = pooled(pool)
    before = state(lead)

    response = client_for(rep).post(f"/api/customers/{lead.pk}/claim/")

    assert_error(response, 409, "limit_reached")
    assert state(lead) == before


def test_claim_past_the_daily_limit_is_409_daily_limit_reached(rep, pool):
    Pool.objects.filter(pk=pool.pk).update(max_claims_per_day=1)
    first, second = pooled(pool), pooled(pool)
    client = client_for(rep)
    assert client.post(f"/api/customers/{first.pk}/claim/").status_code == 200
    before = state(second)

    response = client.post(f"/api/customers/{second.pk}/claim/")

    assert_error(response, 409, "daily_limit_reached")
    assert state(second) == before


def test_claim_back_within_the_cooldown_is_409_cooldown(rep, pool, reason):
    Pool.objects.filter(pk=pool.pk).update(cooldown_days=7)
    customer = owned(rep, pool)
    services.release_customer(actor=rep, customer_id=customer.pk, reason=reason.code)
    before = state(customer)

    response = client_for(rep).post(f"/api/customers/{customer.pk}/claim/")

    assert_error(response, 409, "cooldown")
    assert state(customer) == before


def test_claim_from_a_pool_of_another_team_is_403_not_pool_member(other_team_rep, pool):
    lead = pooled(pool)
    before = state(lead)

    response = client_for(other_team_rep).post(f"/api/customers/{lead.pk}/claim/")

    assert_error(response, 403, "not_pool_member")
    assert state(lead) == before


def test_claim_of_an_unknown_customer_is_404(rep, pool):
    assert_error(client_for(rep).post("/api/customers/999999/claim/"), 404, "not_found")


def test_claim_needs_a_signed_in_user(pool):
    lead = pooled(pool)

    response = APIClient().post(f"/api/customers/{lead.pk}/claim/")

    assert response.status_code in (401, 403)
    assert Customer.objects.get(pk=lead.pk).owner_id is None


# --- Claim next -------------------------------------------------------------------------------


def test_claim_next_takes_the_highest_priority_lead(rep, pool):
    pooled(pool, priority_score=10)
    best = pooled(pool, priority_score=900)

    response = client_for(rep).post(f"/api/pools/{pool.pk}/claim-next/")

    assert response.status_code == 200, response.content
    assert response.json()["id"] == best.pk
    assert Customer.objects.get(pk=best.pk).owner_id == rep.pk


def test_claim_next_of_an_empty_pool_is_404_pool_empty(rep, pool):
    assert_error(client_for(rep).post(f"/api/pools/{pool.pk}/claim-next/"), 404, "pool_empty")


def test_claim_next_by_a_non_member_is_403_and_of_an_unknown_pool_404(other_team_rep, pool):
    lead = pooled(pool)
    client = client_for(other_team_rep)

    assert_error(client.post(f"/api/pools/{pool.pk}/claim-next/"), 403, "not_pool_member")
    assert_error(client.post("/api/pools/999999/claim-next/"), 404, "not_found")
    assert Customer.objects.get(pk=lead.pk).owner_id is None


# --- Release ----------------------------------------------------------------------------------


def test_release_sends_the_customer_back_with_its_reason(rep, pool, reason):
    customer = owned(rep, pool)

    response = client_for(rep).post(
        f"/api/customers/{customer.pk}/release/",
        {"reason": reason.code, "note": "moved abroad"},
        format="json",
    )

    assert response.status_code == 200, response.content
    assert (response.json()["owner"], response.json()["pool"]) == (None, pool.pk)
    event = PoolEvent.objects.get(customer=customer)
    assert (event.kind, event.reason, event.note, event.from_owner_id) == (
        "release",
        reason.code,
        "moved abroad",
        rep.pk,
    )


@pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": "no-such-reason"}])
def test_release_without_a_valid_reason_is_400_reason_required(rep, pool, reason, payload):
    customer = owned(rep, pool)
    before = state(customer)

    response = client_for(rep).post(f"/api/customers/{customer.pk}/release/", payload, format="json")

    assert_error(response, 400, "reason_required")
    assert state(customer) == before


def test_release_by_the_manager_is_allowed(manager, rep, pool, reason):
    customer = owned(rep, pool)

    response = client_for(manager).post(
        f"/api/customers/{customer.pk}/release/", {"reason": reason.code}, format="json"
    )

    assert response.status_code == 200, response.content
    assert PoolEvent.objects.get(customer=customer).actor_id == manager.pk


def test_release_of_a_colleagues_customer_is_404_and_changes_nothing(
    rep, other_rep, other_team_rep, pool, reason
):
    customer = owned(other_rep, pool)
    before = state(customer)

    for user in (rep, other_team_rep):
        response = client_for(user).post(
            f"/api/customers/{customer.pk}/release/", {"reason": reason.code}, format="json"
        )
        assert_error(response, 404, "not_found")
    assert state(customer) == before


# --- Assign, bulk assign, distribute ----------------------------------------------------------


def test_manager_assigns_a_lead_to_a_rep(manager, rep, pool):
    lead = pooled(pool)

    response = client_for(manager).post(f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["owner"] == rep.pk
    event = PoolEvent.objects.get(customer=lead)
    assert (event.kind, event.actor_id, event.to_owner_id, event.override) == (
        "assign",
        manager.pk,
        rep.pk,
        False,
    )


def test_assign_past_the_limit_is_409_unless_overridden_and_logged(manager, rep, pool):
    Pool.objects.filter(pk=pool.pk).update(max_held_per_rep=1)
    owned(rep, pool)
    lead = pooled(pool)
    client = client_for(manager)
    before = state(lead)

    refused = client.post(f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk}, format="json")
    assert_error(refused, 409, "limit_reached")
    assert state(lead) == before

    forced = client.post(
        f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk, "override": True}, format="json"
    )
    assert forced.status_code == 200, forced.content
    assert PoolEvent.objects.get(customer=lead).override is True


def test_assign_by_a_rep_is_403_and_by_another_team_404(rep, other_rep, other_team_rep, pool):
    lead = pooled(pool)
    before = state(lead)

    assert_error(
        client_for(rep).post(f"/api/customers/{lead.pk}/assign/", {"rep": other_rep.pk}, format="json"),
        403,
        "permission_denied",
    )
    west_manager = other_team_rep.team.manager
    assert_error(
        client_for(west_manager).post(f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk}, format="json"),
        404,
        "not_found",
    )
    assert state(lead) == before


def test_assign_to_an_unknown_rep_is_400_with_fields(manager, pool):
    lead = pooled(pool)

    response = client_for(manager).post(f"/api/customers/{lead.pk}/assign/", {"rep": 999999}, format="json")

    assert_error(response, 400, "invalid")
    assert "rep" in response.json()["fields"]
    assert Customer.objects.get(pk=lead.pk).owner_id is None


def test_bulk_assign_reports_assigned_and_skipped(manager, rep, other_rep, pool):
    leads = [pooled(pool), pooled(pool)]
    taken = pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=taken.pk)

    response = client_for(manager).post(
        f"/api/pools/{pool.pk}/assign/",
        {"rep": rep.pk, "customers": [lead.pk for lead in leads] + [taken.pk]},
        format="json",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert sorted(body["assigned"]) == sorted(lead.pk for lead in leads)
    assert body["skipped"] == {str(taken.pk): "already_claimed"}
    assert Customer.objects.filter(owner=rep).count() == 2
    assert PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN).count() == 2


def test_bulk_assign_into_an_invisible_pool_is_404(other_team_rep, rep, pool):
    lead = pooled(pool)

    response = client_for(other_team_rep.team.manager).post(
        f"/api/pools/{pool.pk}/assign/", {"rep": rep.pk, "customers": [lead.pk]}, format="json"
    )

    assert_error(response, 404, "not_found")
    assert Customer.objects.get(pk=lead.pk).owner_id is None


def test_distribute_round_robin_hands_leads_to_the_team(manager, rep, other_rep, pool):
    for _ in range(4):
        pooled(pool)

    response = client_for(manager).post(
        f"/api/pools/{pool.pk}/distribute/", {"strategy": "round_robin"}, format="json"
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["total"] == 4
    assert {key: len(ids) for key, ids in body["assigned"].items()} == {str(rep.pk): 2, str(other_rep.pk): 2}
    assert Customer.objects.filter(pool=pool).count() == 0


def test_distribute_by_a_rep_is_403_and_changes_nothing(rep, pool):
    lead = pooled(pool)
    before = state(lead)

    assert_error(
        client_for(rep).post(f"/api/pools/{pool.pk}/distribute/", {}, format="json"), 403, "permission_denied"
    )
    assert state(lead) == before


def test_distribute_rejects_an_unknown_strategy(manager, pool):
    response = client_for(manager).post(
        f"/api/pools/{pool.pk}/distribute/", {"strategy": "random"}, format="json"
    )

    assert_error(response, 400, "invalid")
    assert "strategy" in response.json()["fields"]


# --- Transfer and move ------------------------------------------------------------------------


def test_manager_transfers_a_customer_between_reps(manager, rep, other_rep, pool):
    customer = owned(rep, pool)

    response = client_for(manager).post(
        f"/api/customers/{customer.pk}/transfer/", {"rep": other_rep.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["owner"] == other_rep.pk
    event = PoolEvent.objects.get(customer=customer)
    assert (event.kind, event.from_owner_id, event.to_owner_id) == ("transfer", rep.pk, other_rep.pk)


def test_transfer_by_the_owner_is_403_and_by_another_team_404(rep, other_rep, other_team_rep, pool):
    customer = owned(rep, pool)
    before = state(customer)

    assert_error(
        client_for(rep).post(f"/api/customers/{customer.pk}/transfer/", {"rep": other_rep.pk}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        client_for(other_team_rep.team.manager).post(
            f"/api/customers/{customer.pk}/transfer/", {"rep": other_rep.pk}, format="json"
        ),
        404,
        "not_found",
    )
    assert state(customer) == before


def test_admin_moves_a_customer_into_another_pool(admin_user, rep, pool, other_pool):
    customer = owned(rep, pool)

    response = client_for(admin_user).post(
        f"/api/customers/{customer.pk}/move/", {"pool": other_pool.pk}, format="json"
    )

    assert response.status_code == 200, response.content
    assert (response.json()["owner"], response.json()["pool"]) == (None, other_pool.pk)
    assert PoolEvent.objects.get(customer=customer).kind == PoolEventKind.MOVE


def test_move_by_a_manager_is_403_and_changes_nothing(manager, rep, pool, other_pool):
    customer = owned(rep, pool)
    before = state(customer)

    response = client_for(manager).post(
        f"/api/customers/{customer.pk}/move/", {"pool": other_pool.pk}, format="json"
    )

    assert_error(response, 403, "permission_denied")
    assert state(customer) == before


# --- Pools ------------------------------------------------------------------------------------


def test_pool_list_shows_the_callers_pools_with_sizes(rep, other_team_rep, admin_user, pool, other_pool):
    pooled(pool)
    pooled(pool)
    pooled(other_pool)

    rep_rows = client_for(rep).get("/api/pools/").json()["results"]
    admin_rows = client_for(admin_user).get("/api/pools/").json()["results"]

    assert [(row["id"], row["lead_count"]) for row in rep_rows] == [(pool.pk, 2)]
    assert {(row["id"], row["lead_count"]) for row in admin_rows} == {(pool.pk, 2), (other_pool.pk, 1)}
    assert client_for(other_team_rep).get("/api/pools/").json()["count"] == 0


def test_pool_detail_is_for_members_and_404_for_others(rep, other_team_rep, pool):
    response = client_for(rep).get(f"/api/pools/{pool.pk}/")

    assert response.status_code == 200
    assert {"max_held_per_rep", "max_claims_per_day", "cooldown_days", "hide_contacts"} <= set(
        response.json()
    )
    assert_error(client_for(other_team_rep).get(f"/api/pools/{pool.pk}/"), 404, "not_found")


def test_admin_edits_pool_limits_and_null_means_no_limit(admin_user, pool):
    Pool.objects.filter(pk=pool.pk).update(max_held_per_rep=5)
    client = client_for(admin_user)

    response = client.patch(
        f"/api/pools/{pool.pk}/",
        {"max_held_per_rep": None, "max_claims_per_day": 3, "cooldown_days": 2, "hide_contacts": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    pool.refresh_from_db()
    assert (pool.max_held_per_rep, pool.max_claims_per_day, pool.cooldown_days, pool.hide_contacts) == (
        None,
        3,
        2,
        False,
    )
    assert response.json()["max_held_per_rep"] is None
    assert list(pool.teams.all()), "a partial update keeps the member teams"


def test_pool_edit_by_a_member_manager_is_403_and_changes_nothing(manager, rep, pool):
    for user in (manager, rep):
        response = client_for(user).patch(f"/api/pools/{pool.pk}/", {"max_held_per_rep": 99}, format="json")
        assert_error(response, 403, "permission_denied")
    assert Pool.objects.get(pk=pool.pk).max_held_per_rep is None


def test_pool_edit_with_a_taken_name_is_400_with_fields(admin_user, pool, other_pool):
    response = client_for(admin_user).patch(
        f"/api/pools/{pool.pk}/", {"name": other_pool.name}, format="json"
    )

    assert_error(response, 400, "invalid")
    assert "name" in response.json()["fields"]
    assert Pool.objects.get(pk=pool.pk).name == pool.name


def test_pool_customers_masks_contacts_when_the_pool_hides_them(rep, pool):
    Pool.objects.filter(pk=pool.pk).update(hide_contacts=True)
    lead = pooled(pool, phone="13812345678", email="info@acme.example")

    row = client_for(rep).get(f"/api/pools/{pool.pk}/customers/").json()["results"][0]

    assert (row["id"], row["phone"], row["email"], row["contacts_hidden"]) == (
        lead.pk,
        "138****5678",
        "i***@acme.example",
        True,
    )


def test_pool_customers_show_contacts_when_the_pool_does_not_hide_them(rep, pool):
    Pool.objects.filter(pk=pool.pk).update(hide_contacts=False)
    pooled(pool, phone="13812345678", email="info@acme.example")

    row = client_for(rep).get(f"/api/pools/{pool.pk}/customers/").json()["results"][0]

    assert (row["phone"], row["email"], row["contacts_hidden"]) == ("13812345678", "info@acme.example", False)


def test_pool_customers_are_by_priority_filtered_and_searched(rep, pool):
    low = pooled(pool, priority_score=1, name="Alpha Trading", industry="retail")
    high = pooled(pool, priority_score=500, name="Beta Works", industry="manufacturing")
    client = client_for(rep)

    assert [r["id"] for r in client.get(f"/api/pools/{pool.pk}/customers/").json()["results"]] == [
        high.pk,
        low.pk,
    ]
    searched = client.get(f"/api/pools/{pool.pk}/customers/", {"search": "alpha"}).json()["results"]
    assert [r["id"] for r in searched] == [low.pk]
    filtered = client.get(f"/api/pools/{pool.pk}/customers/", {"industry": "manufacturing"}).json()["results"]
    assert [r["id"] for r in filtered] == [high.pk]
    assert_error(client.get(f"/api/pools/{pool.pk}/customers/", {"industry": "nonsense"}), 400, "invalid")


def test_pool_customers_of_a_pool_the_caller_may_not_use_is_404(other_team_rep, pool):
    pooled(pool)

    assert_error(client_for(other_team_rep).get(f"/api/pools/{pool.pk}/customers/"), 404, "not_found")


def count_queries(user, url, params):
    """Queries of one GET, by a freshly loaded user as a real request has (no per-object caches)."""
    client = client_for(User.objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), len(response.json()["results"])


def test_pool_customers_cost_the_same_queries_for_any_page_size(rep, pool):
    for _ in range(12):
        pooled(pool)
    url = f"/api/pools/{pool.pk}/customers/"

    small, small_rows = count_queries(rep, url, {"page_size": 2})
    large, large_rows = count_queries(rep, url, {"page_size": 12})

    assert (small_rows, large_rows) == (2, 12)
    assert small == large


# --- Pool events ------------------------------------------------------------------------------


def test_pool_events_answer_the_fixed_fields_and_filter(manager, rep, pool):
    claimed, assigned = pooled(pool), pooled(pool)
    services.claim_customer(rep=rep, customer_id=claimed.pk)
    services.assign_customer(actor=manager, customer_id=assigned.pk, rep=rep)
    client = client_for(manager)

    rows = client.get("/api/pool-events/").json()["results"]
    assert len(rows) == 2
    assert set(rows[0]) >= FIXED_EVENT_FIELDS
    by_kind = client.get("/api/pool-events/", {"kind": "assign"}).json()["results"]
    assert [(r["customer"], r["kind"], r["actor"], r["to_owner"]) for r in by_kind] == [
        (assigned.pk, "assign", manager.pk, rep.pk)
    ]
    by_customer = client.get("/api/pool-events/", {"customer": claimed.pk}).json()["results"]
    assert [r["kind"] for r in by_customer] == ["claim"]
    assert client.get("/api/pool-events/", {"pool": pool.pk}).json()["count"] == 2
    assert_error(client.get("/api/pool-events/", {"kind": "nonsense"}), 400, "invalid")


def test_pool_events_for_a_rep_are_their_own_customers_history(rep, other_rep, pool, reason):
    mine, theirs = pooled(pool), pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=mine.pk)
    services.release_customer(actor=other_rep, customer_id=mine.pk, reason=reason.code)
    services.claim_customer(rep=rep, customer_id=mine.pk)
    services.claim_customer(rep=other_rep, customer_id=theirs.pk)

    rows = client_for(rep).get("/api/pool-events/").json()["results"]

    assert {r["customer"] for r in rows} == {mine.pk}
    assert [r["kind"] for r in rows] == ["claim", "release", "claim"]
    assert rows[1]["reason"] == reason.code
    assert client_for(UserFactory(team=None)).get("/api/pool-events/").json()["count"] == 0


def test_pool_events_cost_the_same_queries_for_any_page_size(manager, rep, pool):
    leads = [pooled(pool) for _ in range(12)]
    services.assign_customers(actor=manager, rep=rep, customer_ids=[lead.pk for lead in leads])

    small, small_rows = count_queries(manager, "/api/pool-events/", {"page_size": 2})
    large, large_rows = count_queries(manager, "/api/pool-events/", {"page_size": 12})

    assert (small_rows, large_rows) == (2, 12)
    assert small == large


# --- Recycle rules ----------------------------------------------------------------------------


RULE = {"name": "Idle a month", "no_followup_days": 30, "no_deal_days": None, "warn_days": 5}


def test_admin_creates_a_rule_and_managers_read_it(admin_user, manager, pool):
    created = client_for(admin_user).post("/api/recycle-rules/", {**RULE, "pool": pool.pk}, format="json")

    assert created.status_code == 201, created.content
    assert set(created.json()) >= FIXED_RULE_FIELDS
    rule = RecycleRule.objects.get(pk=created.json()["id"])
    assert (rule.pool_id, rule.no_followup_days, rule.no_deal_days, rule.warn_days) == (pool.pk, 30, None, 5)
    listed = client_for(manager).get("/api/recycle-rules/").json()["results"]
    assert [r["id"] for r in listed] == [rule.pk]
    assert client_for(manager).get(f"/api/recycle-rules/{rule.pk}/").json()["name"] == "Idle a month"


def test_rules_refuse_reps_and_manager_writes(manager, rep, pool):
    rule = RecycleRuleFactory(pool=pool)

    assert_error(client_for(rep).get("/api/recycle-rules/"), 403, "permission_denied")
    assert_error(client_for(rep).get(f"/api/recycle-rules/{rule.pk}/"), 403, "permission_denied")
    assert_error(
        client_for(manager).post("/api/recycle-rules/", {**RULE, "pool": pool.pk}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        client_for(manager).patch(f"/api/recycle-rules/{rule.pk}/", {"no_followup_days": 1}, format="json"),
        403,
        "permission_denied",
    )
    assert list(RecycleRule.objects.values_list("pk", "no_followup_days")) == [(rule.pk, 30)]


def test_rule_of_a_pool_the_manager_may_not_use_is_404(other_team_rep, pool):
    rule = RecycleRuleFactory(pool=pool)

    assert_error(
        client_for(other_team_rep.team.manager).get(f"/api/recycle-rules/{rule.pk}/"), 404, "not_found"
    )


def test_admin_patches_a_rule(admin_user, pool):
    rule = RecycleRuleFactory(pool=pool, no_followup_days=30)

    response = client_for(admin_user).patch(
        f"/api/recycle-rules/{rule.pk}/",
        {"no_followup_days": None, "no_deal_days": 60, "enabled": False},
        format="json",
    )

    assert response.status_code == 200, response.content
    rule.refresh_from_db()
    assert (rule.no_followup_days, rule.no_deal_days, rule.enabled, rule.name) == (
        None,
        60,
        False,
        response.json()["name"],
    )


def test_a_rule_without_any_trigger_is_400_with_fields(admin_user, pool):
    response = client_for(admin_user).post(
        "/api/recycle-rules/", {"name": "Nothing", "pool": pool.pk, "no_followup_days": None}, format="json"
    )

    assert_error(response, 400, "invalid")
    assert "no_followup_days" in response.json()["fields"]
    assert not RecycleRule.objects.exists()


def test_rule_preview_counts_due_now_and_within_warning(admin_user, manager, rep, pool):
    owned(rep, pool, claimed_days_ago=40, followup_days_ago=40)
    soon = owned(rep, pool, claimed_days_ago=28, followup_days_ago=28)
    owned(rep, pool, claimed_days_ago=1, followup_days_ago=1)
    payload = {"pool": pool.pk, "name": "Preview", "no_followup_days": 30, "warn_days": 5}

    response = client_for(admin_user).post("/api/recycle-rules/preview/", payload, format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["due_now"], body["due_within_warning"]) == (1, 1)
    assert soon.pk in {row["customer"] for row in body["sample"]}
    assert not RecycleRule.objects.exists()
    assert_error(
        client_for(manager).post("/api/recycle-rules/preview/", payload, format="json"),
        403,
        "permission_denied",
    )


def test_delete_of_a_rule_that_recycled_someone_is_409(admin_user, rep, pool):
    rule = RecycleRuleFactory(pool=pool, no_followup_days=1)
    owned(rep, pool, claimed_days_ago=5)
    services.recycle_stale_customers()
    assert PoolEvent.objects.filter(rule=rule).exists()

    assert_error(client_for(admin_user).delete(f"/api/recycle-rules/{rule.pk}/"), 409, "rule_in_use")
    assert RecycleRule.objects.filter(pk=rule.pk).exists()


# --- Release reasons --------------------------------------------------------------------------


def test_release_reasons_are_labelled_in_the_request_language(rep, reason):
    english = client_for(rep).get("/api/release-reasons/", {"page_size": 200}).json()["results"]
    chinese = (
        client_for(rep)
        .get("/api/release-reasons/", {"page_size": 200}, HTTP_ACCEPT_LANGUAGE="zh-hans")
        .json()["results"]
    )

    assert {"code": reason.code, "label": "No need", "requires_note": False} in english
    assert {"code": reason.code, "label": "没有需求", "requires_note": False} in chinese


# --- Extensions -------------------------------------------------------------------------------


def test_extension_request_and_decision(manager, rep, pool):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)
    due = customer.recycle_due_at

    requested = client_for(rep).post(
        f"/api/customers/{customer.pk}/extension/", {"days": 10, "reason": "Budget in May"}, format="json"
    )
    assert requested.status_code == 201, requested.content
    request_id = requested.json()["id"]
    again = client_for(rep).post(
        f"/api/customers/{customer.pk}/extension/", {"days": 10, "reason": "Budget in May"}, format="json"
    )
    assert_error(again, 409, "extension_already_requested")
    assert [r["id"] for r in client_for(manager).get("/api/extension-requests/").json()["results"]] == [
        request_id
    ]

    decided = client_for(manager).post(
        f"/api/extension-requests/{request_id}/decide/", {"approve": True}, format="json"
    )

    assert decided.status_code == 200, decided.content
    assert decided.json()["status"] == ExtensionStatus.APPROVED
    assert Customer.objects.get(pk=customer.pk).recycle_due_at == due + timedelta(days=10)
    assert_error(
        client_for(manager).post(
            f"/api/extension-requests/{request_id}/decide/", {"approve": False}, format="json"
        ),
        409,
        "extension_decided",
    )


def test_extension_by_someone_else_is_refused_and_changes_nothing(
    manager, rep, other_rep, other_team_rep, pool
):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)

    assert_error(
        client_for(other_rep).post(f"/api/customers/{customer.pk}/extension/", {}, format="json"),
        404,
        "not_found",
    )
    assert_error(
        client_for(manager).post(
            f"/api/customers/{customer.pk}/extension/", {"reason": "Busy"}, format="json"
        ),
        403,
        "permission_denied",
    )
    assert not ExtensionRequest.objects.exists()

    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")
    assert_error(
        client_for(rep).post(
            f"/api/extension-requests/{request.pk}/decide/", {"approve": True}, format="json"
        ),
        403,
        "permission_denied",
    )
    assert_error(
        client_for(other_team_rep.team.manager).post(
            f"/api/extension-requests/{request.pk}/decide/", {"approve": True}, format="json"
        ),
        404,
        "not_found",
    )
    assert ExtensionRequest.objects.get(pk=request.pk).status == ExtensionStatus.PENDING


def _extension_url(customer):
    return f"/api/customers/{customer.pk}/extension/"


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"days": 5}, {"reason"}),
        ({"reason": "   ", "days": 5}, {"reason"}),
        ({"reason": "Tender", "days": 0}, {"days"}),
        ({"reason": "Tender", "days": 21}, {"days"}),
        ({"reason": "Tender", "days": 10**40}, {"days"}),
        ({"reason": "Tender", "days": "many"}, {"days"}),
        ({"days": 99}, {"reason", "days"}),
    ],
)
def test_a_bad_extension_request_is_400_with_field_errors_and_changes_nothing(rep, pool, payload, fields):
    pool.max_extension_days = 20
    pool.save(update_fields=["max_extension_days"])
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)
    before = state(customer)

    response = client_for(rep).post(_extension_url(customer), payload, format="json")

    assert_error(response, 400, "invalid")
    body = response.json()
    assert set(body) == {"code", "detail", "fields"}
    assert set(body["fields"]) == fields
    assert all(isinstance(messages, list) and messages[0] for messages in body["fields"].values())
    if "days" in fields and payload.get("days") != "many":
        assert body["fields"]["days"] == ["Ask for 1 to 20 days."]
    assert not ExtensionRequest.objects.exists()
    assert state(customer) == before


def test_extension_errors_answer_in_the_callers_language(rep, pool):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)

    response = client_for(rep).post(
        _extension_url(customer), {"reason": "", "days": 15}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert_error(response, 400, "invalid")
    assert response.json()["fields"] == {
        "reason": ["请说明需要延期的原因。"],
        "days": ["请申请 1 到 14 天。"],
    }


def test_extension_request_answers_its_reason_and_accepts_the_older_note_field(rep, pool):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)

    response = client_for(rep).post(_extension_url(customer), {"note": "Tender in May"}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["reason"], body["note"], body["days"], body["status"]) == (
        "Tender in May",
        "Tender in May",
        14,
        "pending",
    )


def test_approving_for_a_customer_that_left_the_rep_is_409_customer_left_and_changes_nothing(
    manager, rep, pool, reason
):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender", days=10)
    services.release_customer(actor=rep, customer_id=customer.pk, reason=reason.code)
    before = state(customer), Notification.objects.count()

    response = client_for(manager).post(
        f"/api/extension-requests/{request.pk}/decide/", {"approve": True}, format="json"
    )

    assert_error(response, 409, "customer_left")
    assert customer.name in response.json()["detail"]
    assert (state(customer), Notification.objects.count()) == before
    assert ExtensionRequest.objects.get(pk=request.pk).status == ExtensionStatus.PENDING

    refused = client_for(manager).post(
        f"/api/extension-requests/{request.pk}/decide/", {"approve": False}, format="json"
    )
    assert refused.status_code == 200, refused.content
    assert refused.json()["status"] == ExtensionStatus.REFUSED


def test_granting_more_days_than_the_pool_allows_is_400(manager, rep, pool):
    pool.max_extension_days = 10
    pool.save(update_fields=["max_extension_days"])
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender", days=10)

    response = client_for(manager).post(
        f"/api/extension-requests/{request.pk}/decide/", {"approve": True, "days": 11}, format="json"
    )

    assert_error(response, 400, "invalid")
    assert response.json()["fields"] == {"days": ["Grant 1 to 10 days."]}
    assert ExtensionRequest.objects.get(pk=request.pk).status == ExtensionStatus.PENDING


def test_pool_max_extension_days_is_read_and_patched_by_admins(pool):
    admin = UserFactory(username="pool_boss", admin=True)
    client = client_for(admin)

    assert client.get(f"/api/pools/{pool.pk}/").json()["max_extension_days"] == 14
    patched = client.patch(f"/api/pools/{pool.pk}/", {"max_extension_days": 30}, format="json")
    refused = client.patch(f"/api/pools/{pool.pk}/", {"max_extension_days": 0}, format="json")

    assert patched.status_code == 200, patched.content
    assert patched.json()["max_extension_days"] == 30
    assert_error(refused, 400, "invalid")
    assert "max_extension_days" in refused.json()["fields"]
    pool.refresh_from_db()
    assert pool.max_extension_days == 30


# --- Notifications ----------------------------------------------------------------------------


def test_notifications_are_the_callers_own_and_can_be_marked_read(rep, other_rep):
    mine = [
        Notification.objects.create(
            user=rep,
            kind=NotificationKind.EXTENSION_DECIDED,
            params={"customer": "Acme", "approved": True, "days": 5},
        )
        for _ in range(2)
    ]
    theirs = Notification.objects.create(user=other_rep, kind=NotificationKind.EXTENSION_DECIDED)
    client = client_for(rep)

    rows = client.get("/api/notifications/").json()["results"]
    assert {r["id"] for r in rows} == {n.pk for n in mine}
    assert "Acme" in rows[0]["message"]

    marked = client.post("/api/notifications/read/", {"ids": [mine[0].pk, theirs.pk]}, format="json")
    assert marked.json() == {"marked": 1}
    assert [r["id"] for r in client.get("/api/notifications/", {"unread": "true"}).json()["results"]] == [
        mine[1].pk
    ]
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert client.post("/api/notifications/read/", {}, format="json").json() == {"marked": 1}


# --- Creating into a pool ---------------------------------------------------------------------


def test_admin_creates_a_customer_into_a_pool_with_a_create_event(admin_user, pool):
    response = client_for(admin_user).post(
        "/api/customers/", {"name": "Pooled Newco", "pool": pool.pk, "phone": "13900000001"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["pool"]) == (None, pool.pk)
    event = PoolEvent.objects.get(customer_id=body["id"])
    assert (event.kind, event.actor_id, event.to_pool_id) == ("create", admin_user.pk, pool.pk)


def test_rep_creating_into_a_pool_is_403_and_creates_nothing(rep, pool):
    response = client_for(rep).post("/api/customers/", {"name": "Sneaky Co", "pool": pool.pk}, format="json")

    assert_error(response, 403, "permission_denied")
    assert not Customer.objects.filter(name="Sneaky Co").exists()
    assert not PoolEvent.objects.exists()


def test_creating_without_a_pool_still_gives_the_rep_the_customer(rep):
    response = client_for(rep).post("/api/customers/", {"name": "Own Co"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["owner"] == rep.pk


def test_a_recently_pooled_lead_lists_fresh_data(rep, pool):
    """The pool list reads the rows as they are now: a lead claimed a moment ago is gone from it."""
    lead = pooled(pool, pooled_at=timezone.now() - timedelta(hours=1))
    client = client_for(rep)
    assert [r["id"] for r in client.get(f"/api/pools/{pool.pk}/customers/").json()["results"]] == [lead.pk]

    client.post(f"/api/customers/{lead.pk}/claim/")

    assert client.get(f"/api/pools/{pool.pk}/customers/").json()["count"] == 0


# --- More lists, unknown ids, the schema ------------------------------------------------------


def test_other_lists_cost_the_same_queries_for_any_page_size(admin_user, manager, rep, pool, team):
    for index in range(6):
        extra = PoolFactory(name=f"Extra {index}")
        extra.teams.add(team)
        RecycleRuleFactory(pool=extra)
        Notification.objects.create(user=manager, kind=NotificationKind.EXTENSION_DECIDED)
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    for _ in range(6):
        services.request_extension(
            rep=rep, customer_id=owned(rep, pool, claimed_days_ago=5).pk, reason="Budget in May"
        )

    for user, url in [
        (admin_user, "/api/pools/"),
        (manager, "/api/recycle-rules/"),
        (manager, "/api/notifications/"),
        (manager, "/api/extension-requests/"),
    ]:
        small, small_rows = count_queries(user, url, {"page_size": 2})
        large, large_rows = count_queries(user, url, {"page_size": 6})
        assert (small_rows, large_rows) == (2, 6), url
        assert small == large, url


def test_unknown_ids_answer_404(admin_user, manager):
    client = client_for(admin_user)

    assert_error(client.get("/api/pools/999999/"), 404, "not_found")
    assert_error(client.get("/api/pools/999999/customers/"), 404, "not_found")
    assert_error(client.get("/api/recycle-rules/999999/"), 404, "not_found")
    assert_error(client.patch("/api/recycle-rules/999999/", {"name": "x"}, format="json"), 404, "not_found")
    assert_error(
        client.post("/api/extension-requests/999999/decide/", {"approve": True}, format="json"),
        404,
        "not_found",
    )
    assert_error(client.post("/api/customers/999999/move/", {"pool": 1}, format="json"), 404, "not_found")
    assert_error(
        client_for(manager).post("/api/customers/999999/release/", {"reason": "x"}, format="json"),
        404,
        "not_found",
    )


def test_extension_for_a_customer_without_a_deadline_is_400_no_deadline(rep, pool):
    customer = owned(rep, pool)
    assert customer.recycle_due_at is None

    response = client_for(rep).post(
        f"/api/customers/{customer.pk}/extension/", {"reason": "Busy"}, format="json"
    )

    assert_error(response, 400, "no_deadline")
    assert not ExtensionRequest.objects.exists()


def test_schema_documents_the_pool_endpoints_and_fixed_fields(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    expected = {
        "/api/customers/{customer_id}/claim/": {"post"},
        "/api/customers/{customer_id}/release/": {"post"},
        "/api/customers/{customer_id}/assign/": {"post"},
        "/api/customers/{customer_id}/transfer/": {"post"},
        "/api/customers/{customer_id}/move/": {"post"},
        "/api/customers/{customer_id}/extension/": {"post"},
        "/api/pools/": {"get"},
        "/api/pools/{pool_id}/": {"get", "patch"},
        "/api/pools/{pool_id}/customers/": {"get"},
        "/api/pools/{pool_id}/claim-next/": {"post"},
        "/api/pools/{pool_id}/assign/": {"post"},
        "/api/pools/{pool_id}/distribute/": {"post"},
        "/api/pool-events/": {"get"},
        "/api/recycle-rules/": {"get", "post"},
        "/api/recycle-rules/{rule_id}/": {"get", "patch"},
        "/api/recycle-rules/preview/": {"post"},
        "/api/release-reasons/": {"get"},
        "/api/extension-requests/{request_id}/decide/": {"post"},
        "/api/notifications/": {"get"},
        "/api/notifications/read/": {"post"},
    }
    for path, methods in expected.items():
        assert methods <= set(schema["paths"][path]), path
    components = schema["components"]["schemas"]
    assert set(components["PoolEvent"]["properties"]) >= FIXED_EVENT_FIELDS
    assert set(components["RecycleRule"]["properties"]) >= FIXED_RULE_FIELDS
    assert set(components["ReleaseReason"]["properties"]) >= {"code", "label"}
    assert {p["name"] for p in schema["paths"]["/api/pool-events/"]["get"]["parameters"]} >= {
        "customer",
        "pool",
        "kind",
        "page",
        "page_size",
    }
