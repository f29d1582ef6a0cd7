import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer
from tests.factories import CustomerFactory, PoolFactory

pytestmark = pytest.mark.django_db


def test_a_customer_cannot_be_owned_and_pooled_at_once(rep):
    customer = CustomerFactory(owner=rep)

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(pool=PoolFactory())

    customer.refresh_from_db()
    assert (customer.owner, customer.pool) == (rep, None)


def test_a_customer_cannot_be_neither_owned_nor_pooled(rep):
    customer = CustomerFactory(owner=rep)

    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.filter(pk=customer.pk).update(owner=None, team=None)

    customer.refresh_from_db()
    assert customer.owner == rep
