"""The stored recycle deadline follows every event that moves it, at once."""

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from customers import services as customer_services
from customers.models import Customer, DealStage, Level, Tag
from public_pool import selectors, services
from public_pool.exceptions import NotAllowed
from tests.factories import DealFactory, UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db

CLOSE = timedelta(seconds=2)


@pytest.fixture
def admin(db):
    return UserFactory(username="pool_admin", admin=True)


@pytest.fixture
def rule(admin, pool):
    return services.create_recycle_rule(
        actor=admin,
        pool_id=pool.pk,
        rule=services.RuleData(name="30/90", no_followup_days=30, no_deal_days=90),
    )


def test_the_deadline_is_the_earlier_trigger(rule, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=70, followup_days_ago=1)

    assert abs(customer.recycle_due_at - (customer.claimed_at + timedelta(days=90))) < CLOSE


def test_a_follow_up_pushes_the_deadline_out_at_once(rule, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    before = customer.recycle_due_at

    customer_services.log_followup(actor=rep, customer=customer, kind="call", note="Called")

    customer.refresh_from_db()
    assert customer.recycle_due_at > before
    assert abs(customer.recycle_due_at - (timezone.now() + timedelta(days=30))) < CLOSE


def test_a_won_deal_after_the_claim_clears_the_no_deal_trigger(admin, rep, pool):
    services.create_recycle_rule(
        actor=admin, pool_id=pool.pk, rule=services.RuleData(name="deal", no_deal_days=60)
    )
    customer = owned(rep, pool, claimed_days_ago=10)
    assert customer.recycle_due_at is not None
    deal = customer_services.create_deal(actor=rep, customer=customer, title="Pilot", amount=Decimal(1000))

    customer_services.move_deal(actor=rep, deal=deal, stage=DealStage.WON)

    customer.refresh_from_db()
    assert customer.recycle_due_at is None
    customer_services.move_deal(actor=rep, deal=deal, stage=DealStage.NEGOTIATION)  # un-won: due again
    customer.refresh_from_db()
    assert customer.recycle_due_at is not None


def test_an_open_deal_at_the_exempt_stage_clears_the_deadline(admin, rep, pool):
    services.create_recycle_rule(
        actor=admin,
        pool_id=pool.pk,
        rule=services.RuleData(name="x", no_followup_days=30, exempt_open_deal_from_stage=DealStage.PROPOSAL),
    )
    customer = owned(rep, pool, claimed_days_ago=10)
    deal = customer_services.create_deal(actor=rep, customer=customer, title="Big", amount=Decimal(5))
    customer.refresh_from_db()
    assert customer.recycle_due_at is not None

    customer_services.move_deal(actor=rep, deal=deal, stage=DealStage.PROPOSAL)

    customer.refresh_from_db()
    assert customer.recycle_due_at is None


def test_protection_clears_the_deadline(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=10)
    data = customer_services.CustomerData(name=customer.name, is_protected=True)

    customer_services.update_customer(actor=manager, customer=customer, data=data)

    customer.refresh_from_db()
    assert (customer.is_protected, customer.recycle_due_at) == (True, None)


def test_editing_the_level_flags_the_policy_for_rematching(admin, rep, pool):
    services.create_recycle_rule(
        actor=admin, pool_id=pool.pk, rule=services.RuleData(name="A", level=Level.A, no_followup_days=30)
    )
    customer = owned(rep, pool, claimed_days_ago=10, level=Level.C)
    assert customer.recycle_due_at is None

    customer_services.update_customer(
        actor=rep, customer=customer, data=customer_services.CustomerData(name=customer.name, level=Level.A)
    )
    customer.refresh_from_db()
    assert customer.recycle_policy_stale is True

    assert services.refresh_stale_recycle_policies() == 1
    customer.refresh_from_db()
    assert customer.recycle_due_at is not None


def edit_rules(capture, pool, edit):
    """Run a rule edit; check it enqueued the re-matching of the pool, then do what the task does."""
    with capture() as callbacks:
        result = edit()
    assert len(callbacks) == 1
    assert services.refresh_changed_pools() >= 0
    pool.refresh_from_db()
    assert pool.rules_applied_at >= pool.rules_changed_at
    return result


def test_a_rule_change_moves_the_deadlines_of_the_pools_customers(
    rule, admin, rep, pool, django_capture_on_commit_callbacks
):
    customer = owned(rep, pool, claimed_days_ago=10)
    stricter = replace(services.RuleData.from_rule(rule), no_followup_days=15)

    edit_rules(
        django_capture_on_commit_callbacks,
        pool,
        lambda: services.update_recycle_rule(actor=admin, rule_id=rule.pk, rule=stricter),
    )

    customer.refresh_from_db()
    assert abs(customer.recycle_due_at - (customer.claimed_at + timedelta(days=15))) < CLOSE


def test_disabling_and_enabling_a_rule(rule, admin, rep, pool, django_capture_on_commit_callbacks):
    customer = owned(rep, pool, claimed_days_ago=10)

    edit_rules(
        django_capture_on_commit_callbacks,
        pool,
        lambda: services.set_recycle_rule_enabled(actor=admin, rule_id=rule.pk, enabled=False),
    )
    customer.refresh_from_db()
    assert (customer.recycle_rule, customer.recycle_due_at) == (None, None)

    edit_rules(
        django_capture_on_commit_callbacks,
        pool,
        lambda: services.set_recycle_rule_enabled(actor=admin, rule_id=rule.pk, enabled=True),
    )
    customer.refresh_from_db()
    assert customer.recycle_rule == rule
    assert customer.recycle_due_at is not None


def test_a_new_rule_applies_to_customers_already_owned(admin, rep, pool, django_capture_on_commit_callbacks):
    customer = owned(rep, pool, claimed_days_ago=10)
    assert customer.recycle_due_at is None

    edit_rules(
        django_capture_on_commit_callbacks,
        pool,
        lambda: services.create_recycle_rule(
            actor=admin, pool_id=pool.pk, rule=services.RuleData(name="n", no_followup_days=20)
        ),
    )

    customer = Customer.objects.get(pk=customer.pk)  # a fresh read: the deadline is set now
    assert abs(customer.recycle_due_at - (customer.claimed_at + timedelta(days=20))) < CLOSE


def test_until_rematched_a_laxer_rule_already_stops_recycling(rule, admin, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=35)  # due under 30 days
    laxer = replace(services.RuleData.from_rule(rule), no_followup_days=60)
    services.update_recycle_rule(actor=admin, rule_id=rule.pk, rule=laxer)  # not re-matched yet

    assert services.recycle_stale_customers(exclusive=True).recycled == 0
    customer.refresh_from_db()
    assert customer.owner == rep


def test_the_recycle_job_applies_rule_changes_a_missing_worker_left_behind(rule, admin, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=20)  # not due under 30 days
    stricter = replace(services.RuleData.from_rule(rule), no_followup_days=10)
    services.update_recycle_rule(actor=admin, rule_id=rule.pk, rule=stricter)  # the task never ran

    result = services.recycle_stale_customers()

    assert result.recycled == 1
    customer.refresh_from_db()
    assert customer.pool == pool


def test_deleting_a_rule_that_never_recycled_clears_its_deadlines(rule, admin, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=10)

    services.delete_recycle_rule(actor=admin, rule_id=rule.pk)

    customer.refresh_from_db()
    assert (customer.recycle_rule, customer.recycle_due_at) == (None, None)


def test_a_rule_that_recycled_someone_cannot_be_deleted(rule, admin, rep, pool):
    owned(rep, pool, claimed_days_ago=100)
    services.recycle_stale_customers()

    with pytest.raises(services.RuleInUse):
        services.delete_recycle_rule(actor=admin, rule_id=rule.pk)

    assert type(rule).objects.filter(pk=rule.pk).exists()


def test_only_admins_edit_rules(rep, manager, pool):
    for actor in (rep, manager):
        with pytest.raises(NotAllowed):
            services.create_recycle_rule(
                actor=actor, pool_id=pool.pk, rule=services.RuleData(name="x", no_deal_days=5)
            )
    assert not pool.recycle_rules.exists()


def test_at_risk_lists_the_reps_customers_soonest_first(rule, rep, other_rep, pool):
    later = owned(rep, pool, claimed_days_ago=5)
    sooner = owned(rep, pool, claimed_days_ago=25)
    owned(other_rep, pool, claimed_days_ago=29)
    no_deadline = Customer.objects.create(name="Own", owner=rep, claimed_at=timezone.now())

    at_risk = list(selectors.customers_at_risk(user=rep))

    assert at_risk == [sooner, later]
    assert no_deadline not in at_risk
    assert selectors.days_left(sooner) == 4
    assert list(selectors.customers_at_risk(user=rep, within_days=10)) == [sooner]


POLICY_COLUMNS = (
    "recycle_rule_id",
    "recycle_idle_days",
    "recycle_deal_days",
    "recycle_exempt_stage",
    "recycle_due_at",
)


@pytest.mark.parametrize(
    ("rules", "customer_fields", "extra"),
    [
        ([{"no_followup_days": 30, "no_deal_days": 20}], {}, None),
        ([{"no_followup_days": 30, "level": Level.A}, {"no_deal_days": 40}], {"level": Level.B}, None),
        ([{"no_followup_days": 30, "team": "other"}, {"no_followup_days": 9}], {}, None),
        ([{"no_followup_days": 30, "team": "mine"}, {"no_followup_days": 9}], {}, None),
        ([{"no_followup_days": 30, "tag": True}, {"no_followup_days": 9}], {}, "tag"),
        ([{"no_followup_days": 30, "exempt_open_deal_from_stage": DealStage.QUALIFIED}], {}, "deal"),
        ([{"no_followup_days": 30, "exempt_open_deal_from_stage": DealStage.NEGOTIATION}], {}, "deal"),
        ([{"no_followup_days": 30}], {"is_protected": True}, None),
        ([{"no_followup_days": 30, "source": "website"}], {"source": "referral"}, None),
        ([{"no_followup_days": 5}], {"last_followup_at": "soon"}, None),
        ([], {}, None),
    ],
)
def test_claiming_sets_the_policy_the_set_based_refresh_computes(
    admin, rep, other_team_rep, pool, rules, customer_fields, extra
):
    """The single-claim fast path (Python) and the set-based path (SQL) must agree."""
    tag = Tag.objects.create(name="vip")
    for priority, values in enumerate(rules):
        values = dict(values)
        team = values.pop("team", None)
        values["team_id"] = {"mine": rep.team_id, "other": other_team_rep.team_id, None: None}[team]
        values["tag_id"] = tag.pk if values.pop("tag", None) else None
        services.create_recycle_rule(
            actor=admin,
            pool_id=pool.pk,
            rule=services.RuleData(name=f"r{priority}", priority=priority, **values),
        )
    if customer_fields.get("last_followup_at") == "soon":
        customer_fields = {"last_followup_at": timezone.now() + timedelta(minutes=3)}
    lead = pooled(pool, **customer_fields)
    if extra == "tag":
        lead.tags.add(tag)
    if extra == "deal":
        DealFactory(customer=lead, owner=rep, stage=DealStage.PROPOSAL)

    services.claim_customer(rep=rep, customer_id=lead.pk)
    fast = Customer.objects.filter(pk=lead.pk).values(*POLICY_COLUMNS).get()
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk=lead.pk))
    set_based = Customer.objects.filter(pk=lead.pk).values(*POLICY_COLUMNS).get()

    assert fast == set_based


def test_moving_the_owner_to_another_team_flags_the_policy_for_rematching(admin, rep, pool, other_team_rep):
    services.create_recycle_rule(
        actor=admin,
        pool_id=pool.pk,
        rule=services.RuleData(name="East", team_id=rep.team_id, no_followup_days=30),
    )
    customer = owned(rep, pool, claimed_days_ago=5)
    assert customer.recycle_due_at is not None

    customer_services.change_user_team(user=rep, team_id=other_team_rep.team_id)
    services.refresh_stale_recycle_policies()

    customer.refresh_from_db()
    assert (customer.recycle_rule, customer.recycle_due_at) == (None, None)
