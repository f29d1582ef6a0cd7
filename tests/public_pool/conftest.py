"""Fixtures and helpers of the public pool tests: a pool of the ``team`` fixture, owned customers
with a rule-driven deadline, and a runner that starts callables on real threads at once."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from customers.models import Customer
from public_pool import services
from tests.factories import CustomerFactory, PoolFactory


@pytest.fixture
def pool(team):
    pool = PoolFactory(name="East leads")
    pool.teams.add(team)
    return pool


@pytest.fixture
def other_pool(db):
    """A pool no fixture team is a member of."""
    return PoolFactory(name="West leads")


def days_ago(days: float) -> Any:
    return timezone.now() - timedelta(days=days)


def owned(
    rep, pool, *, claimed_days_ago: float = 0, followup_days_ago: float | None = None, **fields
) -> Customer:
    """A customer ``rep`` took from ``pool``, its recycle policy matched as the services would."""
    customer = CustomerFactory(
        owner=rep,
        home_pool=pool,
        claimed_at=days_ago(claimed_days_ago),
        created_at=days_ago(claimed_days_ago + 10),
        last_followup_at=None if followup_days_ago is None else days_ago(followup_days_ago),
        **fields,
    )
    services.refresh_recycle_policies(customers=Customer.objects.filter(pk=customer.pk))
    customer.refresh_from_db()
    return customer


def pooled(pool, **fields) -> Customer:
    return CustomerFactory(pooled=True, pool=pool, home_pool=pool, **fields)


def run_at_once(count: int, work: Callable[[int], Any]) -> list[tuple[str, Any]]:
    """Run ``work(i)`` for i in range(count) on ``count`` threads released together by a barrier.

    Each thread has its own database connection (closed at the end). Answers
    ``("ok", value)`` or ``("error", exception)`` per thread, in order.
    """
    barrier = threading.Barrier(count)

    def call(i: int) -> tuple[str, Any]:
        try:
            barrier.wait(timeout=30)
            return ("ok", work(i))
        except Exception as error:
            return ("error", error)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=count) as executor:
        return list(executor.map(call, range(count)))
