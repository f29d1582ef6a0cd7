"""Recycle rules: conditions, triggers, exemptions, targets, as-of, dry run, the command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Customer, DealStage, Level, Source, Tag
from public_pool import services
from public_pool.exceptions import InvalidInput
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import DealFactory, PoolFactory, TeamFactory, UserFactory
from tests.public_pool.conftest import days_ago, owned

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return UserFactory(username="pool_admin", admin=True)


def make_rule(admin, pool, **values):
    values.setdefault("name", "rule")
    return services.create_recycle_rule(actor=admin, pool_id=pool.pk, rule=services.RuleData(**values))


def recycled_ids() -> set[int]:
    return set(PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE).values_list("customer_id", flat=True))


def test_no_followup_for_n_days_recycles_with_one_event_naming_the_rule(admin, rep, pool):
    rule = make_rule(admin, pool, no_followup_days=14)
    idle = owned(rep, pool, claimed_days_ago=30, followup_days_ago=15)
    busy = owned(rep, pool, claimed_days_ago=30, followup_days_ago=13)
    new = owned(rep, pool, claimed_days_ago=5)

    result = services.recycle_stale_customers()

    assert (result.recycled, result.by_rule) == (1, {rule.pk: 1})
    idle.refresh_from_db()
    assert (idle.owner, idle.team, idle.pool, idle.recycle_due_at) == (None, None, pool, None)
    event = PoolEvent.objects.get(customer=idle)
    assert (event.kind, event.rule, event.from_owner, event.to_pool, event.actor, event.reason) == (
        PoolEventKind.RECYCLE,
        rule,
        rep,
        pool,
        None,
        "no_followup",
    )
    assert recycled_ids() == {idle.pk}
    for customer in (busy, new):
        customer.refresh_from_db()
        assert customer.owner == rep


def test_no_won_deal_within_n_days_of_the_claim_recycles(admin, rep, pool):
    make_rule(admin, pool, no_deal_days=60)
    without = owned(rep, pool, claimed_days_ago=61, followup_days_ago=1)
    won = owned(rep, pool, claimed_days_ago=61, followup_days_ago=1)
    DealFactory(customer=won, won=True)
    won_before_claim = owned(rep, pool, claimed_days_ago=61)
    DealFactory(customer=won_before_claim, stage=DealStage.WON, closed_at=days_ago(70))
    young = owned(rep, pool, claimed_days_ago=59)

    services.recycle_stale_customers()

    assert recycled_ids() == {without.pk, won_before_claim.pk}
    assert PoolEvent.objects.get(customer=without).reason == "no_deal"
    for customer in (won, young):
        customer.refresh_from_db()
        assert customer.owner == rep


@pytest.mark.parametrize(
    ("condition", "matching", "other"),
    [
        ("level", {"level": Level.A}, {"level": Level.B}),
        ("source", {"source": Source.WEBSITE}, {"source": Source.REFERRAL}),
    ],
)
def test_level_and_source_conditions_select_customers(admin, rep, pool, condition, matching, other):
    make_rule(admin, pool, no_followup_days=10, **matching)
    selected = owned(rep, pool, claimed_days_ago=20, **matching)
    spared = owned(rep, pool, claimed_days_ago=20, **other)

    services.recycle_stale_customers()

    assert recycled_ids() == {selected.pk}
    spared.refresh_from_db()
    assert spared.owner == rep


def test_team_condition_selects_the_owners_team(admin, rep, other_team_rep, pool):
    pool.teams.add(other_team_rep.team)
    make_rule(admin, pool, no_followup_days=10, team_id=rep.team_id)
    selected = owned(rep, pool, claimed_days_ago=20)
    spared = owned(other_team_rep, pool, claimed_days_ago=20)

    services.recycle_stale_customers()

    assert recycled_ids() == {selected.pk}
    spared.refresh_from_db()
    assert spared.owner == other_team_rep


def test_tag_condition_selects_tagged_customers(admin, rep, pool):
    tag = Tag.objects.create(name="trial")
    make_rule(admin, pool, no_followup_days=10, tag_id=tag.pk)
    tagged = owned(rep, pool, claimed_days_ago=20)
    tagged.tags.add(tag)
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk=tagged.pk))
    untagged = owned(rep, pool, claimed_days_ago=20)

    services.recycle_stale_customers()

    assert recycled_ids() == {tagged.pk}
    untagged.refresh_from_db()
    assert untagged.owner == rep


def test_protected_customers_are_never_recycled(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    protected = owned(rep, pool, claimed_days_ago=40, is_protected=True)

    services.recycle_stale_customers()

    protected.refresh_from_db()
    assert (protected.owner, protected.recycle_due_at) == (rep, None)
    assert not PoolEvent.objects.exists()


def test_an_open_deal_at_or_past_the_exempt_stage_exempts(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10, exempt_open_deal_from_stage=DealStage.PROPOSAL)
    at_stage = owned(rep, pool, claimed_days_ago=40)
    DealFactory(customer=at_stage, stage=DealStage.PROPOSAL)
    past_stage = owned(rep, pool, claimed_days_ago=40)
    DealFactory(customer=past_stage, stage=DealStage.NEGOTIATION)
    early_stage = owned(rep, pool, claimed_days_ago=40)
    DealFactory(customer=early_stage, stage=DealStage.QUALIFIED)
    lost = owned(rep, pool, claimed_days_ago=40)
    DealFactory(customer=lost, lost=True)

    services.recycle_stale_customers()

    assert recycled_ids() == {early_stage.pk, lost.pk}


def test_recycled_customers_go_to_the_rules_target_then_the_pools_default_target(admin, rep, pool):
    target, pool_default = PoolFactory(name="Cold"), PoolFactory(name="Archive")
    pool.recycle_target = pool_default
    pool.save()
    make_rule(
        admin, pool, name="A-level", priority=1, level=Level.A, no_followup_days=10, target_pool_id=target.pk
    )
    make_rule(admin, pool, name="others", priority=2, no_followup_days=10)
    a_level = owned(rep, pool, claimed_days_ago=20, level=Level.A)
    other = owned(rep, pool, claimed_days_ago=20, level=Level.C)

    services.recycle_stale_customers()

    a_level.refresh_from_db()
    other.refresh_from_db()
    assert (a_level.pool, other.pool) == (target, pool_default)
    assert PoolEvent.objects.get(customer=a_level).to_pool == target


def test_the_first_matching_rule_by_priority_applies(admin, rep, pool):
    lenient = make_rule(admin, pool, name="A: 60 days", priority=1, level=Level.A, no_followup_days=60)
    strict = make_rule(admin, pool, name="all: 10 days", priority=2, no_followup_days=10)
    key_account = owned(rep, pool, claimed_days_ago=20, level=Level.A)
    normal = owned(rep, pool, claimed_days_ago=20, level=Level.C)

    services.recycle_stale_customers()

    assert (key_account.recycle_rule, normal.recycle_rule) == (lenient, strict)
    assert recycled_ids() == {normal.pk}


def test_a_stale_stored_deadline_does_not_recycle_a_customer_who_is_not_due(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20)
    # A follow-up written behind the services' back: the stored deadline still says "due".
    Customer.objects.filter(pk=customer.pk).update(last_followup_at=timezone.now())

    services.recycle_stale_customers()

    customer.refresh_from_db()
    assert customer.owner == rep
    assert not PoolEvent.objects.exists()


def test_a_rule_disabled_since_the_deadline_was_stored_recycles_nothing(admin, rep, pool):
    rule = make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20)
    type(rule).objects.filter(pk=rule.pk).update(enabled=False)  # behind the services' back

    assert services.recycle_stale_customers().recycled == 0
    customer.refresh_from_db()
    assert customer.owner == rep


def test_as_of_evaluates_the_rules_at_that_moment(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=5)

    assert services.recycle_stale_customers(as_of=timezone.now() + timedelta(days=4)).recycled == 0
    assert services.recycle_stale_customers(as_of=timezone.now() + timedelta(days=6)).recycled == 1
    customer.refresh_from_db()
    assert customer.pool == pool


def test_dry_run_counts_and_changes_nothing(admin, rep, pool):
    rule = make_rule(admin, pool, no_followup_days=10)
    customers = [owned(rep, pool, claimed_days_ago=20) for _ in range(3)]
    before = list(Customer.objects.order_by("pk").values())

    result = services.recycle_stale_customers(dry_run=True)

    assert (result.dry_run, result.recycled, result.by_rule) == (True, 3, {rule.pk: 3})
    assert list(Customer.objects.order_by("pk").values()) == before
    assert not PoolEvent.objects.exists()
    assert {c.customer_id for c in services.iter_recycle_candidates(as_of=timezone.now())} == {
        c.pk for c in customers
    }


def test_recycling_twice_is_harmless(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    owned(rep, pool, claimed_days_ago=20)

    assert services.recycle_stale_customers().recycled == 1
    assert services.recycle_stale_customers().recycled == 0
    assert PoolEvent.objects.count() == 1


def test_recycling_runs_in_bounded_batches_with_a_constant_number_of_statements(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    for _ in range(12):
        owned(rep, pool, claimed_days_ago=20)

    with CaptureQueriesContext(connection) as small:
        assert services.recycle_stale_customers(batch_size=5).recycled == 12
    inserts = [q for q in small.captured_queries if "INSERT INTO" in q["sql"] and "poolevent" in q["sql"]]
    assert len(inserts) == 3  # ceil(12 / 5) batches, one statement each: set-based, not per customer


def test_stale_policies_are_rematched_before_recycling(admin, rep, pool):
    make_rule(admin, pool, name="A only", level=Level.A, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20, level=Level.C)
    assert customer.recycle_due_at is None
    # Edited through customers.services elsewhere: flagged stale, re-matched by the job.
    Customer.objects.filter(pk=customer.pk).update(level=Level.A, recycle_policy_stale=True)

    result = services.recycle_stale_customers()

    assert (result.policies_refreshed, result.recycled) == (1, 1)


def test_customers_that_never_were_pooled_follow_the_default_pools_rules(admin, rep):
    default = PoolFactory(is_default=True)
    make_rule(admin, default, no_followup_days=10)
    customer = owned(rep, None, claimed_days_ago=20)

    assert customer.recycle_due_at is not None
    assert services.recycle_stale_customers().recycled == 1
    customer.refresh_from_db()
    assert customer.pool == default


def test_recycled_leads_are_scored_for_the_pool_list(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20, industry="software", size="enterprise")
    assert customer.priority_score == 0

    services.recycle_stale_customers()

    customer.refresh_from_db()
    assert customer.priority_score > 0


def test_recycle_pool_command_dry_run_lists_and_changes_nothing(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20)
    out = StringIO()

    call_command("recycle_pool", "--dry-run", stdout=out)

    assert f"would recycle customer {customer.pk}" in out.getvalue()
    assert "would recycle 1 customers" in out.getvalue()
    customer.refresh_from_db()
    assert customer.owner == rep


def test_recycle_pool_command_with_as_of_and_batch_size(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=5)
    later = (timezone.localtime() + timedelta(days=6)).strftime("%Y-%m-%dT%H:%M")
    out = StringIO()

    call_command("recycle_pool", "--as-of", later, "--batch-size", "10", stdout=out)

    assert "recycled 1 customers" in out.getvalue()
    customer.refresh_from_db()
    assert customer.owner is None


def test_rule_preview_counts_due_now_and_within_the_warning_window(admin, rep, pool):
    for _ in range(2):
        owned(rep, pool, claimed_days_ago=20)
    owned(rep, pool, claimed_days_ago=8)  # due in 2 days
    owned(rep, pool, claimed_days_ago=1)  # due in 9 days
    other_team = owned(UserFactory(team=TeamFactory()), pool, claimed_days_ago=20)

    preview = services.preview_rule(
        pool_id=pool.pk,
        rule=services.RuleData(name="draft", no_followup_days=10, warn_days=3, team_id=rep.team_id),
    )

    assert (preview.due_now, preview.due_within_warning) == (2, 1)
    assert len(preview.sample) == 3
    assert other_team.pk not in {row.customer_id for row in preview.sample}
    assert preview.sample[0].due_at <= preview.sample[-1].due_at
    assert not PoolEvent.objects.exists()


def test_rule_validation_names_the_bad_fields(admin, pool):
    with pytest.raises(InvalidInput) as error:
        make_rule(admin, pool, name=" ", no_followup_days=None, no_deal_days=None, warn_days=-1)

    assert set(error.value.fields) == {"name", "no_followup_days", "warn_days"}
    assert not pool.recycle_rules.exists()


def test_refresh_recycle_policies_command_matches_bulk_loaded_customers(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=3)
    Customer.objects.filter(pk=customer.pk).update(  # as a COPY-loaded row looks
        recycle_rule=None, recycle_idle_days=None, recycle_due_at=None, recycle_policy_stale=True
    )
    out = StringIO()

    call_command("refresh_recycle_policies", stdout=out)

    assert "re-matched 1 customers" in out.getvalue()
    customer.refresh_from_db()
    assert customer.recycle_due_at is not None
    assert customer.recycle_policy_stale is False
