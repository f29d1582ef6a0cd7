"""Bulk change of owner (``services.transfer_customers``): who may, limits, override, events."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer
from public_pool import services
from public_pool.exceptions import InvalidInput, LimitReached, NotAllowed
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pooled, run_at_once

pytestmark = pytest.mark.django_db


def test_bulk_transfer_hands_customers_of_two_reps_to_a_third_with_one_event_each(
    manager, rep, other_rep, team, pool
):
    RecycleRuleFactory(pool=pool, name="Thirty quiet days", no_followup_days=30)
    third = UserFactory(username="third", team=team)
    mine = owned(rep, pool, claimed_days_ago=20)
    theirs = owned(other_rep, pool, claimed_days_ago=25)
    already = owned(third, pool)
    in_pool = pooled(pool)

    result = services.transfer_customers(
        actor=manager,
        customer_ids=[mine.pk, theirs.pk, already.pk, in_pool.pk, 999_999],
        to_rep=third,
        note="reorg",
    )

    assert sorted(result.transferred) == sorted([mine.pk, theirs.pk])
    assert result.skipped == {already.pk: "already_theirs", in_pool.pk: "not_owned", 999_999: "not_found"}
    assert not result.override_used
    for customer, before in ((mine, rep), (theirs, other_rep)):
        customer.refresh_from_db()
        assert (customer.owner_id, customer.team_id, customer.home_pool_id) == (third.pk, team.pk, pool.pk)
        # A fresh ownership: the clock of the rule starts now.
        assert customer.claimed_at > timezone.now() - timedelta(minutes=1)
        assert customer.recycle_due_at > timezone.now() + timedelta(days=29)
        assert list(
            PoolEvent.objects.filter(customer=customer).values_list("kind", "from_owner", "to_owner", "note")
        ) == [(PoolEventKind.TRANSFER, before.pk, third.pk, "reorg")]
    in_pool.refresh_from_db()
    assert in_pool.pool_id == pool.pk
    assert not PoolEvent.objects.filter(customer__in=[already, in_pool]).exists()


def test_bulk_transfer_past_the_held_limit_changes_nothing(manager, rep, other_rep, pool):
    pool.max_held_per_rep = 2
    pool.save()
    owned(other_rep, pool)
    customers = [owned(rep, pool) for _ in range(2)]

    with pytest.raises(LimitReached):
        services.transfer_customers(actor=manager, customer_ids=[c.pk for c in customers], to_rep=other_rep)

    assert Customer.objects.filter(owner=rep).count() == 2
    assert not PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).exists()


def test_bulk_transfer_with_override_passes_the_limit_and_logs_it(manager, rep, other_rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    customers = [owned(rep, pool) for _ in range(2)]

    result = services.transfer_customers(
        actor=manager, customer_ids=[c.pk for c in customers], to_rep=other_rep, override=True
    )

    assert result.override_used
    assert Customer.objects.filter(owner=other_rep).count() == 2
    assert PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER, override=True).count() == 2


def test_a_manager_cannot_take_customers_from_another_teams_rep(manager, rep, other_team_rep, pool):
    theirs = owned(other_team_rep, pool)
    mine = owned(rep, pool)

    with pytest.raises(NotAllowed):
        services.transfer_customers(actor=manager, customer_ids=[mine.pk, theirs.pk], to_rep=rep)

    assert Customer.objects.get(pk=theirs.pk).owner_id == other_team_rep.pk
    assert not PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).exists()


def test_a_rep_cannot_bulk_transfer(rep, other_rep, pool):
    customer = owned(rep, pool)

    with pytest.raises(NotAllowed):
        services.transfer_customers(actor=rep, customer_ids=[customer.pk], to_rep=other_rep)

    assert Customer.objects.get(pk=customer.pk).owner_id == rep.pk
    assert not PoolEvent.objects.exists()


def test_bulk_transfer_refuses_an_empty_or_oversized_pick(manager, rep):
    with pytest.raises(InvalidInput):
        services.transfer_customers(actor=manager, customer_ids=[], to_rep=rep)
    with pytest.raises(InvalidInput):
        services.transfer_customers(
            actor=manager, customer_ids=range(1, services.MAX_BULK_TRANSFER + 2), to_rep=rep
        )
    assert not PoolEvent.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_bulk_transfers_racing_for_the_last_room_make_one_winner(manager, rep, other_rep, team, pool):
    pool.max_held_per_rep = 2
    pool.save()
    target = UserFactory(username="target", team=team)
    batches = [[owned(rep, pool).pk for _ in range(2)], [owned(other_rep, pool).pk for _ in range(2)]]

    outcomes = run_at_once(
        2, lambda i: services.transfer_customers(actor=manager, customer_ids=batches[i], to_rep=target)
    )

    assert sorted(status for status, _ in outcomes) == ["error", "ok"]
    assert all(isinstance(value, LimitReached) for status, value in outcomes if status == "error")
    assert Customer.objects.filter(owner=target).count() == 2
    assert PoolEvent.objects.filter(kind=PoolEventKind.TRANSFER).count() == 2
