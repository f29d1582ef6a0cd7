"""Warnings before recycling, escalation to the manager, e-mails, extensions, notifications."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.utils import timezone

from customers import services as customer_services
from public_pool import selectors, services
from public_pool.exceptions import (
    CustomerLeftRep,
    ExtensionAlreadyDecided,
    ExtensionAlreadyRequested,
    InvalidInput,
    NoRecycleDeadline,
    NotAllowed,
)
from public_pool.models import ExtensionStatus, Notification, NotificationKind, PoolEvent, PoolEventKind
from tests.factories import UserFactory
from tests.public_pool.conftest import owned, pooled

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(pool):
    return services.create_recycle_rule(
        actor=UserFactory(username="pool_admin", admin=True),
        pool_id=pool.pk,
        rule=services.RuleData(name="30 days", no_followup_days=30, warn_days=5),
    )


def warnings_for(user):
    return Notification.objects.filter(user=user, kind=NotificationKind.RECYCLE_WARNING)


def test_owners_are_warned_within_the_window_once_per_deadline_with_one_email(rule, rep, other_rep, pool):
    soon = owned(rep, pool, claimed_days_ago=27)  # due in 3 days
    sooner = owned(rep, pool, claimed_days_ago=28)
    later = owned(rep, pool, claimed_days_ago=10)  # due in 20 days: outside the 5-day window
    colleague = owned(other_rep, pool, claimed_days_ago=26)

    first = services.warn_recycle()
    second = services.warn_recycle()

    assert (first.warned, first.emails_sent) == (3, 2)
    assert (second.warned, second.escalated, second.emails_sent) == (0, 0, 0)
    assert set(warnings_for(rep).values_list("customer_id", flat=True)) == {soon.pk, sooner.pk}
    assert set(warnings_for(other_rep).values_list("customer_id", flat=True)) == {colleague.pk}
    assert later.pk not in set(Notification.objects.values_list("customer_id", flat=True))
    assert len(mail.outbox) == 2
    rep_mail = next(m for m in mail.outbox if m.to == [rep.email])
    assert soon.name in rep_mail.body
    assert sooner.name in rep_mail.body
    assert later.name not in rep_mail.body
    assert rep_mail.body.index(sooner.name) < rep_mail.body.index(soon.name)  # soonest first


def test_a_follow_up_moves_the_deadline_so_a_new_warning_comes_later(rule, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=27)
    services.warn_recycle()
    customer_services.log_followup(actor=rep, customer=customer, kind="call")

    result = services.warn_recycle()

    assert result.warned == 0  # the new deadline is 30 days out, outside the window
    assert warnings_for(rep).count() == 1


def test_the_manager_is_told_when_the_deadline_is_a_day_away_and_nothing_was_done(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=27)
    services.warn_recycle()  # day 1: the owner is warned
    mail.outbox.clear()
    Customer = type(customer)
    # Two days later, with no follow-up: the deadline is within a day.
    as_of = timezone.now() + timedelta(days=2, hours=12)

    result = services.warn_recycle(as_of=as_of)
    again = services.warn_recycle(as_of=as_of)

    assert (result.escalated, again.escalated) == (1, 0)
    escalation = Notification.objects.get(kind=NotificationKind.RECYCLE_ESCALATION)
    assert (escalation.user, escalation.customer, escalation.due_at) == (
        manager,
        customer,
        Customer.objects.get(pk=customer.pk).recycle_due_at,
    )
    assert [m.to for m in mail.outbox] == [[manager.email]]
    assert customer.name in mail.outbox[0].body
    assert str(rep) in mail.outbox[0].body


def test_no_escalation_when_the_rep_acted_after_the_warning(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=27)
    services.warn_recycle()
    customer_services.log_followup(actor=rep, customer=customer, kind="visit")

    result = services.warn_recycle(as_of=timezone.now() + timedelta(days=2, hours=12))

    assert result.escalated == 0
    assert not Notification.objects.filter(kind=NotificationKind.RECYCLE_ESCALATION).exists()


def test_no_escalation_without_an_earlier_warning(rule, rep, manager, pool):
    owned(rep, pool, claimed_days_ago=29, followup_days_ago=29.5)  # due within a day, never warned

    result = services.warn_recycle()

    assert (result.warned, result.escalated) == (1, 0)


def test_a_failed_mail_is_retried_by_the_next_run(rule, rep, pool, settings):
    owned(rep, pool, claimed_days_ago=27)
    settings.EMAIL_BACKEND = "tests.public_pool.test_alerts.BrokenBackend"

    with pytest.raises(ConnectionError):
        services.warn_recycle()
    assert warnings_for(rep).get().emailed_at is None

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert services.warn_recycle().emails_sent == 1
    assert warnings_for(rep).get().emailed_at is not None


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionError("mail server down")


def test_warn_recycle_command(rule, rep, pool):
    owned(rep, pool, claimed_days_ago=27)
    out = StringIO()

    call_command("warn_recycle", stdout=out)

    assert "1 warnings, 0 escalations, 1 e-mails sent" in out.getvalue()


def test_a_rep_may_request_one_extension_per_customer_and_ownership(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=20)

    request = services.request_extension(rep=rep, customer_id=customer.pk, days=10, reason="Budget in May")
    with pytest.raises(ExtensionAlreadyRequested) as error:
        services.request_extension(rep=rep, customer_id=customer.pk, days=5, reason="Budget in May")

    assert error.value.code == "extension_already_requested"
    assert (request.status, request.days, request.owned_since) == (
        ExtensionStatus.PENDING,
        10,
        customer.claimed_at,
    )
    assert type(request).objects.count() == 1
    assert PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_REQUEST).count() == 1
    told = Notification.objects.get(kind=NotificationKind.EXTENSION_REQUESTED)
    assert (told.user, told.customer) == (manager, customer)
    assert list(selectors.pending_extension_requests(user=manager)) == [request]


def test_approval_pushes_the_deadline_and_is_logged(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    before = customer.recycle_due_at
    request = services.request_extension(rep=rep, customer_id=customer.pk, days=10, reason="Budget in May")

    decided = services.decide_extension(actor=manager, request_id=request.pk, approve=True, note="OK")

    customer.refresh_from_db()
    assert customer.recycle_due_at - before == timedelta(days=10)
    assert (decided.status, decided.decided_by) == (ExtensionStatus.APPROVED, manager)
    assert PoolEvent.objects.get(kind=PoolEventKind.EXTENSION_APPROVE).actor == manager
    assert (
        Notification.objects.get(user=rep, kind=NotificationKind.EXTENSION_DECIDED).params["approved"] is True
    )
    with pytest.raises(ExtensionAlreadyDecided):
        services.decide_extension(actor=manager, request_id=request.pk, approve=False)


def test_refusal_keeps_the_deadline_and_is_logged(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")

    services.decide_extension(actor=manager, request_id=request.pk, approve=False)

    before = customer.recycle_due_at
    customer.refresh_from_db()
    assert customer.recycle_due_at == before
    assert PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_REFUSE).count() == 1


def test_only_the_owner_asks_and_only_their_manager_decides(rule, rep, other_rep, other_team_rep, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    with pytest.raises(NotAllowed):
        services.request_extension(rep=other_rep, customer_id=customer.pk, reason="Budget in May")
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")

    west_manager = other_team_rep.team.manager
    for outsider in (other_rep, west_manager):
        with pytest.raises(NotAllowed):
            services.decide_extension(actor=outsider, request_id=request.pk, approve=True)

    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING


def test_no_extension_for_a_customer_without_a_deadline(rep, pool):
    customer = owned(rep, pool)  # no rule in the pool

    with pytest.raises(NoRecycleDeadline):
        services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")


def test_after_losing_and_regaining_a_customer_the_rep_may_ask_again(rule, rep, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")
    services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need")
    services.claim_customer(rep=rep, customer_id=customer.pk)

    services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May")

    assert customer.extension_requests.count() == 2


def test_notifications_badge_and_marking_read(rule, rep, pool):
    for _ in range(2):
        owned(rep, pool, claimed_days_ago=27)
    pooled(pool)
    services.warn_recycle()
    assert selectors.unread_notification_count(rep) == 2
    first = selectors.notifications_for(user=rep).first()

    assert services.mark_notifications_read(user=rep, notification_ids=[first.pk]) == 1
    assert selectors.unread_notification_count(rep) == 1
    assert services.mark_notifications_read(user=rep) == 1
    assert selectors.unread_notification_count(rep) == 0
    assert "will be recycled" in first.message


# --- Extensions: reason, days bound, decisions after the customer left ------------------------


def _extension_state(customer, request):
    """Everything an approval could touch: the deadline, the request, notifications, events."""
    customer.refresh_from_db()
    request.refresh_from_db()
    return (
        customer.owner_id,
        customer.recycle_due_at,
        customer.recycle_extension_days,
        (request.status, request.decided_by_id, request.decided_at, request.days),
        sorted(Notification.objects.values_list("pk", "kind", "user_id", "due_at")),
        sorted(PoolEvent.objects.values_list("pk", "kind", "customer_id")),
    )


def _recycle(customer):
    assert services.recycle_stale_customers(as_of=timezone.now() + timedelta(days=11)).recycled == 1


def _release(customer):
    services.release_customer(actor=customer.owner, customer_id=customer.pk, reason="no_need")


def _transfer(customer):
    other = UserFactory(username="colleague", team=customer.owner.team)
    services.transfer_customer(actor=customer.owner.team.manager, customer_id=customer.pk, to_rep=other)


def _release_and_take_back(customer):
    rep = customer.owner
    _release(customer)
    services.claim_customer(rep=rep, customer_id=customer.pk)


@pytest.mark.parametrize(
    ("leave", "words"),
    [
        (_recycle, "was recycled on"),
        (_release, "released"),
        (_transfer, "was transferred away from"),
        # Gone and back: a new ownership, which the old request does not extend.
        (_release_and_take_back, "released"),
    ],
)
def test_approving_after_the_customer_left_the_rep_raises_and_changes_nothing(
    rule, rep, manager, pool, leave, words
):
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender in May", days=10)
    leave(customer)
    before = _extension_state(customer, request)

    with pytest.raises(CustomerLeftRep) as error:
        services.decide_extension(actor=manager, request_id=request.pk, approve=True)

    assert error.value.code == "customer_left"
    assert error.value.status_code == 409
    message = str(error.value.message)
    assert customer.name in message
    assert words in message
    assert "cannot be approved" in message
    assert _extension_state(customer, request) == before
    assert request.status == ExtensionStatus.PENDING
    assert not Notification.objects.filter(kind=NotificationKind.EXTENSION_DECIDED).exists()
    assert not PoolEvent.objects.filter(
        kind__in=[PoolEventKind.EXTENSION_APPROVE, PoolEventKind.EXTENSION_REFUSE]
    ).exists()


def test_a_request_whose_customer_left_can_still_be_refused_to_close_it(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender in May")
    _release(customer)

    decided = services.decide_extension(actor=manager, request_id=request.pk, approve=False, note="Too late")

    assert decided.status == ExtensionStatus.REFUSED
    told = Notification.objects.get(user=rep, kind=NotificationKind.EXTENSION_DECIDED)
    assert told.due_at is None
    assert told.message == f"Your extension for {customer.name} was refused. Note: Too late"
    assert list(selectors.pending_extension_requests(user=manager)) == []


def test_approval_tells_the_rep_in_words_with_the_new_deadline(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender in May", days=10)

    services.decide_extension(actor=manager, request_id=request.pk, approve=True, days=7, note="One week")

    customer.refresh_from_db()
    told = Notification.objects.get(user=rep, kind=NotificationKind.EXTENSION_DECIDED)
    due = timezone.localtime(customer.recycle_due_at).strftime("%Y-%m-%d %H:%M")
    assert told.due_at == customer.recycle_due_at
    assert told.message == (
        f"{manager} approved 7 more days for {customer.name}. New recycle deadline: {due}. Note: One week"
    )
    assert customer.recycle_extension_days == 7


def test_refusal_tells_the_rep_the_deadline_stays(rule, rep, manager, pool):
    customer = owned(rep, pool, claimed_days_ago=20)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender in May")

    services.decide_extension(actor=manager, request_id=request.pk, approve=False)

    customer.refresh_from_db()
    told = Notification.objects.get(user=rep, kind=NotificationKind.EXTENSION_DECIDED)
    due = timezone.localtime(customer.recycle_due_at).strftime("%Y-%m-%d %H:%M")
    assert (
        told.message == f"{manager} refused more time for {customer.name}. The recycle deadline stays {due}."
    )
    assert customer.recycle_extension_days == 0
    assert PoolEvent.objects.get(kind=PoolEventKind.EXTENSION_REFUSE).actor == manager


@pytest.mark.parametrize("reason", ["", "   \n "])
def test_an_extension_needs_a_reason(rule, rep, manager, pool, reason):
    customer = owned(rep, pool, claimed_days_ago=20)

    with pytest.raises(InvalidInput) as error:
        services.request_extension(rep=rep, customer_id=customer.pk, reason=reason, days=5)

    assert error.value.fields == {"reason": "Say why you need more time."}
    assert not customer.extension_requests.exists()
    assert not Notification.objects.exists()
    assert not PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_REQUEST).exists()


def test_the_days_asked_and_granted_are_bounded_by_the_pools_setting(rule, rep, manager, pool):
    pool.max_extension_days = 20
    pool.save(update_fields=["max_extension_days"])
    customer = owned(rep, pool, claimed_days_ago=20)

    for days in (0, -3, 21):
        with pytest.raises(InvalidInput) as error:
            services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender", days=days)
        assert error.value.fields == {"days": "Ask for 1 to 20 days."}
    with pytest.raises(InvalidInput) as both:
        services.request_extension(rep=rep, customer_id=customer.pk, reason=" ", days=99)
    assert set(both.value.fields) == {"reason", "days"}
    assert not customer.extension_requests.exists()

    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender", days=20)
    with pytest.raises(InvalidInput) as granted:
        services.decide_extension(actor=manager, request_id=request.pk, approve=True, days=21)
    assert granted.value.fields == {"days": "Grant 1 to 20 days."}
    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING

    assert services.decide_extension(actor=manager, request_id=request.pk, approve=True).days == 20


def test_days_default_to_the_setting_capped_by_the_pool(rule, rep, pool, settings):
    pool.max_extension_days = 5
    pool.save(update_fields=["max_extension_days"])
    settings.PUBLIC_POOL_EXTENSION_DAYS = 14

    request = services.request_extension(
        rep=rep, customer_id=owned(rep, pool, claimed_days_ago=20).pk, reason="Tender"
    )

    assert request.days == 5
