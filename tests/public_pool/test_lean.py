"""The lean ownership paths (``services.lean``, issue 12): statements per request, the slim
answer, and that the SQL rule matching gives what ``take_policy`` gives.

Statements are counted as the driver sends them, BEGIN and COMMIT included. psycopg2 sends
BEGIN itself before the first statement of a transaction and COMMIT from
``connection.commit()``, neither through a cursor, so :class:`Statements` (a) wraps every cursor execution (``connection.execute_wrapper``) and,
before it runs, asks the driver whether it is about to open a transaction (autocommit off and
``transaction_status`` idle: psycopg2 then sends BEGIN first), and (b) wraps the connection's
``_commit``/``_rollback``, counting COMMIT/ROLLBACK only when the driver has a transaction to
end. The tests run with ``transaction=True`` so that the request's own transaction is the
outermost one (under the usual test transaction it would be a savepoint). Authentication is
by API token, as integrations do. (Django 4.2+ also lists BEGIN and COMMIT among
``CaptureQueriesContext``'s queries; :func:`statements` checks that both counts agree.)
"""

import importlib
import re
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg2.extensions
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer, Deal, DealStage, Level, Tag
from public_pool import services
from public_pool.api.claims import OwnershipSerializer, ownership_data
from public_pool.models import PoolEvent, PoolEventKind, ReleaseReason
from public_pool.services import lean
from public_pool.services.policies import take_policy
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pooled, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)

SLIM_FIELDS = {
    "id",
    "name",
    "owner",
    "team",
    "pool",
    "home_pool",
    "claimed_at",
    "recycle_due_at",
    "recycle_rule",
    "recycle_trigger",
}


class Statements:
    """Every statement the connection sends, BEGIN/COMMIT/ROLLBACK included (see module docstring)."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, execute, sql, params, many, context):  # an execute_wrapper
        raw = connection.connection
        if not raw.autocommit and raw.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE:
            self.sent.append("BEGIN")
        self.sent.append(sql)
        return execute(sql, params, many, context)

    def __len__(self) -> int:
        return len(self.sent)

    def __repr__(self) -> str:
        return "\n".join(s.split("\n", 1)[0][:120] if s.strip() else s for s in self.sent)


@contextmanager
def statements():
    counter = Statements()
    wrapper: Any = connection  # the private _commit/_rollback are what send COMMIT/ROLLBACK
    commit, rollback = wrapper._commit, wrapper._rollback

    def ending(word, original):
        def end():
            raw = connection.connection
            if raw is not None and raw.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                counter.sent.append(word)
            return original()

        return end

    wrapper._commit = ending("COMMIT", commit)
    wrapper._rollback = ending("ROLLBACK", rollback)
    try:
        with connection.execute_wrapper(counter), CaptureQueriesContext(connection) as captured:
            yield counter
    finally:
        del wrapper._commit, wrapper._rollback
    # Django 4.2+ also logs BEGIN and COMMIT among a debug cursor's queries: the counts agree.
    assert [q["sql"].split()[0] for q in captured.captured_queries] == [s.split()[0] for s in counter.sent]


@pytest.fixture
def reason(db):
    return ReleaseReason.objects.create(code="lean-no-need", label="No need", label_zh="没有需求")


def no_savepoints(counter):
    return not any("SAVEPOINT" in s for s in counter.sent)


def warm(client):
    """A first request pays for the connection and the token's 'last used' write; not counted."""
    assert client.get("/api/me/").status_code == 200


@pytest.mark.parametrize("limits", [False, True])
def test_a_claim_costs_two_statements_without_limits_and_six_with(token_client, rep, pool, limits):
    """Without limits: the token's look-up and the claim, which commits on its own (autocommit:
    one statement is atomic by itself). With limits the retry locks the rep in a transaction."""
    if limits:
        pool.max_held_per_rep, pool.max_claims_per_day, pool.cooldown_days = 10, 10, 7
        pool.save()
    RecycleRuleFactory(pool=pool, no_followup_days=30, no_deal_days=90)
    lead = pooled(pool)
    client = token_client(rep)
    warm(client)

    with statements() as sent:
        response = client.post(f"/api/customers/{lead.pk}/claim/")

    assert response.status_code == 200, response.content
    assert len(sent) == (6 if limits else 2), sent
    assert len(sent) <= (7 if limits else 5)
    if limits:
        assert sent.sent[2] == "BEGIN", sent
        assert sent.sent[-1] == "COMMIT", sent
    else:
        assert "BEGIN" not in sent.sent, sent
        assert "COMMIT" not in sent.sent, sent
        assert sent.sent[-1].startswith("SELECT * FROM crm_claim("), sent  # the plan-cached function
    assert no_savepoints(sent)
    body = response.json()
    assert set(body) == SLIM_FIELDS
    assert (body["id"], body["owner"], body["pool"], body["home_pool"]) == (lead.pk, rep.pk, None, pool.pk)
    assert body["recycle_due_at"] is not None
    assert body["recycle_trigger"] == "no_followup"
    assert PoolEvent.objects.filter(customer=lead, kind=PoolEventKind.CLAIM, to_owner=rep).count() == 1


