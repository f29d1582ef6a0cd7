"""Automatic distribution of pool leads: round robin and least-loaded."""

import pytest

from customers.models import Customer
from public_pool import services
from public_pool.exceptions import NotAllowed
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db


@pytest.fixture
def reps(team, manager):
    return [UserFactory(username=f"r{i}", team=team) for i in range(3)]


def test_round_robin_deals_leads_in_turn_best_first(manager, reps, pool):
    leads = [pooled(pool, priority_score=900 - i) for i in range(6)]

    result = services.distribute_pool_leads(
        actor=manager, pool_id=pool.pk, strategy="round_robin", rep_ids=[r.pk for r in reps]
    )

    assert result.assigned == {
        reps[0].pk: [leads[0].pk, leads[3].pk],
        reps[1].pk: [leads[1].pk, leads[4].pk],
        reps[2].pk: [leads[2].pk, leads[5].pk],
    }
    events = PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN)
    assert events.count() == 6
    assert set(events.values_list("reason", "actor_id")) == {("round_robin", manager.pk)}


def test_round_robin_continues_after_the_last_rep_served(manager, reps, pool):
    first, second = pooled(pool, priority_score=2), pooled(pool, priority_score=1)
    services.distribute_pool_leads(actor=manager, pool_id=pool.pk, rep_ids=[r.pk for r in reps], max_leads=1)

    result = services.distribute_pool_leads(actor=manager, pool_id=pool.pk, rep_ids=[r.pk for r in reps])

    assert Customer.objects.get(pk=first.pk).owner == reps[0]
    assert result.assigned == {reps[1].pk: [second.pk]}


def test_distribution_skips_away_reps_and_reps_at_their_limit(manager, reps, pool):
    pool.max_held_per_rep = 2
    pool.save()
    away, full, free = reps
    away.is_away = True
    away.save()
    owned(full, pool)
    owned(full, pool)
    leads = [pooled(pool) for _ in range(5)]

    result = services.distribute_pool_leads(actor=manager, pool_id=pool.pk, rep_ids=[r.pk for r in reps])

    assert result.skipped_reps == {away.pk: "away", full.pk: "limit_reached"}
    assert result.assigned == {free.pk: [leads[0].pk, leads[1].pk]}
    assert Customer.objects.filter(pool=pool).count() == 3


def test_least_loaded_gives_leads_to_the_emptiest_reps(manager, reps, pool):
    for _ in range(3):
        owned(reps[0], pool)
    owned(reps[1], pool)
    for _ in range(5):
        pooled(pool)

    result = services.distribute_pool_leads(
        actor=manager, pool_id=pool.pk, strategy="least_loaded", rep_ids=[r.pk for r in reps]
    )

    loads = {rep.pk: Customer.objects.filter(owner=rep, home_pool=pool).count() for rep in reps}
    assert loads == {reps[0].pk: 3, reps[1].pk: 3, reps[2].pk: 3}
    assert reps[0].pk not in result.assigned


def test_distribution_never_gives_a_rep_a_lead_in_their_cooldown(manager, reps, pool):
    pool.cooldown_days = 5
    pool.save()
    lead = pooled(pool)
    PoolEvent.objects.create(customer=lead, kind=PoolEventKind.RELEASE, from_owner=reps[0], to_pool=pool)

    result = services.distribute_pool_leads(actor=manager, pool_id=pool.pk, rep_ids=[reps[0].pk, reps[1].pk])

    assert result.assigned == {reps[1].pk: [lead.pk]}


def test_reps_may_not_distribute(reps, pool):
    pooled(pool)

    with pytest.raises(NotAllowed):
        services.distribute_pool_leads(actor=reps[0], pool_id=pool.pk)

    assert not PoolEvent.objects.exists()


def test_by_default_the_managers_member_reps_get_leads(manager, reps, other_team_rep, pool):
    for _ in range(3):
        pooled(pool)

    result = services.distribute_pool_leads(actor=manager, pool_id=pool.pk)

    assert set(result.assigned) == {r.pk for r in reps}
    assert result.total == 3
