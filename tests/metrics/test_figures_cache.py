"""A closed period's figures are kept in the cache until the next roll-up run; today's never are.

These tests switch a real (in-process) cache on; the rest of the suite runs with the dummy one
(``crm_site/settings_test.py``) because its tests build different histories for the same periods.
"""

import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics import dashboard, figures_cache, kpis
from metrics.periods import Grain, Period, Scope, local_today, preset_period
from metrics.selectors import rollups
from metrics.services import rollups as rollups_services
from tests.factories import CustomerFactory, FeedbackFactory

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
APRIL = Period(dt.date(2025, 4, 1), dt.date(2025, 5, 1))


@pytest.fixture(autouse=True)
def real_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    yield
    cache.clear()


def answer(rep, score: int, at: dt.datetime) -> None:
    FeedbackFactory(customer=CustomerFactory(owner=rep), nps=score, at=at)


def nps(period: Period) -> object:
    return kpis.compute(period=period, scope=Scope.company(), codes=["nps"])["nps"].value


def roll_up_april(capture_on_commit) -> None:
    with capture_on_commit(execute=True):
        rollups_services.rollup_days(since=dt.date(2025, 4, 1), until=dt.date(2025, 4, 30))


def test_a_closed_period_is_computed_once_until_the_next_roll_up(rep, django_capture_on_commit_callbacks):
    answer(rep, 10, dt.datetime(2025, 4, 10, 10, tzinfo=SHANGHAI))
    roll_up_april(django_capture_on_commit_callbacks)
    assert nps(APRIL) == 100

    # History entered late into April: the cached figure stands until the roll-up runs again...
    answer(rep, 0, dt.datetime(2025, 4, 11, 10, tzinfo=SHANGHAI))
    assert nps(APRIL) == 100

    # ... which starts a new data version when it commits: the figure is computed afresh.
    roll_up_april(django_capture_on_commit_callbacks)
    assert nps(APRIL) == 0


def test_one_request_reads_the_data_version_once():
    """Within ``shared_reads`` (one request) the data version is read once, so all the page's
    figures come from one version; outside it every read sees the current one."""
    first = figures_cache.data_version()
    cache.set(figures_cache.VERSION_KEY, "another process's roll-up")
    assert figures_cache.data_version() == "another process's roll-up"

    with rollups.shared_reads():
        pinned = figures_cache.data_version()
        cache.set(figures_cache.VERSION_KEY, "a roll-up elsewhere, mid-request")
        assert figures_cache.data_version() == pinned
        figures_cache.new_data_version()  # a roll-up committed by this very block
        assert figures_cache.data_version() == cache.get(figures_cache.VERSION_KEY) != pinned

    cache.set(figures_cache.VERSION_KEY, "after the request")
    assert figures_cache.data_version() == "after the request" != first


def test_a_closed_periods_kpis_are_read_ahead_in_one_round_trip(rep, django_capture_on_commit_callbacks):
    """Within one request, ``kpis.compare`` of a closed period reads every KPI of both periods
    with one ``get_many`` (``figures_cache.prefetch``) instead of one ``get`` each, and the
    figures are those computed without it."""
    answer(rep, 10, dt.datetime(2025, 4, 10, 10, tzinfo=SHANGHAI))
    answer(rep, 0, dt.datetime(2025, 3, 10, 10, tzinfo=SHANGHAI))
    roll_up_april(django_capture_on_commit_callbacks)
    scope = Scope.company()
    first = {c.definition.code: (c.current, c.previous) for c in kpis.compare(period=APRIL, scope=scope)}
    assert first["nps"] == (kpis.compute(period=APRIL, scope=scope, codes=["nps"])["nps"], first["nps"][1])
    assert first["nps"][0].value == 100

    backend = caches["default"]
    one_by_one: list[str] = []
    at_once: list[list[str]] = []
    get, get_many = backend.get, backend.get_many

    def single(key, *args, **kwargs):
        one_by_one.append(key)
        return get(key, *args, **kwargs)

    def many(keys, *args, **kwargs):
        at_once.append(list(keys))
        with mock.patch.object(backend, "get", get):  # the local-memory cache's get_many loops over get
            return get_many(keys, *args, **kwargs)

    with (
        rollups.shared_reads(),
        mock.patch.object(backend, "get", single),
        mock.patch.object(backend, "get_many", many),
    ):
        again = {c.definition.code: (c.current, c.previous) for c in kpis.compare(period=APRIL, scope=scope)}

    assert again == first
    assert [key for key in one_by_one if "_evaluate" in key] == []
    assert len(at_once) == 1
    assert len(at_once[0]) == 2 * len(first)


def test_a_period_that_includes_today_is_always_live(rep):
    today = local_today()
    this_week = Period.preset(Grain.WEEK, containing=today)
    now = dt.datetime.now(SHANGHAI)
    answer(rep, 10, now)
    assert nps(this_week) == 100

    answer(rep, 0, now)

    assert nps(this_week) == 0


def test_warming_serves_the_dashboard_from_the_cache(client, manager, team, rep):
    last_quarter = preset_period("last_quarter", today=local_today())
    answer(rep, 9, dt.datetime.combine(last_quarter.start, dt.time(10), tzinfo=SHANGHAI))
    rollups_services.rollup_days(since=last_quarter.start, until=last_quarter.last_day)
    client.force_login(manager)
    url = reverse("metrics:dashboard")
    params = {"period": "last_quarter", "scope": "team", "id": team.pk}
    with CaptureQueriesContext(connection) as cold:
        cold_page = client.get(url, params)
    cache.clear()

    pages = dashboard.warm_closed_dashboards(presets=("last_quarter",), scopes=[Scope.team(team.pk)])
    with CaptureQueriesContext(connection) as warm:
        warm_page = client.get(url, params)

    assert pages == 2  # the page, in English and in Chinese
    assert cold_page.status_code == warm_page.status_code == 200
    assert len(warm.captured_queries) < len(cold.captured_queries) / 2
    assert warm_page.context["tables"]["kpis"].rows == cold_page.context["tables"]["kpis"].rows
