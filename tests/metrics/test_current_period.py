"""The current period: the distinct and median KPIs read the closed days' inputs from the cache
(kept per day) and only today's live, and the figures equal the ones computed in one query."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import DealStage
from metrics.kpis import pool as pool_kpis
from metrics.kpis import sales as sales_kpis
from metrics.periods import Period, Scope, local_today, start_of_day
from public_pool.models import PoolEventKind
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, PoolFactory
from tests.metrics.factories import PoolEventFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def real_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def _history(rep, days: int) -> Period:
    """Follow-ups, won deals and claims on each of the last ``days`` days and today, some at
    00:00 local time; answers the period from the first of those days through today."""
    today = local_today()
    first = today - dt.timedelta(days=days)
    pool = PoolFactory()
    for offset in range(days + 1):
        day = first + dt.timedelta(days=offset)
        midnight = start_of_day(day)
        moment = min(
            midnight + dt.timedelta(hours=offset % 20), timezone.now() - dt.timedelta(seconds=offset + 1)
        )
        moment = max(moment, midnight)
        for n in range(offset % 3 + 1):
            customer = CustomerFactory(owner=rep, created_at=midnight - dt.timedelta(days=n + offset))
            FollowUpFactory(customer=customer, by=rep, at=moment)
            claimed = midnight - dt.timedelta(hours=5 * n + offset, minutes=30)
            entered = claimed - dt.timedelta(hours=n + offset + 1)
            PoolEventFactory(customer=customer, kind=PoolEventKind.CREATE, to_pool=pool, at=entered)
            PoolEventFactory(
                customer=customer, kind=PoolEventKind.CLAIM, from_pool=pool, to_owner=rep, at=claimed
            )
            DealFactory(
                customer=customer, owner=rep, stage=DealStage.WON, amount=Decimal(100), closed_at=moment
            )
    return Period(first, today + dt.timedelta(days=1))


def _in_one_query(monkeypatch, function, **arguments):
    """The figure as a closed period computes it (one statement over every day)."""
    monkeypatch.setattr(Period, "contains_today", lambda self: False)
    try:
        return function(**arguments)
    finally:
        monkeypatch.undo()


@pytest.mark.parametrize("scope_kind", ["company", "team", "rep"])
def test_current_period_figures_equal_the_one_query_figures(monkeypatch, rep, scope_kind):
    period = _history(rep, days=6)
    scope = {"company": Scope.company(), "team": Scope.team(rep.team_id), "rep": Scope.rep(rep.pk)}[
        scope_kind
    ]

    for function in (sales_kpis.sales_cycle, pool_kpis.time_to_claim):
        by_day = function(period=period, scope=scope)
        assert by_day.value is not None
        assert by_day == _in_one_query(monkeypatch, function, period=period, scope=scope), function.__name__
    for per_rep in (sales_kpis.worked_customers_per_rep, sales_kpis.sales_cycle_per_rep):
        per_rep_figures = per_rep(period=period, scope=scope)
        assert per_rep_figures
        assert per_rep_figures == _in_one_query(monkeypatch, per_rep, period=period, scope=scope), (
            per_rep.__name__
        )
    worked = sales_kpis.worked_customers(period=period, scope=scope)
    assert worked == _in_one_query(monkeypatch, sales_kpis.worked_customers, period=period, scope=scope)
    assert worked == sum(offset % 3 + 1 for offset in range(7))


def test_closed_days_are_read_from_the_cache_and_only_today_is_queried(rep):
    period = _history(rep, days=6)
    scope = Scope.rep(rep.pk)
    first = sales_kpis.worked_customers(period=period, scope=scope)

    with CaptureQueriesContext(connection) as queries:
        again = sales_kpis.worked_customers(period=period, scope=scope)

    assert again == first
    assert len(queries) == 1  # today's follow-ups; the six closed days came from the cache
