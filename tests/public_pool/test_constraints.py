"""What the database itself refuses: ownership XOR, the append-only log, duplicate extensions."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from customers.models import Customer
from public_pool import services
from public_pool.models import ExtensionRequest, PoolEvent, PoolEventKind
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
