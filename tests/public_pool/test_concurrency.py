"""Invariants 2, 3 and 5 under real concurrency: threads with their own PostgreSQL connections."""

import pytest

from customers.models import Customer
from public_pool import services
from public_pool.exceptions import AlreadyClaimed, DailyLimitReached, LimitReached
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pooled, run_at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_twenty_reps_claiming_one_lead_at_once_make_exactly_one_owner(team, pool):
    reps = [UserFactory(team=team) for _ in range(20)]
    lead = pooled(pool)

    outcomes = run_at_once(20, lambda i: services.claim_customer(rep=reps[i], customer_id=lead.pk).owner_id)

    winners = [value for status, value in outcomes if status == "ok"]
    losers = [value for status, value in outcomes if status == "error"]
    assert len(winners) == 1
    assert len(losers) == 19
    assert all(isinstance(error, AlreadyClaimed) and error.code == "already_claimed" for error in losers)
    lead.refresh_from_db()
    assert lead.owner_id == winners[0]
    assert list(PoolEvent.objects.filter(customer=lead).values_list("kind", "to_owner_id")) == [
        (PoolEventKind.CLAIM, winners[0])
    ]


def test_one_rep_firing_twenty_claims_with_five_slots_left_gets_five(rep, pool):
    pool.max_held_per_rep = 8
    pool.save()
    for _ in range(3):
        owned(rep, pool)
    leads = [pooled(pool) for _ in range(20)]

    outcomes = run_at_once(20, lambda i: services.claim_customer(rep=rep, customer_id=leads[i].pk))

    assert sum(status == "ok" for status, _ in outcomes) == 5
    errors = [value for status, value in outcomes if status == "error"]
    assert len(errors) == 15
    assert all(isinstance(e, LimitReached) for e in errors)
    assert Customer.objects.filter(owner=rep, home_pool=pool).count() == 8
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM, to_owner=rep).count() == 5


def test_the_daily_limit_holds_under_twenty_concurrent_claims(rep, pool):
    pool.max_claims_per_day = 4
    pool.save()
    leads = [pooled(pool) for _ in range(20)]

    outcomes = run_at_once(20, lambda i: services.claim_customer(rep=rep, customer_id=leads[i].pk))

    assert sum(status == "ok" for status, _ in outcomes) == 4
    assert all(isinstance(value, DailyLimitReached) for status, value in outcomes if status == "error")
    assert Customer.objects.filter(owner=rep).count() == 4
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM).count() == 4


def test_concurrent_claim_next_best_gives_every_rep_a_different_lead(team, pool):
    reps = [UserFactory(team=team) for _ in range(12)]
    for score in range(10):
        pooled(pool, priority_score=score)

    outcomes = run_at_once(12, lambda i: services.claim_next_best(rep=reps[i], pool_id=pool.pk).pk)

    claimed = [value for status, value in outcomes if status == "ok"]
    assert len(claimed) == 10 == len(set(claimed))
    assert [type(value).__name__ for status, value in outcomes if status == "error"] == ["PoolEmpty"] * 2
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM).count() == 10
    assert not Customer.objects.filter(pool=pool).exists()


@pytest.mark.parametrize("exclusive", [True, False], ids=["advisory-lock", "skip-locked-sharing"])
def test_two_recycle_runs_at_once_recycle_each_customer_once(rep, other_rep, pool, exclusive):
    rule = RecycleRuleFactory(pool=pool, no_followup_days=10)
    stale = [owned(rep if i % 2 else other_rep, pool, claimed_days_ago=30) for i in range(60)]
    fresh = owned(rep, pool, claimed_days_ago=1)

    outcomes = run_at_once(
        2, lambda i: services.recycle_stale_customers(batch_size=7, exclusive=exclusive).recycled
    )

    assert [status for status, _ in outcomes] == ["ok", "ok"]
    assert sum(value for _, value in outcomes) == 60
    assert Customer.objects.filter(pk__in=[c.pk for c in stale], pool=pool, owner__isnull=True).count() == 60
    events = PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE)
    assert events.count() == 60
    assert set(events.values_list("customer_id", flat=True)) == {c.pk for c in stale}
    assert set(events.values_list("rule_id", flat=True)) == {rule.pk}
    fresh.refresh_from_db()
    assert fresh.owner == rep


def test_a_claim_racing_a_recycle_run_never_double_moves(team, pool):
    """Recycling returns customers while reps claim from the same pool: every customer ends in
    one state with one event per move."""
    reps = [UserFactory(team=team) for _ in range(4)]
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    stale = [owned(reps[0], pool, claimed_days_ago=30) for _ in range(20)]
    leads = [pooled(pool) for _ in range(8)]

    def work(i: int) -> object:
        if i == 0:
            return services.recycle_stale_customers(batch_size=5).recycled
        return [services.claim_customer(rep=reps[i], customer_id=c.pk).pk for c in leads[i - 1 :: 3]]

    outcomes = run_at_once(4, work)

    assert all(status == "ok" for status, _ in outcomes)
    assert outcomes[0][1] == 20
    assert PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE).count() == 20
    assert PoolEvent.objects.filter(kind=PoolEventKind.CLAIM).count() == 8
    assert Customer.objects.filter(pk__in=[c.pk for c in stale], pool=pool).count() == 20