@pytest.mark.parametrize("limits", [False, True])
def test_claim_next_costs_two_statements_without_limits_and_six_with(token_client, rep, pool, limits):
    if limits:
        pool.max_held_per_rep, pool.max_claims_per_day, pool.cooldown_days = 10, 10, 7
        pool.save()
    best = pooled(pool, priority_score=900)
    pooled(pool, priority_score=100)
    client = token_client(rep)
    warm(client)

    with statements() as sent:
        response = client.post(f"/api/pools/{pool.pk}/claim-next/")

    assert response.status_code == 200, response.content
    assert len(sent) == (6 if limits else 2), sent
    assert sent.sent[-(2 if limits else 1)].startswith("SELECT * FROM crm_claim_next("), sent
    assert no_savepoints(sent)
    assert response.json()["id"] == best.pk
    assert set(response.json()) == SLIM_FIELDS


@pytest.mark.parametrize("limits", [False, True])
def test_a_release_costs_five_statements_with_or_without_limits(token_client, rep, pool, reason, limits):
    if limits:  # a release counts nothing, but the pool's limits must not add a statement
        pool.max_held_per_rep, pool.max_claims_per_day, pool.cooldown_days = 10, 10, 7
        pool.save()
    customer = owned(rep, pool)
    client = token_client(rep)
    warm(client)

    with statements() as sent:
        response = client.post(
            f"/api/customers/{customer.pk}/release/", {"reason": reason.code}, format="json"
        )

    assert response.status_code == 200, response.content
    assert len(sent) == 5, sent
    assert no_savepoints(sent)
    body = response.json()
    assert set(body) == SLIM_FIELDS
    assert (body["owner"], body["pool"], body["recycle_due_at"]) == (None, pool.pk, None)
    customer.refresh_from_db()
    # The score is the pool's priority formula, as the checked path computes it.
    expected = Customer.objects.filter(pk=customer.pk).values_list("priority_score", flat=True).get()
    services.recompute_priorities(customers=Customer.objects.filter(pk=customer.pk))
    assert Customer.objects.get(pk=customer.pk).priority_score == expected


@pytest.mark.parametrize("limits", [False, True])
def test_an_assignment_costs_five_statements_with_or_without_limits(token_client, manager, rep, pool, limits):
    if limits:
        pool.max_held_per_rep, pool.max_claims_per_day = 10, 10
        pool.save()
    lead = pooled(pool)
    client = token_client(manager)
    warm(client)

    with statements() as sent:
        response = client.post(f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk}, format="json")

    assert response.status_code == 200, response.content
    assert len(sent) == 5, sent
    assert no_savepoints(sent)
    assert response.json()["owner"] == rep.pk
    event = PoolEvent.objects.get(customer=lead)
    assert (event.kind, event.actor_id, event.to_owner_id, event.from_pool_id, event.override) == (
        PoolEventKind.ASSIGN,
        manager.pk,
        rep.pk,
        pool.pk,
        False,
    )


def test_refusals_keep_their_codes(token_client, rep, other_team_rep, pool, other_pool, reason):
    client = token_client(rep)
    taken = pooled(pool)
    services.claim_customer(rep=UserFactory(team=rep.team), customer_id=taken.pk)
    assert client.post(f"/api/customers/{taken.pk}/claim/").json()["code"] == "already_claimed"
    foreign = pooled(other_pool)
    assert client.post(f"/api/customers/{foreign.pk}/claim/").json()["code"] == "not_pool_member"
    assert client.post("/api/customers/999999/claim/").status_code == 404
    pool.max_held_per_rep = 0
    pool.save()
    response = client.post(f"/api/customers/{pooled(pool).pk}/claim/")
    assert (response.status_code, response.json()["code"]) == (409, "limit_reached")
    response = client.post(f"/api/pools/{pool.pk}/claim-next/")
    assert (response.status_code, response.json()["code"]) == (409, "limit_reached")
    pool.max_held_per_rep = None
    pool.cooldown_days = 7
    pool.save()
    mine = owned(rep, pool)
    assert (
        client.post(f"/api/customers/{mine.pk}/release/", {"reason": reason.code}, format="json").status_code
        == 200
    )
    assert client.post(f"/api/customers/{mine.pk}/claim/").json()["code"] == "cooldown"
    assert (
        client.post(f"/api/customers/{mine.pk}/release/", {"reason": reason.code}, format="json").json()[
            "code"
        ]
        == "not_owned"
    )
    theirs = owned(other_team_rep, other_pool)
    assert (
        client.post(
            f"/api/customers/{theirs.pk}/release/", {"reason": reason.code}, format="json"
        ).status_code
        == 404
    )
    assert (
        client.post(f"/api/customers/{pooled(pool).pk}/assign/", {"rep": rep.pk}, format="json").status_code
        == 403
    )
    assert PoolEvent.objects.filter(customer__in=[foreign, theirs]).count() == 0


