"""Claim, claim next best, release, assign, transfer, move and create: one by one."""

from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Customer, Role
from customers.services import CustomerData
from public_pool import selectors, services
from public_pool.exceptions import (
    AlreadyClaimed,
    Cooldown,
    DailyLimitReached,
    LimitReached,
    NotAllowed,
    NotOwned,
    NotPoolMember,
    PoolEmpty,
    PoolRequired,
    ReasonRequired,
)
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db


def test_claim_gives_the_lead_to_the_rep_with_one_event(rep, pool):
    lead = pooled(pool)

    claimed = services.claim_customer(rep=rep, customer_id=lead.pk)

    assert (claimed.owner, claimed.team, claimed.pool, claimed.home_pool) == (rep, rep.team, None, pool)
    assert claimed.claimed_at is not None
    assert claimed.pooled_at is None
    event = PoolEvent.objects.get(customer=lead)
    assert (event.kind, event.actor, event.to_owner, event.from_pool, event.from_owner) == (
        PoolEventKind.CLAIM,
        rep,
        rep,
        pool,
        None,
    )


def test_claim_matches_the_pool_rule_and_sets_a_deadline(rep, pool):
    rule = services.create_recycle_rule(
        actor=UserFactory(admin=True),
        pool_id=pool.pk,
        rule=services.RuleData(name="30d", no_followup_days=30),
    )
    lead = pooled(pool)

    claimed = services.claim_customer(rep=rep, customer_id=lead.pk)

    assert claimed.recycle_rule == rule
    assert claimed.recycle_idle_days == 30
    assert claimed.recycle_policy_stale is False
    assert abs(claimed.recycle_due_at - (claimed.claimed_at + timedelta(days=30))) < timedelta(seconds=1)


def test_second_claim_is_already_claimed_and_changes_nothing(rep, other_rep, pool):
    lead = pooled(pool)
    services.claim_customer(rep=other_rep, customer_id=lead.pk)

    with pytest.raises(AlreadyClaimed) as error:
        services.claim_customer(rep=rep, customer_id=lead.pk)

    assert error.value.code == "already_claimed"
    lead.refresh_from_db()
    assert lead.owner == other_rep
    assert PoolEvent.objects.filter(customer=lead).count() == 1


def test_claim_from_a_pool_the_team_may_not_use_is_refused(rep, other_pool):
    lead = pooled(other_pool)

    with pytest.raises(NotPoolMember):
        services.claim_customer(rep=rep, customer_id=lead.pk)

    lead.refresh_from_db()
    assert (lead.owner, lead.pool) == (None, other_pool)
    assert not PoolEvent.objects.exists()


def test_held_limit_counts_customers_taken_from_the_pool(rep, pool):
    pool.max_held_per_rep = 2
    pool.save()
    owned(rep, pool)
    owned(rep, pool)
    CustomerFactory(owner=rep)  # the rep's own customer from outside the pool does not count
    lead = pooled(pool)

    with pytest.raises(LimitReached) as error:
        services.claim_customer(rep=rep, customer_id=lead.pk)

    assert (error.value.code, error.value.limit, error.value.held) == ("limit_reached", 2, 2)
    lead.refresh_from_db()
    assert lead.owner is None
    assert not PoolEvent.objects.filter(customer=lead).exists()


