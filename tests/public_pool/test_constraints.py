"""What the database itself refuses: ownership XOR, the append-only log, duplicate extensions."""

import threading
import time

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Customer
from public_pool import services
from public_pool.exceptions import CustomerLeftRep
from public_pool.models import (
    ExtensionRequest,
    ExtensionStatus,
    Notification,
    NotificationKind,
    PoolEvent,
    PoolEventKind,
    ReleaseReason,
)
from tests.factories import CustomerFactory, RecycleRuleFactory
from tests.public_pool.conftest import owned, pooled, run_at_once

pytestmark = pytest.mark.django_db


def test_the_ownership_check_rejects_a_customer_both_owned_and_pooled(rep, pool):
    customer = owned(rep, pool)

    with pytest.raises(IntegrityError, match="customer_owned_xor_pooled"), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(pool=pool)

    customer.refresh_from_db()
    assert (customer.owner, customer.pool) == (rep, None)


def test_the_ownership_check_rejects_a_customer_neither_owned_nor_pooled(pool):
    lead = pooled(pool)

    with pytest.raises(IntegrityError, match="customer_owned_xor_pooled"), transaction.atomic():
        Customer.objects.filter(pk=lead.pk).update(pool=None)

    lead.refresh_from_db()
    assert lead.pool == pool


def test_the_pool_log_refuses_update(rep, pool):
    lead = pooled(pool)
    event = PoolEvent.objects.create(customer=lead, kind=PoolEventKind.IMPORT, to_pool=pool)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PoolEvent.objects.filter(pk=event.pk).update(note="rewritten history")

    event.refresh_from_db()
    assert event.note == ""


def test_the_pool_log_refuses_delete(rep, pool):
    lead = pooled(pool)
    PoolEvent.objects.create(customer=lead, kind=PoolEventKind.IMPORT, to_pool=pool)

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        PoolEvent.objects.all().delete()

    assert PoolEvent.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_pool_log_refuses_truncate_unless_the_database_allows_it(pool):
    lead = pooled(pool)
    PoolEvent.objects.create(customer=lead, kind=PoolEventKind.IMPORT, to_pool=pool)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL crm.allow_event_truncate = 'off'")
        with pytest.raises(IntegrityError, match="append-only"):
            cursor.execute("TRUNCATE public_pool_poolevent")

    assert PoolEvent.objects.count() == 1


def test_a_customer_with_history_cannot_be_deleted(rep, pool):
    lead = pooled(pool)
    services.claim_customer(rep=rep, customer_id=lead.pk)

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=lead.pk).delete()

    assert Customer.objects.filter(pk=lead.pk).exists()


def test_one_extension_request_per_customer_and_ownership_in_the_database(rep):
    customer = CustomerFactory(owner=rep)
    ExtensionRequest.objects.create(customer=customer, owner=rep, owned_since=customer.claimed_at, days=7)

    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(customer=customer, owner=rep, owned_since=customer.claimed_at, days=3)

    assert ExtensionRequest.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_extension_requests_make_one(rep, pool):
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=5)

    outcomes = run_at_once(
        2, lambda i: services.request_extension(rep=rep, customer_id=customer.pk, reason="Budget in May").pk
    )

    assert sorted(status for status, _ in outcomes) == ["error", "ok"]
    assert next(v for s, v in outcomes if s == "error").code == "extension_already_requested"
    assert ExtensionRequest.objects.count() == 1
    assert PoolEvent.objects.filter(kind=PoolEventKind.EXTENSION_REQUEST).count() == 1
    assert customer.claimed_at <= timezone.now()


def _reason_no_need() -> None:
    # Transactional tests empty the tables, the reasons a migration made included.
    ReleaseReason.objects.get_or_create(code="no_need", defaults={"label": "No need", "label_zh": "没有需求"})


@pytest.mark.django_db(transaction=True)
def test_an_approval_waits_for_a_release_in_progress_and_then_refuses(rep, manager, pool):
    """The decision locks the customer row: an approval arriving while a release holds the row
    waits for it, then sees the customer gone and changes nothing (before the lock, it read the
    customer as still the rep's and approved)."""
    _reason_no_need()
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    customer = owned(rep, pool, claimed_days_ago=5)
    request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender", days=5)
    locked = threading.Event()

    def work(i):
        if i == 0:
            with transaction.atomic():
                list(Customer.objects.select_for_update().filter(pk=customer.pk))
                locked.set()
                time.sleep(0.5)  # the approval arrives meanwhile and must wait
                services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need")
            return "released"
        assert locked.wait(timeout=10)
        return services.decide_extension(actor=manager, request_id=request.pk, approve=True)

    released, approval = run_at_once(2, work)

    assert released == ("ok", "released")
    assert approval[0] == "error"
    assert isinstance(approval[1], CustomerLeftRep)
    request.refresh_from_db()
    assert request.status == ExtensionStatus.PENDING
    assert not Notification.objects.filter(kind=NotificationKind.EXTENSION_DECIDED).exists()
    assert Customer.objects.get(pk=customer.pk).recycle_extension_days == 0


@pytest.mark.django_db(transaction=True)
def test_approval_racing_a_release_never_extends_a_customer_the_rep_lost(rep, manager, pool):
    _reason_no_need()
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    for _round in range(6):
        customer = owned(rep, pool, claimed_days_ago=5)
        request = services.request_extension(rep=rep, customer_id=customer.pk, reason="Tender", days=5)

        def work(i: int, customer=customer, request=request) -> object:
            if i == 0:
                return services.release_customer(actor=rep, customer_id=customer.pk, reason="no_need")
            return services.decide_extension(actor=manager, request_id=request.pk, approve=True)

        outcomes = run_at_once(2, work)

        assert outcomes[0][0] == "ok", outcomes
        request.refresh_from_db()
        customer.refresh_from_db()
        assert customer.owner_id is None
        assert customer.recycle_extension_days == 0
        events = list(
            PoolEvent.objects.filter(customer=customer).order_by("id").values_list("kind", flat=True)
        )
        if outcomes[1][0] == "ok":  # approved first, then released
            assert request.status == ExtensionStatus.APPROVED
            assert events.index(PoolEventKind.EXTENSION_APPROVE) < events.index(PoolEventKind.RELEASE)
        else:  # released first: the approval changed nothing
            assert isinstance(outcomes[1][1], CustomerLeftRep)
            assert request.status == ExtensionStatus.PENDING
            assert PoolEventKind.EXTENSION_APPROVE not in events
