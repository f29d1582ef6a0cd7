"""``recycled`` notifications: every recycle tells the former owner, in the same statement."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from customers.models import Customer
from public_pool import services
from public_pool.models import Notification, NotificationKind, PoolEvent, PoolEventKind
from tests.factories import UserFactory
from tests.public_pool.conftest import owned

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return UserFactory(username="notice_admin", admin=True)


def make_rule(admin, pool, **values):
    values.setdefault("name", "Thirty days")
    return services.create_recycle_rule(actor=admin, pool_id=pool.pk, rule=services.RuleData(**values))


def recycled_notices():
    return Notification.objects.filter(kind=NotificationKind.RECYCLED)


def test_every_recycle_writes_exactly_one_notice_per_former_owner(admin, rep, team, pool):
    other_rep = UserFactory(team=team)
    make_rule(admin, pool, no_followup_days=10)
    mine = [owned(rep, pool, claimed_days_ago=20) for _ in range(7)]
    theirs = [owned(other_rep, pool, claimed_days_ago=20) for _ in range(5)]
    kept = owned(rep, pool, claimed_days_ago=2)

    result = services.recycle_stale_customers(batch_size=4)

    assert result.recycled == 12
    notices = list(recycled_notices().values_list("user_id", "customer_id"))
    assert len(notices) == 12  # exactly one per customer moved, none twice
    assert sorted(notices) == sorted([(rep.pk, c.pk) for c in mine] + [(other_rep.pk, c.pk) for c in theirs])
    events = set(
        PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE).values_list("from_owner_id", "customer_id")
    )
    assert set(notices) == events
    assert not recycled_notices().filter(customer=kept).exists()
    # A second run moves nothing and tells nobody again.
    assert services.recycle_stale_customers().recycled == 0
    assert recycled_notices().count() == 12


def test_the_notice_is_written_by_the_batch_statement_itself(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    for _ in range(12):
        owned(rep, pool, claimed_days_ago=20)

    with CaptureQueriesContext(connection) as queries:
        services.recycle_stale_customers(batch_size=5)

    notice_inserts = [q["sql"] for q in queries.captured_queries if "public_pool_notification" in q["sql"]]
    # One statement per batch (ceil(12 / 5) = 3): the same one that moves the rows and logs them.
    batches = [sql for sql in notice_inserts if "UPDATE" in sql and "poolevent" in sql]
    assert len(batches) == 3
    assert recycled_notices().count() == 12


def test_dry_run_writes_no_notice(admin, rep, pool):
    make_rule(admin, pool, no_followup_days=10)
    owned(rep, pool, claimed_days_ago=20)

    assert services.recycle_stale_customers(dry_run=True).recycled == 1
    assert not recycled_notices().exists()


def test_the_notice_names_customer_rule_and_trigger_in_words(admin, rep, pool):
    make_rule(admin, pool, name="Thirty days", no_followup_days=30)
    followed = timezone.now() - timedelta(days=31)
    customer = owned(rep, pool, claimed_days_ago=40, followup_days_ago=31, name="Acme Trading")
    make_rule_deal = make_rule(admin, pool, name="Ninety days to win", no_deal_days=90, priority=200)
    assert make_rule_deal

    services.recycle_stale_customers()

    notice = recycled_notices().get(customer=customer)
    assert notice.user_id == rep.pk
    assert (notice.params["rule"], notice.params["trigger"], notice.params["days"]) == (
        "Thirty days",
        "no_followup",
        30,
    )
    day = timezone.localtime(followed).strftime("%B") + " " + str(timezone.localtime(followed).day)
    with translation.override("en"):
        assert notice.message == (
            f"Acme Trading went back to the pool East leads by the rule “Thirty days”: "
            f"no follow-up since {day} for 30 days."
        )
    with translation.override("zh-hans"):
        assert "Acme Trading" in notice.message
        assert "天未跟进" in notice.message
        assert (
            f"{timezone.localtime(followed).month:02d}月{timezone.localtime(followed).day}日"
            in notice.message
        )


def test_a_no_deal_notice_counts_from_the_claim(admin, rep, pool):
    make_rule(admin, pool, name="Win in 60", no_deal_days=60)
    customer = owned(rep, pool, claimed_days_ago=61, followup_days_ago=1, name="Beta Co")

    services.recycle_stale_customers()

    notice = recycled_notices().get(customer=customer)
    assert (notice.params["trigger"], notice.params["days"]) == ("no_deal", 60)
    with translation.override("en"):
        assert "no deal won since" in notice.message
        assert "for 60 days" in notice.message


def test_recycled_notices_are_listed_and_mailed_to_the_former_owner(admin, rep, pool, settings):
    rep.email = "rep@example.com"
    rep.save()
    make_rule(admin, pool, name="Ten days", no_followup_days=10)
    customer = owned(rep, pool, claimed_days_ago=20, name="Gamma Ltd")
    services.recycle_stale_customers()

    assert Customer.objects.get(pk=customer.pk).owner_id is None
    result = services.warn_recycle()

    assert result.emails_sent == 1
    (message,) = mail.outbox
    assert message.to == ["rep@example.com"]
    assert "Gamma Ltd" in message.body
    assert "Ten days" in message.body
    # Mailed once: the next run sends nothing more.
    assert services.warn_recycle().emails_sent == 0


def test_each_manager_gets_one_daily_digest_of_the_teams_recycled_customers(admin, rep, manager, team, pool):
    manager.email = "boss@example.com"
    manager.save()
    other_rep = UserFactory(team=team, first_name="Li", last_name="Wang")
    make_rule(admin, pool, name="Ten days", no_followup_days=10)
    owned(rep, pool, claimed_days_ago=20, name="First Co")
    owned(other_rep, pool, claimed_days_ago=20, name="Second Co")
    services.recycle_stale_customers()

    assert services.send_team_recycled_digests() == 1
    (message,) = mail.outbox
    assert message.to == ["boss@example.com"]
    assert "2 customers of your team went back to the pool:" in message.body
    assert "First Co" in message.body
    assert "Second Co" in message.body
    assert "Wang Li" in message.body or "Li Wang" in message.body
    # Once per notice: the next day's run has nothing new.
    assert services.send_team_recycled_digests() == 0
    assert not Notification.objects.filter(
        kind=NotificationKind.RECYCLED, team_digested_at__isnull=True
    ).exists()


def test_the_digest_is_scheduled_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["public_pool.team_recycled_digest"]
    assert entry["task"] == "public_pool.tasks.team_recycled_digest_task"
    from public_pool import tasks

    assert tasks.team_recycled_digest_task.name == entry["task"]


def test_the_digest_is_also_a_command(admin, rep, manager, pool):
    manager.email = "boss@example.com"
    manager.save()
    make_rule(admin, pool, no_followup_days=10)
    owned(rep, pool, claimed_days_ago=20)
    services.recycle_stale_customers()
    out = StringIO()

    call_command("team_recycled_digest", stdout=out)

    assert "1 digest e-mails sent" in out.getvalue()
    assert len(mail.outbox) == 1