def test_released_customers_free_room_under_the_held_limit(rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    first = pooled(pool)
    services.claim_customer(rep=rep, customer_id=first.pk)
    services.release_customer(actor=rep, customer_id=first.pk, reason="no_need")
    second = pooled(pool)

    assert services.claim_customer(rep=rep, customer_id=second.pk).owner == rep


def test_daily_limit_counts_todays_claims_from_the_pool(rep, pool):
    pool.max_claims_per_day = 2
    pool.save()
    leads = [pooled(pool) for _ in range(3)]
    services.claim_customer(rep=rep, customer_id=leads[0].pk)
    services.claim_customer(rep=rep, customer_id=leads[1].pk)
    services.release_customer(actor=rep, customer_id=leads[1].pk, reason="no_need")  # still counts today

    with pytest.raises(DailyLimitReached) as error:
        services.claim_customer(rep=rep, customer_id=leads[2].pk)

    assert (error.value.code, error.value.taken_today) == ("daily_limit_reached", 2)
    leads[2].refresh_from_db()
    assert leads[2].owner is None


def test_yesterdays_claims_do_not_count_against_today(rep, pool):
    pool.max_claims_per_day = 1
    pool.save()
    midnight = selectors.local_midnight(timezone.now())
    earlier = owned(rep, pool)
    PoolEvent.objects.create(
        customer=earlier,
        kind=PoolEventKind.CLAIM,
        actor=rep,
        to_owner=rep,
        from_pool=pool,
        at=midnight - timedelta(minutes=1),
    )
    lead, later = pooled(pool), pooled(pool)

    assert services.claim_customer(rep=rep, customer_id=lead.pk).owner == rep
    with pytest.raises(DailyLimitReached):
        services.claim_customer(rep=rep, customer_id=later.pk)


def test_cooldown_stops_the_releasing_rep_but_not_a_colleague(rep, other_rep, pool):
    pool.cooldown_days = 7
    pool.save()
    lead = pooled(pool)
    services.claim_customer(rep=rep, customer_id=lead.pk)
    services.release_customer(actor=rep, customer_id=lead.pk, reason="no_budget")

    with pytest.raises(Cooldown) as error:
        services.claim_customer(rep=rep, customer_id=lead.pk)

    assert error.value.code == "cooldown"
    assert error.value.until > timezone.now() + timedelta(days=6)
    lead.refresh_from_db()
    assert lead.owner is None
    assert services.claim_customer(rep=other_rep, customer_id=lead.pk).owner == other_rep


def test_cooldown_applies_after_losing_a_lead_to_recycling(rep, pool):
    pool.cooldown_days = 3
    pool.save()
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20)
    services.recycle_stale_customers()

    with pytest.raises(Cooldown):
        services.claim_customer(rep=rep, customer_id=customer.pk)


def test_cooldown_is_over_after_the_days(rep, pool):
    pool.cooldown_days = 1
    pool.save()
    lead = pooled(pool)
    PoolEvent.objects.create(
        customer=lead,
        kind=PoolEventKind.RELEASE,
        actor=rep,
        from_owner=rep,
        to_pool=pool,
        at=timezone.now() - timedelta(days=2),
    )

    assert services.claim_customer(rep=rep, customer_id=lead.pk).owner == rep


def test_claim_next_best_takes_the_highest_priority_lead(rep, pool):
    pooled(pool, priority_score=100)
    best = pooled(pool, priority_score=900)
    pooled(pool, priority_score=500)

    claimed = services.claim_next_best(rep=rep, pool_id=pool.pk)

    assert claimed == best
    assert PoolEvent.objects.get(customer=best).kind == PoolEventKind.CLAIM


def test_claim_next_best_skips_leads_in_the_reps_cooldown(rep, pool):
    pool.cooldown_days = 7
    pool.save()
    released = pooled(pool, priority_score=900)
    PoolEvent.objects.create(customer=released, kind=PoolEventKind.RELEASE, from_owner=rep, to_pool=pool)
    other = pooled(pool, priority_score=100)

    assert services.claim_next_best(rep=rep, pool_id=pool.pk) == other


def test_claim_next_best_of_an_empty_pool_is_pool_empty(rep, pool):
    with pytest.raises(PoolEmpty) as error:
        services.claim_next_best(rep=rep, pool_id=pool.pk)

    assert error.value.code == "pool_empty"
    assert not PoolEvent.objects.exists()


def test_claim_next_best_respects_the_limit(rep, pool):
    pool.max_held_per_rep = 0
    pool.save()
    lead = pooled(pool)

    with pytest.raises(LimitReached):
        services.claim_next_best(rep=rep, pool_id=pool.pk)

    lead.refresh_from_db()
    assert lead.owner is None


def test_release_needs_a_known_reason(rep, pool):
    customer = owned(rep, pool)

    for reason in ("", "   ", "no-such-reason"):
        with pytest.raises(ReasonRequired) as error:
            services.release_customer(actor=rep, customer_id=customer.pk, reason=reason)
        assert error.value.code == "reason_required"

    customer.refresh_from_db()
    assert customer.owner == rep
    assert not PoolEvent.objects.exists()


