"""The public pool's step of ``seed_demo``: rules, home pools, events consistent with the customers."""

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, F, Q

from customers import demo
from customers.models import Customer
from public_pool.models import Pool, PoolEvent, PoolEventKind, RecycleRule
from public_pool.services import policies, priority

pytestmark = pytest.mark.django_db

AS_OF = "2025-06-30T18:00:00+08:00"


@pytest.fixture
def seeded() -> str:
    out = StringIO()
    call_command("seed_demo", customers=600, reps=6, managers=2, as_of=AS_OF, stdout=out)
    return out.getvalue()


def test_pool_rules_come_before_the_customers_and_the_history_after():
    names = [step.name for step in demo.STEPS]
    assert names.index("pool rules") == names.index("pools") + 1
    assert names.index("pool rules") < names.index("customers")
    assert names.index("pool history") == names.index("customers") + 1


def test_every_pool_gets_an_a_level_rule_and_a_general_rule(seeded):
    pools = Pool.objects.annotate(
        rules=Count("recycle_rules"),
        a_rules=Count("recycle_rules", filter=Q(recycle_rules__level="A")),
    )
    assert pools.count() >= 2
    assert all(pool.rules == 2 and pool.a_rules == 1 for pool in pools)
    assert set(RecycleRule.objects.values_list("warn_days", flat=True)) == {7}
    assert Pool.objects.filter(is_default=True).count() == 1


def test_each_pooled_customer_has_an_entry_event_at_pooled_at(seeded):
    pooled = Customer.objects.filter(pool__isnull=False)
    assert pooled.exists()
    entered = PoolEvent.objects.filter(customer=F("customer"), to_pool__isnull=False)
    missing = pooled.exclude(
        pk__in=entered.filter(customer__pool=F("to_pool"), at=F("customer__pooled_at")).values("customer_id")
    )
    assert list(missing.values_list("pk", flat=True)) == []


def test_each_customer_taken_from_a_pool_has_its_claim_at_claimed_at(seeded):
    taken = Customer.objects.filter(owner__isnull=False, claimed_at__gt=F("created_at"))
    assert taken.exists()
    claims = PoolEvent.objects.filter(
        kind=PoolEventKind.CLAIM,
        to_owner=F("customer__owner"),
        at=F("customer__claimed_at"),
        from_pool=F("customer__home_pool"),
    )
    missing = taken.exclude(pk__in=claims.values("customer_id"))
    assert list(missing.values_list("pk", flat=True)) == []
    assert not taken.filter(home_pool__isnull=True).exists()


def test_customers_their_rep_entered_have_no_pool_events_and_no_home_pool(seeded):
    entered = Customer.objects.filter(owner__isnull=False, claimed_at=F("created_at"))
    assert entered.exists()
    assert not PoolEvent.objects.filter(customer__in=entered).exists()
    assert not entered.filter(home_pool__isnull=False).exists()


def test_history_has_releases_with_reasons_and_recycles_naming_the_rule(seeded):
    releases = PoolEvent.objects.filter(kind=PoolEventKind.RELEASE)
    recycles = PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE)
    assert releases.exists()
    assert recycles.exists()
    assert not releases.filter(reason="").exists()
    assert not recycles.filter(rule__isnull=True).exists()
    assert not recycles.exclude(rule__pool=F("to_pool")).exists()
    # Every event happens no later than the seed's end and no earlier than the customer.
    assert not PoolEvent.objects.filter(at__lt=F("customer__created_at")).exists()


def test_owned_customers_get_the_deadline_the_services_compute(seeded):
    owned = Customer.objects.filter(owner__isnull=False)
    seeded_values = list(
        owned.order_by("pk").values_list("pk", "recycle_rule_id", "recycle_due_at", "recycle_policy_stale")
    )
    assert owned.filter(recycle_due_at__isnull=False).exists()
    assert not owned.filter(recycle_rule__isnull=True).exists()
    # The generic (slow, set-based) service must agree with what the seed wrote.
    policies.refresh_recycle_policies(customers=Customer.objects.all())
    assert (
        list(
            owned.order_by("pk").values_list(
                "pk", "recycle_rule_id", "recycle_due_at", "recycle_policy_stale"
            )
        )
        == seeded_values
    )
    assert all(not stale for *_rest, stale in seeded_values)


def test_pooled_leads_get_the_scores_and_home_pool_the_services_give(seeded):
    pooled = Customer.objects.filter(pool__isnull=False).order_by("pk")
    seeded_scores = list(pooled.values_list("pk", "priority_score"))
    assert len({score for _pk, score in seeded_scores}) > 5
    assert not pooled.exclude(home_pool=F("pool")).exists()
    assert not pooled.filter(recycle_policy_stale=True).exists()

    priority.recompute_priorities(customers=Customer.objects.all(), now=datetime.fromisoformat(AS_OF))

    assert list(pooled.values_list("pk", "priority_score")) == seeded_scores


def test_recycle_pool_dry_run_lists_due_customers_and_changes_nothing(seeded):
    before = (PoolEvent.objects.count(), Customer.objects.filter(owner__isnull=False).count())
    out = StringIO()
    call_command("recycle_pool", dry_run=True, as_of="2025-12-31T00:00:00+08:00", stdout=out)
    assert "would recycle customer" in out.getvalue()
    assert (PoolEvent.objects.count(), Customer.objects.filter(owner__isnull=False).count()) == before
