"""Customer lifetime value and value tiers A/B/C: hand-worked CLVs, both tier modes, idempotence,
and the public pool's recycle rules filtering on the tier.

Runs are "as of" 2026-01-01 12:00 Asia/Shanghai; lifespan 3 years, gross margin 0.5, so a
customer of at most one year has CLV = won amount x 1 x 3 x 0.5 = 1.5 x won amount."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from customers.models import Customer, DealStage, ValueTier
from metrics.models import ValueTierSettings
from metrics.selectors import tiers
from metrics.services import tiers as tiers_services
from public_pool import services as pool_services
from tests.factories import CustomerFactory, DealFactory, PoolFactory, RecycleRuleFactory

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
AS_OF = dt.datetime(2026, 1, 1, 12, tzinfo=SH)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SH)


@pytest.fixture(autouse=True)
def clv_settings(settings):
    settings.METRICS_CLV_LIFESPAN_YEARS = 3
    settings.METRICS_CLV_GROSS_MARGIN = 0.5


def buyer(owner, *deals):
    """A customer with won deals ``(moment, amount)``."""
    customer = CustomerFactory(owner=owner)
    for moment, amount in deals:
        DealFactory(customer=customer, stage=DealStage.WON, closed_at=moment, amount=Decimal(amount))
    return customer


def tier_of(customer):
    return Customer.objects.values_list("value_tier", flat=True).get(pk=customer.pk)


def test_clv_is_won_amount_per_year_times_lifespan_and_margin(rep):
    # First purchase 2 Jan 2024, 730 local days before 1 Jan 2026 (2024 is a leap year): 2 years.
    # Won 4000 + 6000 = 10000 → 10000 / 2 x 3 x 0.5 = 7500.
    veteran = buyer(rep, (at(2024, 1, 2, 10), "4000"), (at(2025, 6, 1), "6000"))
    # One purchase a month ago counts as one year: 2000 x 3 x 0.5 = 3000.
    newcomer = buyer(rep, (at(2025, 12, 1), "2000"))
    # Lost and open deals and wins after the as-of moment are not purchases.
    DealFactory(customer=newcomer, stage=DealStage.LOST, closed_at=at(2025, 12, 2), amount=Decimal(9000))
    DealFactory(customer=newcomer, stage=DealStage.LEAD, amount=Decimal(9000))
    DealFactory(customer=newcomer, stage=DealStage.WON, closed_at=at(2026, 1, 2), amount=Decimal(9000))
    prospect = CustomerFactory(owner=rep)

    values = tiers.clv_by_customer(customer_ids=[veteran.pk, newcomer.pk, prospect.pk], as_of=AS_OF)

    assert values == {veteran.pk: Decimal("7500.00"), newcomer.pk: Decimal("3000.00")}


def test_relative_tiers_top_20_next_30_rest_and_no_tier_without_a_purchase(rep):
    # Ten customers of this year with won amounts 1000 … 10000 (CLV 1.5 x that).
    customers = [buyer(rep, (at(2025, 6, 1), str(1000 * n))) for n in range(1, 11)]
    prospect = CustomerFactory(owner=rep)

    result = tiers_services.recompute_value_tiers(as_of=AS_OF)

    # Cumulative shares by CLV descending: 10000 → 0.1, 9000 → 0.2 (A); 8000…6000 → 0.3…0.5 (B).
    assert [tier_of(c) for c in reversed(customers)] == ["A"] * 2 + ["B"] * 3 + ["C"] * 5
    assert tier_of(prospect) == ""
    assert (result.changed, result.a, result.b, result.c, result.none) == (10, 2, 3, 5, 1)


def test_equal_clv_shares_a_tier(rep):
    # Five customers, two tied at the top: both share 0.4 > 0.2, so both are B, not one A.
    tied = [buyer(rep, (at(2025, 6, 1), "5000")) for _ in range(2)]
    rest = [buyer(rep, (at(2025, 6, 1), amount)) for amount in ("3000", "2000", "1000")]

    tiers_services.recompute_value_tiers(as_of=AS_OF)

    assert [tier_of(c) for c in tied + rest] == ["B", "B", "C", "C", "C"]


def test_admin_thresholds_replace_the_percentages(rep):
    ValueTierSettings.objects.create(tier_a_min_clv=Decimal(9000), tier_b_min_clv=Decimal(6000))
    # CLV = 1.5 x amount: 6000 → 9000 (A, the threshold itself), 5000 → 7500 (B),
    # 4000 → 6000 (B, the threshold itself), 3000 → 4500 (C).
    customers = [buyer(rep, (at(2025, 6, 1), amount)) for amount in ("6000", "5000", "4000", "3000")]

    tiers_services.recompute_value_tiers(as_of=AS_OF)

    assert [tier_of(c) for c in customers] == ["A", "B", "B", "C"]


def test_recompute_is_idempotent_and_clears_tiers_that_no_longer_apply(rep):
    customers = [buyer(rep, (at(2025, 6, 1), str(1000 * n))) for n in range(1, 6)]
    former = CustomerFactory(owner=rep)
    Customer.objects.filter(pk=former.pk).update(value_tier=ValueTier.A)

    first = tiers_services.recompute_value_tiers(as_of=AS_OF)
    before = list(Customer.objects.order_by("pk").values_list("pk", "value_tier", "updated_at"))
    second = tiers_services.recompute_value_tiers(as_of=AS_OF)

    # Five buyers get tiers (top 1 of 5 is A: share 0.2) and the former A loses its tier.
    assert first.changed == 6
    assert [tier_of(c) for c in reversed(customers)] == ["A", "B", "C", "C", "C"]
    assert tier_of(former) == ""
    assert second.changed == 0
    assert list(Customer.objects.order_by("pk").values_list("pk", "value_tier", "updated_at")) == before


def test_changed_tiers_mark_recycle_policies_stale_and_rules_can_select_a_tier(rep):
    pool = PoolFactory(is_default=True)
    general = RecycleRuleFactory(pool=pool, priority=100, no_followup_days=30)
    key_accounts = RecycleRuleFactory(pool=pool, priority=10, value_tier=ValueTier.A, no_followup_days=90)
    top = buyer(rep, (at(2025, 6, 1), "9000"))
    others = [buyer(rep, (at(2025, 6, 1), amount)) for amount in ("1000", "2000", "3000", "4000")]
    pool_services.refresh_recycle_policies(customers=Customer.objects.all())
    assert not Customer.objects.filter(recycle_policy_stale=True).exists()

    tiers_services.recompute_value_tiers(as_of=AS_OF)
    stale = set(Customer.objects.filter(recycle_policy_stale=True).values_list("pk", flat=True))
    pool_services.refresh_stale_recycle_policies()

    assert stale == {top.pk, *(c.pk for c in others)}
    rules = dict(Customer.objects.values_list("pk", "recycle_rule_id"))
    assert rules[top.pk] == key_accounts.pk
    assert {rules[c.pk] for c in others} == {general.pk}


def test_command_recomputes_tiers(rep):
    customer = buyer(rep, (at(2025, 6, 1), "1000"))

    call_command("recompute_value_tiers", "--as-of", "2026-01-01T12:00")

    assert tier_of(customer) == ValueTier.C  # one buyer: share 1.0