def test_release_with_other_needs_a_note(rep, pool):
    customer = owned(rep, pool)

    with pytest.raises(ReasonRequired):
        services.release_customer(actor=rep, customer_id=customer.pk, reason="other", note=" ")

    customer.refresh_from_db()
    assert customer.owner == rep


def test_release_returns_the_customer_to_its_pool_with_reason_and_note(rep, pool):
    customer = owned(rep, pool, claimed_days_ago=3)

    released = services.release_customer(
        actor=rep, customer_id=customer.pk, reason="other", note="Moved abroad"
    )

    assert (released.owner, released.team, released.pool) == (None, None, pool)
    assert released.recycle_due_at is None
    assert released.recycle_rule is None
    event = PoolEvent.objects.get(customer=customer)
    assert (event.kind, event.from_owner, event.to_pool, event.reason, event.note) == (
        PoolEventKind.RELEASE,
        rep,
        pool,
        "other",
        "Moved abroad",
    )


def test_release_of_a_customer_without_a_pool_goes_to_the_default_pool(rep):
    default = PoolFactory(is_default=True)
    customer = CustomerFactory(owner=rep)

    assert services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need").pool == default


def test_release_without_any_pool_to_go_to_is_refused(rep):
    customer = CustomerFactory(owner=rep)

    with pytest.raises(PoolRequired):
        services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need")

    customer.refresh_from_db()
    assert customer.owner == rep


def test_a_colleague_may_not_release_someone_elses_customer(rep, other_rep, pool):
    customer = owned(rep, pool)

    with pytest.raises(NotAllowed):
        services.release_customer(actor=other_rep, customer_id=customer.pk, reason="no_need")

    customer.refresh_from_db()
    assert customer.owner == rep


def test_the_owners_manager_may_release(rep, manager, pool):
    customer = owned(rep, pool)

    services.release_customer(actor=manager, customer_id=customer.pk, reason="no_need")

    assert PoolEvent.objects.get(customer=customer).actor == manager


def test_release_of_a_pooled_customer_is_not_owned(rep, pool):
    lead = pooled(pool)

    with pytest.raises(NotOwned):
        services.release_customer(actor=rep, customer_id=lead.pk, reason="no_need")


def test_manager_assigns_a_lead_to_a_rep(manager, rep, pool):
    lead = pooled(pool)

    assigned = services.assign_customer(actor=manager, customer_id=lead.pk, rep=rep)

    assert assigned.owner == rep
    event = PoolEvent.objects.get(customer=lead)
    assert (event.kind, event.actor, event.to_owner, event.override) == (
        PoolEventKind.ASSIGN,
        manager,
        rep,
        False,
    )


def test_a_rep_may_not_assign(rep, other_rep, pool):
    lead = pooled(pool)

    with pytest.raises(NotAllowed):
        services.assign_customer(actor=other_rep, customer_id=lead.pk, rep=rep)

    lead.refresh_from_db()
    assert lead.owner is None


def test_a_manager_may_not_assign_to_another_teams_rep(manager, other_team_rep, pool):
    lead = pooled(pool)

    with pytest.raises(NotAllowed):
        services.assign_customer(actor=manager, customer_id=lead.pk, rep=other_team_rep)

    lead.refresh_from_db()
    assert lead.owner is None


def test_assignment_obeys_limits_unless_overridden_and_logs_the_override(manager, rep, pool):
    pool.max_held_per_rep = 1
    pool.save()
    owned(rep, pool)
    lead = pooled(pool)

    with pytest.raises(LimitReached):
        services.assign_customer(actor=manager, customer_id=lead.pk, rep=rep)
    lead.refresh_from_db()
    assert lead.owner is None

    services.assign_customer(actor=manager, customer_id=lead.pk, rep=rep, override=True)

    lead.refresh_from_db()
    assert lead.owner == rep
    assert PoolEvent.objects.get(customer=lead).override is True