def test_a_claim_inside_a_callers_transaction_is_part_of_it(rep, pool):
    """The fast path commits on its own only when no transaction is open: inside one it is
    undone with it, event included."""
    lead = pooled(pool)

    def claim_then_fail() -> None:
        with transaction.atomic():
            services.claim_customer(rep=rep, customer_id=lead.pk)
            raise RuntimeError("the caller fails after the claim")

    with pytest.raises(RuntimeError):
        claim_then_fail()

    lead.refresh_from_db()
    assert (lead.owner_id, lead.pool_id) == (None, pool.pk)
    assert not PoolEvent.objects.filter(customer=lead).exists()


@pytest.mark.parametrize("zone", ["UTC", "Asia/Shanghai"])
def test_the_slim_answer_equals_the_ownership_serializer(rep, pool, reason, zone):
    """``ownership_data`` (what the views answer) against ``OwnershipSerializer`` (the schema's
    description), for a lead with a rule and deadline, one without a rule, and a released one."""
    RecycleRuleFactory(pool=pool, no_followup_days=30, no_deal_days=90)
    with_rule = services.claim_customer(rep=rep, customer_id=pooled(pool, name="有规则 & <b>").pk)
    plain_pool = PoolFactory()
    plain_pool.teams.add(rep.team)
    without_rule = services.claim_customer(rep=rep, customer_id=pooled(plain_pool).pk)
    released = services.release_customer(actor=rep, customer_id=owned(rep, pool).pk, reason=reason.code)
    reread = Customer.objects.get(pk=with_rule.pk)

    with timezone.override(zone):
        for customer in (with_rule, without_rule, released, reread):
            assert ownership_data(customer) == OwnershipSerializer(customer).data
    assert ownership_data(with_rule)["recycle_due_at"] is not None
    assert ownership_data(released)["owner"] is None


def test_claim_next_skips_leads_in_cooldown_and_answers_pool_empty(token_client, rep, pool, reason):
    pool.cooldown_days = 7
    pool.save()
    lead = owned(rep, pool)
    services.release_customer(actor=rep, customer_id=lead.pk, reason=reason.code)
    client = token_client(rep)

    response = client.post(f"/api/pools/{pool.pk}/claim-next/")

    assert (response.status_code, response.json()["code"]) == (404, "pool_empty")


def test_an_admin_override_is_logged_only_where_used(token_client, admin_user, rep, other_team_rep, pool):
    pool.max_held_per_rep = 0
    pool.save()
    lead = pooled(pool)
    client = token_client(admin_user)
    response = client.post(f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "limit_reached")

    response = client.post(
        f"/api/customers/{lead.pk}/assign/", {"rep": rep.pk, "override": True}, format="json"
    )

    assert response.status_code == 200, response.content
    assert PoolEvent.objects.get(customer=lead).override is True
    pool.max_held_per_rep = None
    pool.save()
    plain = pooled(pool)
    client.post(f"/api/customers/{plain.pk}/assign/", {"rep": rep.pk, "override": True}, format="json")
    assert PoolEvent.objects.get(customer=plain).override is False


