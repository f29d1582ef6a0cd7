"""Who sees which pools, leads, contact details and events."""

import pytest

from customers.models import Industry
from public_pool import selectors, services
from public_pool.models import PoolEventKind
from tests.factories import PoolFactory, UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db


def test_pools_for_user_by_role(rep, manager, other_team_rep, admin_user, pool, other_pool):
    owned_by_manager = PoolFactory(name="Manager's own", owner=manager)

    assert list(selectors.pools_for_user(rep)) == [pool]
    assert set(selectors.pools_for_user(manager)) == {pool, owned_by_manager}
    assert list(selectors.pools_for_user(other_team_rep)) == []
    assert set(selectors.pools_for_user(admin_user)) == {pool, other_pool, owned_by_manager}
    assert list(selectors.pools_for_user(UserFactory(team=None))) == []


def test_pools_with_sizes_counts_the_leads(rep, pool):
    pooled(pool)
    pooled(pool)
    owned(rep, pool)

    assert [(p, p.lead_count) for p in selectors.pools_with_sizes(rep)] == [(pool, 2)]


def test_pooled_customers_shows_member_pools_only_best_first(rep, pool, other_pool):
    low, high = pooled(pool, priority_score=10), pooled(pool, priority_score=700)
    pooled(other_pool, priority_score=999)
    owned(rep, pool)

    assert list(selectors.pooled_customers(user=rep)) == [high, low]
    assert list(selectors.pooled_customers(user=rep, pool_id=other_pool.pk)) == []


def test_pooled_customers_filters_and_search(rep, pool):
    match = pooled(pool, name="Blue Harbour Logistics", industry=Industry.LOGISTICS)
    pooled(pool, name="Red Mountain Energy", industry=Industry.ENERGY)

    by_name = selectors.pooled_customers(user=rep, filters=selectors.PooledFilters(search="harbour"))
    by_industry = selectors.pooled_customers(user=rep, filters=selectors.PooledFilters(industry="logistics"))

    assert list(by_name) == [match]
    assert list(by_industry) == [match]


def test_a_hidden_phone_cannot_be_found_by_searching_for_it(rep, pool):
    lead = pooled(pool, phone="13912345678")
    assert pool.hide_contacts

    assert (
        list(selectors.pooled_customers(user=rep, filters=selectors.PooledFilters(search="13912345678")))
        == []
    )
    pool.hide_contacts = False
    pool.save()
    assert list(
        selectors.pooled_customers(user=rep, filters=selectors.PooledFilters(search="13912345678"))
    ) == [lead]


def test_contacts_are_masked_while_pooled_in_a_hiding_pool_and_shown_once_claimed(rep, pool):
    lead = pooled(pool, phone="13812345678", email="buyer@acme.example")

    masked = selectors.masked_contact(lead)
    assert (masked.phone, masked.email, masked.hidden) == ("138****5678", "b***@acme.example", True)

    claimed = services.claim_customer(rep=rep, customer_id=lead.pk)
    shown = selectors.masked_contact(claimed)
    assert (shown.phone, shown.email, shown.hidden) == ("13812345678", "buyer@acme.example", False)


def test_contacts_show_in_a_pool_that_does_not_hide_them(pool):
    pool.hide_contacts = False
    pool.save()
    lead = pooled(pool, phone="13812345678")

    assert selectors.masked_contact(lead).phone == "13812345678"


@pytest.mark.parametrize(
    ("phone", "masked"),
    [("", ""), ("123", "***"), ("12345678", "****5678"), ("+8613812345678", "+86*******5678")],
)
def test_mask_phone(phone, masked):
    assert selectors.mask_phone(phone) == masked


def test_a_new_owner_sees_the_whole_history_of_the_lead(rep, other_rep, pool):
    lead = pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=lead.pk)
    services.release_customer(actor=other_rep, customer_id=lead.pk, reason="no_budget", note="Next year")
    services.claim_customer(rep=rep, customer_id=lead.pk)

    history = list(selectors.pool_events(user=rep, filters=selectors.EventFilters(customer_id=lead.pk)))

    assert [e.kind for e in history] == [PoolEventKind.CLAIM, PoolEventKind.RELEASE, PoolEventKind.CLAIM]
    assert history[1].reason == "no_budget"
    assert history[1].note == "Next year"
    assert selectors.release_reason_labels()["no_budget"] == "No budget"
    assert list(selectors.pool_events(user=other_rep)) == []  # no longer their customer


def test_pool_events_by_pool_and_kind_for_managers(manager, rep, other_team_rep, pool, other_pool):
    a, b = pooled(pool), pooled(pool)
    services.claim_customer(rep=rep, customer_id=a.pk)
    services.claim_customer(rep=rep, customer_id=b.pk)
    services.release_customer(actor=rep, customer_id=b.pk, reason="no_need")
    elsewhere = pooled(other_pool)
    other_pool.teams.add(other_team_rep.team)
    services.claim_customer(rep=other_team_rep, customer_id=elsewhere.pk)

    mine = selectors.pool_events(user=manager, filters=selectors.EventFilters(pool_id=pool.pk))
    claims = selectors.pool_events(user=manager, filters=selectors.EventFilters(kind=PoolEventKind.CLAIM))

    assert mine.count() == 3
    assert {e.customer_id for e in claims} == {a.pk, b.pk}


def test_pool_events_query_count_does_not_grow_with_rows(rep, pool, django_assert_num_queries):
    for _ in range(5):
        services.claim_customer(rep=rep, customer_id=pooled(pool).pk)

    with django_assert_num_queries(1):
        events = list(selectors.pool_events(user=rep))
        labels = [(e.actor.username, e.to_owner.username, e.from_pool.name, e.customer.name) for e in events]

    assert len(labels) == 5


def test_rep_loads_against_the_limits(manager, rep, other_rep, pool, django_assert_num_queries):
    pool.max_held_per_rep, pool.max_claims_per_day = 5, 2
    pool.save()
    services.claim_customer(rep=rep, customer_id=pooled(pool).pk)
    owned(rep, pool)

    with django_assert_num_queries(2):
        loads = {load.rep: load for load in selectors.rep_loads(pool=pool, reps=[rep, other_rep])}

    assert (loads[rep].held, loads[rep].taken_today, loads[rep].remaining) == (2, 1, 1)
    assert (loads[other_rep].held, loads[other_rep].remaining) == (0, 2)
    assert set(selectors.assignable_reps(actor=manager, pool=pool)) == {rep, other_rep}