def test_bulk_assignment_is_all_or_nothing_on_limits(manager, rep, pool):
    pool.max_held_per_rep = 2
    pool.save()
    leads = [pooled(pool) for _ in range(3)]

    with pytest.raises(LimitReached):
        services.assign_customers(actor=manager, rep=rep, customer_ids=[c.pk for c in leads])

    assert Customer.objects.filter(owner=rep).count() == 0
    assert not PoolEvent.objects.exists()


def test_bulk_assignment_skips_leads_someone_took_and_reports_them(manager, rep, other_rep, pool):
    leads = [pooled(pool) for _ in range(3)]
    services.claim_customer(rep=other_rep, customer_id=leads[0].pk)

    result = services.assign_customers(actor=manager, rep=rep, customer_ids=[c.pk for c in leads] + [999999])

    assert sorted(result.assigned) == sorted([leads[1].pk, leads[2].pk])
    assert result.skipped == {leads[0].pk: "already_claimed", 999999: "not_found"}
    assert PoolEvent.objects.filter(kind=PoolEventKind.ASSIGN).count() == 2


def test_transfer_by_the_manager_of_both_reps(manager, rep, other_rep, pool):
    customer = owned(rep, pool, claimed_days_ago=10)

    moved = services.transfer_customer(
        actor=manager, customer_id=customer.pk, to_rep=other_rep, note="Holiday"
    )

    assert (moved.owner, moved.team, moved.home_pool) == (other_rep, other_rep.team, pool)
    assert moved.claimed_at > customer.claimed_at
    event = PoolEvent.objects.get(customer=customer)
    assert (event.kind, event.from_owner, event.to_owner, event.note) == (
        PoolEventKind.TRANSFER,
        rep,
        other_rep,
        "Holiday",
    )


def test_transfer_to_another_teams_rep_needs_an_admin(manager, rep, other_team_rep, admin_user, pool):
    customer = owned(rep, pool)

    with pytest.raises(NotAllowed):
        services.transfer_customer(actor=manager, customer_id=customer.pk, to_rep=other_team_rep)
    customer.refresh_from_db()
    assert customer.owner == rep

    services.transfer_customer(actor=admin_user, customer_id=customer.pk, to_rep=other_team_rep)
    customer.refresh_from_db()
    assert customer.owner == other_team_rep


def test_admin_moves_a_lead_between_pools(admin_user, pool, other_pool):
    lead = pooled(pool)

    moved = services.move_customer_to_pool(actor=admin_user, customer_id=lead.pk, pool_id=other_pool.pk)

    assert moved.pool == other_pool
    event = PoolEvent.objects.get(customer=lead)
    assert (event.kind, event.from_pool, event.to_pool) == (PoolEventKind.MOVE, pool, other_pool)


def test_only_admins_move_between_pools(manager, pool, other_pool):
    lead = pooled(pool)

    with pytest.raises(NotAllowed):
        services.move_customer_to_pool(actor=manager, customer_id=lead.pk, pool_id=other_pool.pk)

    lead.refresh_from_db()
    assert lead.pool == pool


def test_admin_creates_a_customer_into_a_pool(admin_user, pool):
    customer = services.create_pooled_customer(
        actor=admin_user,
        pool_id=pool.pk,
        data=CustomerData(name="Acme Trading Co., Ltd.", phone="138 0000 1111"),
    )

    assert (customer.owner, customer.pool, customer.phone) == (None, pool, "13800001111")
    event = PoolEvent.objects.get(customer=customer)
    assert (event.kind, event.actor, event.to_pool) == (PoolEventKind.CREATE, admin_user, pool)


def test_imported_customers_get_one_import_event_each(admin_user, pool):
    leads = [pooled(pool) for _ in range(3)]
    elsewhere = CustomerFactory(pooled=True)

    written = services.register_imported_customers(
        actor=admin_user, pool_id=pool.pk, customer_ids=[c.pk for c in leads] + [elsewhere.pk]
    )

    assert written == 3
    assert set(PoolEvent.objects.filter(kind=PoolEventKind.IMPORT).values_list("customer_id", flat=True)) == {
        c.pk for c in leads
    }


def test_managers_can_claim_from_pools_of_teams_they_manage(manager, pool):
    assert manager.role == Role.MANAGER
    lead = pooled(pool)

    assert services.claim_customer(rep=manager, customer_id=lead.pk).owner == manager