@pytest.mark.parametrize(
    "setup",
    [
        "plain",
        "tagged",
        "level",
        "team",
        "protected",
        "exempt_deal",
        "recent_followup",
        "no_rule",
        "deal_only",
    ],
)
def test_the_sql_rule_match_and_deadline_equal_take_policy(rep, other_rep, pool, setup):
    """``lean``'s rule CTE against ``policies.take_policy`` on the same lead at the same moment."""
    tag = Tag.objects.create(name="VIP")
    if setup != "no_rule":
        RecycleRuleFactory(pool=pool, priority=200, no_followup_days=30, no_deal_days=90)
    if setup == "tagged":
        RecycleRuleFactory(pool=pool, priority=10, tag=tag, no_followup_days=5)
    if setup == "level":
        RecycleRuleFactory(pool=pool, priority=10, level=Level.A, no_followup_days=60)
    if setup == "team":
        RecycleRuleFactory(pool=pool, priority=10, team=rep.team, no_followup_days=7, no_deal_days=20)
    if setup in ("exempt_deal", "deal_only"):
        RecycleRuleFactory(
            pool=pool,
            priority=10,
            no_followup_days=None if setup == "deal_only" else 15,
            no_deal_days=40,
            exempt_open_deal_from_stage=DealStage.PROPOSAL if setup == "exempt_deal" else "",
        )
    lead = pooled(
        pool,
        level=Level.A if setup == "level" else Level.C,
        is_protected=setup == "protected",
        last_followup_at=timezone.now() + timedelta(days=3) if setup == "recent_followup" else None,
    )
    if setup == "tagged":
        lead.tags.add(tag)
    if setup == "exempt_deal":
        Deal.objects.create(
            customer=lead, owner=other_rep, title="Big", amount=1, stage=DealStage.NEGOTIATION
        )

    taken = services.claim_customer(rep=rep, customer_id=lead.pk)

    lead.refresh_from_db()
    expected = take_policy(
        customer=CustomerFactory.build(
            pk=lead.pk,
            level=lead.level,
            value_tier=lead.value_tier,
            source=lead.source,
            is_protected=lead.is_protected,
            last_followup_at=lead.last_followup_at,
            owner=None,
        ),
        team_id=rep.team_id,
        home_pool_id=pool.pk,
        claimed_at=lead.claimed_at,
    )
    for name, value in expected.items():
        assert getattr(lead, name) == value, name
    assert (taken.recycle_due_at, taken.recycle_rule_id) == (lead.recycle_due_at, lead.recycle_rule_id)


def test_http_claims_racing_on_a_held_limit_stop_at_the_limit(token_client, rep, pool):
    pool.max_held_per_rep = 3
    pool.save()
    leads = [pooled(pool) for _ in range(12)]
    clients = [token_client(rep) for _ in range(12)]

    outcomes = run_at_once(12, lambda i: clients[i].post(f"/api/customers/{leads[i].pk}/claim/"))

    statuses = sorted(response.status_code for _status, response in outcomes)
    assert statuses == [200] * 3 + [409] * 9
    assert {r.json()["code"] for _s, r in outcomes if r.status_code == 409} == {"limit_reached"}
    assert Customer.objects.filter(owner=rep).count() == 3
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM).count() == 3


def test_http_claim_next_racing_gives_each_rep_a_different_lead(token_client, team, pool):
    reps = [UserFactory(team=team) for _ in range(8)]
    leads = [pooled(pool, priority_score=100 + i) for i in range(8)]
    clients = [token_client(r) for r in reps]

    outcomes = run_at_once(8, lambda i: clients[i].post(f"/api/pools/{pool.pk}/claim-next/"))

    assert [response.status_code for _s, response in outcomes] == [200] * 8
    assert sorted(response.json()["id"] for _s, response in outcomes) == sorted(lead.pk for lead in leads)
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM).count() == 8


def test_the_installed_claim_functions_are_what_lean_writes_today():
    """The migration keeps the functions' text as it was written; a change to the claim SQL in
    ``lean`` must come with a migration that installs it. Each function caches generic plans."""
    migration = importlib.import_module("public_pool.migrations.0014_claim_functions")
    assert lean.claim_functions_sql().strip() == migration.CLAIM_FUNCTIONS.strip()
    written = dict(re.findall(r"FUNCTION (\w+)\(.*?AS \$\$(.*?)\$\$;", lean.claim_functions_sql(), re.DOTALL))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc, proconfig FROM pg_proc WHERE proname IN ('crm_claim', 'crm_claim_next')"
        )
        installed = {name: (body, config) for name, body, config in cursor.fetchall()}
    assert set(installed) == set(written) == {"crm_claim", "crm_claim_next"}
    for name, body in written.items():
        assert installed[name] == (body, ["plan_cache_mode=force_generic_plan"])


@pytest.mark.parametrize("path", ["/api/customers/{huge}/claim/", "/api/pools/{huge}/claim-next/"])
def test_ids_beyond_bigint_answer_not_found_without_calling_the_functions(token_client, rep, path):
    client = token_client(rep)
    warm(client)
    with CaptureQueriesContext(connection) as captured:
        response = client.post(path.format(huge=2**63))
    assert response.status_code == 404, response.content
    assert response.json()["code"] == "not_found"
    assert not any("crm_claim" in query["sql"] for query in captured.captured_queries)
