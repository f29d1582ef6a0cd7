"""Metrics benchmark (issue 4, "What it must show" #4), on the database of ``DATABASE_URL``.

    python -m bench.metrics [--repeat 3] [--requests 50] [--warmup 5] [--manager manager1]

Prints, each beside the raw SQL aggregation of the same numbers and the ratio (target: roll-ups
within 2x the raw aggregation; dashboard p95 <= 150 ms):

1. the nightly roll-up of one day (yesterday, company time zone): ``rollup_days`` against the
   same grouped ``SELECT`` without the write (best of ``--repeat``);
2. a full backfill of a year (the 365 days through yesterday, one ``rollup_days`` call) against
   that year's grouped ``SELECT``;
3. the KPIs of the last full quarter for the manager's team (``metrics.kpis.compare``: the
   quarter and the one before) read from the roll-ups, against the same KPIs computed with no
   roll-ups at all (the ``RollupDay`` marks removed in a transaction that is rolled back, so
   every additive sum is aggregated from the raw rows);
4. when the URL ``metrics:dashboard`` exists, the manager dashboard for the last quarter
   (``?period=last_quarter``) through ``django.test.Client`` with ``force_login``: the first
   request with nothing cached, the nightly ``warm_dashboards`` run, then p50/p95 of
   ``--requests`` timed requests after ``--warmup`` with the figures cached, and the query
   count of one request. Sections 1-3 run with the figures cache off;
5. the same dashboard for ``?period=this_month`` in the same run: p50/p95 with the closed days'
   inputs cached (only today live), their ratio to section 4's (target <= 3x), and the slowest
   KPIs of the month. The timed requests of sections 4 and 5 alternate (closed quarter, this
   month, closed quarter, ...), so that on a shared machine both see the same load.

The roll-ups are idempotent, so running this on a seeded database changes nothing but the
roll-up rows' ids. Develop on a small database (``seed_demo --customers 50000``); the lead runs
it at 1,000,000 customers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402

from customers.models import User  # noqa: E402
from metrics import dashboard, kpis  # noqa: E402
from metrics.models import ADDITIVE_MEASURES, RollupDay  # noqa: E402
from metrics.periods import Grain, Period, Scope, local_today, start_of_day  # noqa: E402
from metrics.selectors import rollups  # noqa: E402
from metrics.services import rollups as rollups_services  # noqa: E402

TARGET_RATIO = 2.0
TARGET_P95_MS = 150.0
TARGET_CURRENT_RATIO = 3.0  # the current month within 3x the cached closed quarter


def log(message: str) -> None:
    print(message, flush=True)


def raw_aggregation(since: dt.date, until: dt.date) -> float:
    """Seconds of the roll-up's grouped ``SELECT`` for the days, without writing: every group and
    every sum is computed (``COUNT(g.*)`` reads whole rows, so PostgreSQL cannot skip unused
    columns); only the count travels."""
    params: dict[str, Any] = {}
    ranges = rollups._Ranges([(start_of_day(since), start_of_day(until + dt.timedelta(days=1)))])
    select = rollups._live_select(ranges, params, since)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in ADDITIVE_MEASURES)
    sql = f"SELECT COUNT(g.*) FROM (SELECT day, rep_id, team_id, pool_id, channel, {sums} FROM ({select}) s GROUP BY 1, 2, 3, 4, 5) g"  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL work_mem = '128MB'")  # as the roll-up does
        started = time.perf_counter()
        cursor.execute(sql, params)
        cursor.fetchone()
        return time.perf_counter() - started


def best_of(repeat: int, action) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), result


def verdict(ratio: float) -> str:
    return "ok" if ratio <= TARGET_RATIO else "MISSED"


def last_quarter() -> Period:
    current = Period.preset(Grain.QUARTER)
    return Period.preset(Grain.QUARTER, containing=current.start - dt.timedelta(days=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each roll-up timing (best kept)")
    parser.add_argument("--requests", type=int, default=50, help="timed dashboard requests")
    parser.add_argument("--warmup", type=int, default=5, help="dashboard requests before timing")
    parser.add_argument("--manager", default="manager1")
    parser.add_argument("--skip-backfill", action="store_true", help="time only one day and the dashboard")
    parser.add_argument(
        "--dashboards-only",
        action="store_true",
        help="only the two dashboards timed alternately (the closed quarter's and this month's)",
    )
    options = parser.parse_args()

    manager = User.objects.filter(username=options.manager).first()
    if options.dashboards_only:
        if manager is None or manager.team_id is None:
            log(f"==> no manager {options.manager!r} with a team: dashboard timings skipped")
            return
        _dashboards(options, manager, Scope.team(manager.team_id))
        return

    yesterday = local_today() - dt.timedelta(days=1)
    year_start = yesterday - dt.timedelta(days=364)

    log(f"==> roll-up of one day ({yesterday})")
    raw = min(raw_aggregation(yesterday, yesterday) for _ in range(options.repeat))
    took, rows = best_of(
        options.repeat, lambda: rollups_services.rollup_days(since=yesterday, until=yesterday)
    )
    log(f"    rollup_days: {took * 1000:.0f} ms ({rows} rows); raw aggregation: {raw * 1000:.0f} ms; "
        f"ratio {took / raw:.2f} (target <= {TARGET_RATIO}): {verdict(took / raw)}")  # fmt: skip

    if not options.skip_backfill:
        log(f"==> backfill of a year ({year_start} … {yesterday})")
        raw = raw_aggregation(year_start, yesterday)
        took, rows = best_of(1, lambda: rollups_services.rollup_days(since=year_start, until=yesterday))
        log(f"    rollup_days: {took:.2f} s ({rows} rows); raw aggregation: {raw:.2f} s; "
            f"ratio {took / raw:.2f} (target <= {TARGET_RATIO}): {verdict(took / raw)}")  # fmt: skip

    if manager is None or manager.team_id is None:
        log(f"==> no manager {options.manager!r} with a team: KPI and dashboard timings skipped")
        return
    quarter = last_quarter()
    scope = Scope.team(manager.team_id)
    log(f"==> KPIs of {quarter} for team {manager.team_id} ({options.manager}'s), with the previous quarter")
    kpis.load()
    # The computation itself, not the figures cache (metrics/figures_cache.py): nothing kept.
    no_cache = override_settings(
        CACHES={"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    )
    no_cache.enable()

    def compare() -> object:
        with rollups.shared_reads():  # as the API and the dashboard read them
            return kpis.compare(period=quarter, scope=scope)

    with_rollups, _ = best_of(options.repeat, compare)
    with CaptureQueriesContext(connection) as queries:
        compare()

    def without_rollups() -> float:
        with transaction.atomic():
            RollupDay.objects.all().delete()  # every day computed live from the raw rows
            seconds, _ = best_of(1, compare)
            transaction.set_rollback(True)
        return seconds

    raw = min(without_rollups() for _ in range(options.repeat))
    log(f"    from roll-ups: {with_rollups * 1000:.0f} ms ({len(queries)} queries); from raw rows only: "
        f"{raw * 1000:.0f} ms; ratio {with_rollups / raw:.2f}")  # fmt: skip
    slowest = sorted(_per_kpi(quarter, scope), key=lambda item: -item[1])[:5]
    log(
        "    slowest KPIs (from roll-ups, both periods): "
        + ", ".join(f"{c} {ms:.0f} ms" for c, ms in slowest)
    )

    no_cache.disable()
    _dashboards(options, manager, scope)


def _dashboards(options: argparse.Namespace, manager: User, scope: Scope) -> None:
    """Sections 4 and 5: the cached closed quarter's page and this month's, timed alternately."""
    try:
        url = reverse("metrics:dashboard")
    except NoReverseMatch:
        log("==> no URL named metrics:dashboard: dashboard timing skipped")
        return
    client = Client()
    client.force_login(manager)
    params = {"period": "last_quarter"}
    log(f"==> manager dashboard {url}?period=last_quarter as {options.manager}")
    cache.clear()
    started = time.perf_counter()
    client.get(url, params)
    log(f"    first request, nothing cached: {(time.perf_counter() - started) * 1000:.0f} ms")
    cache.clear()
    started = time.perf_counter()
    pages = dashboard.warm_closed_dashboards(presets=("last_quarter",), scopes=[scope])
    log(f"    warm_dashboards for this page (the nightly job does every team): {pages} pages in "
        f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    for _ in range(options.warmup):
        response = client.get(url, params)
        assert response.status_code == 200, response.status_code  # noqa: S101

    # 5. The current month, in the same run: the additive figures from the roll-ups (today live),
    # the distinct and median inputs per closed day from the cache, only today computed live.
    current = {"period": "this_month"}
    started = time.perf_counter()
    client.get(url, current)
    first_month = (time.perf_counter() - started) * 1000
    for _ in range(options.warmup):
        client.get(url, current)
    # The two pages are timed alternately, so that both see the same load on a shared machine.
    times: list[float] = []
    month_times: list[float] = []
    for _ in range(options.requests):
        for query, found in ((params, times), (current, month_times)):
            started = time.perf_counter()
            client.get(url, query)
            found.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as page_queries:
        client.get(url, params)
    with CaptureQueriesContext(connection) as month_queries:
        client.get(url, current)
    p50 = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18] if len(times) >= 20 else max(times)
    log("    then, with the figures cached (timed alternately with this month's page):")
    log(f"    p50 {p50:.0f} ms, p95 {p95:.0f} ms (target <= {TARGET_P95_MS:.0f}): "
        f"{'ok' if p95 <= TARGET_P95_MS else 'MISSED'}; {len(page_queries)} queries")  # fmt: skip

    log(f"==> manager dashboard {url}?period=this_month (the current period) as {options.manager}")
    log(f"    first request (closed days' inputs fetched and cached): {first_month:.0f} ms")
    m50 = statistics.median(month_times)
    m95 = statistics.quantiles(month_times, n=20)[18] if len(month_times) >= 20 else max(month_times)
    ratio = max(m50 / p50, m95 / p95)  # both percentiles must be within the target
    log(f"    p50 {m50:.0f} ms, p95 {m95:.0f} ms; {len(month_queries)} queries")
    log(f"    this month ÷ cached closed quarter: p50 {m50 / p50:.1f}x, p95 {m95 / p95:.1f}x "
        f"(target <= {TARGET_CURRENT_RATIO:.0f}x): {'ok' if ratio <= TARGET_CURRENT_RATIO else 'MISSED'}")  # fmt: skip
    this_month = Period.preset(Grain.MONTH)
    slowest = sorted(_per_kpi(this_month, scope), key=lambda item: -item[1])[:6]
    log("    slowest KPIs this month (both periods): " + ", ".join(f"{c} {ms:.0f} ms" for c, ms in slowest))


def _per_kpi(period: Period, scope: Scope) -> list[tuple[str, float]]:
    timings = []
    previous = period.previous()
    for code, definition in kpis.load().items():
        started = time.perf_counter()
        definition(period=period, scope=scope)
        definition(period=previous, scope=scope)
        timings.append((code, (time.perf_counter() - started) * 1000))
    return timings


if __name__ == "__main__":
    main()
