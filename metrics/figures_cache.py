"""Figures of closed periods, kept in Django's cache (Redis in production) between requests.

At a million customers a dashboard computes its figures in seconds: the KPIs that cannot be
summed (distinct customers worked, medians, cohorts) read raw rows, and so do the funnel, the
leaderboard medians and the campaign table. A period that ended before today no longer
changes — apart from history entered late (a follow-up backdated into it), which the nightly
roll-up picks up — so its figures are computed once and served from the cache after that:

- only for periods that end on or before today (``period.end <= local_today()``): today's and
  the current period's figures are always live;
- keyed by the function, its arguments and the *data version*, a token every roll-up run
  replaces when it commits (``new_data_version``): so a backdated entry shows from the next
  morning at the latest, and ``METRICS_CACHE_SECONDS`` (default six hours) bounds it again;
- figures only, never a user's permissions: the callers check visibility before they ask, and
  a key never holds what one user may see and another may not (lists of customers are not
  cached). Results that carry translated labels are kept per language.

Within one request (``rollups.shared_reads``, which enters ``one_version``) the data version is
read once, so a page's figures all come from one version, and ``prefetch`` reads the KPIs of a
closed period in one ``get_many``: a page costs a handful of cache round trips, not one per
figure.

``warm_dashboards`` (run by the nightly roll-up task) fills the cache for the closed presets
a manager opens most (last week, month and quarter) for the company and every team, so those
pages are fast from the first visit. Tests run with the dummy cache (nothing kept), except
the tests of this module.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import uuid
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.utils import translation

from crm_site.db_routers import read_connection
from metrics.periods import Period, local_today, start_of_day

F = TypeVar("F", bound=Callable[..., Any])

_MISSING = object()


VERSION_KEY = "metrics:data-version"

# Within ``one_version()``: the data version read first in the block (a list, empty until then).
_pinned: ContextVar[list[str] | None] = ContextVar("metrics_data_version", default=None)
# Within ``one_version()``: cached figures fetched ahead by ``prefetch``, by key.
_prefetched: ContextVar[dict[str, Any] | None] = ContextVar("metrics_prefetched", default=None)


def data_version() -> str:
    """The current data version: a token ``new_data_version`` replaces after each roll-up run.

    Kept in the cache itself, so reading it costs no database query; if the cache lost it
    (restarted, evicted), a fresh token is made, which only means computing afresh. Within
    ``one_version()`` it is read once for the block."""
    pinned = _pinned.get()
    if pinned:
        return pinned[0]
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(VERSION_KEY) or ""
    if pinned is not None:
        pinned.append(version)
    return version


@contextmanager
def one_version() -> Iterator[None]:
    """Read the data version once within the block (one request's figures): a dashboard asks
    for it before each of its thirty-odd cached figures, one cache round trip each, and the
    figures of one page should all come from the same version anyway — a roll-up that commits
    mid-page no longer mixes the two. ``rollups.shared_reads`` enters it."""
    token = _pinned.set([])
    fetched = _prefetched.set({})
    try:
        yield
    finally:
        _prefetched.reset(fetched)
        _pinned.reset(token)


def new_data_version() -> None:
    """Start a new data version: every cached figure is computed afresh from now on. The roll-up
    calls it when its transaction commits (within ``one_version()``, the block uses the new one
    from then on)."""
    version = uuid.uuid4().hex
    cache.set(VERSION_KEY, version, timeout=None)
    pinned = _pinned.get()
    if pinned is not None:
        pinned[:] = [version]


def _closed(period: Period) -> bool:
    return period.end <= local_today()


def _key(name: str, arguments: dict[str, Any], version: str, *, per_language: bool) -> str:
    described = repr(sorted((key, repr(value)) for key, value in arguments.items()))
    language = (translation.get_language() or "") if per_language else ""
    digest = hashlib.sha1(f"{described}|{version}|{language}".encode(), usedforsecurity=False).hexdigest()
    return f"metrics:{connection.settings_dict['NAME']}:{name}:{digest}"


def _get_or_compute(key: str, compute: Callable[[], Any]) -> Any:
    """The value kept under ``key``, else ``compute()``'s, kept for ``METRICS_CACHE_SECONDS``.
    (Not ``cache.get_or_set``: its ``add`` and second ``get`` cost two more round trips.)"""
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = compute()
        cache.set(key, value, timeout=settings.METRICS_CACHE_SECONDS)
    return value


def cached_for_closed_period(function: F | None = None, *, per_language: bool = False) -> Any:
    """Serve ``function(*, period=..., ...)`` from the cache when ``period`` is closed.

    The function must be keyword-only, and its result must depend on nothing but its
    arguments and the data (never on who asks); ``per_language=True`` for a result that
    carries translated labels, which keys it by the active language too."""
    if function is None:
        return functools.partial(cached_for_closed_period, per_language=per_language)
    name = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def wrapper(**arguments: Any) -> Any:
        period = arguments.get("period")
        if not isinstance(period, Period) or not _closed(period):
            return function(**arguments)
        key = _key(name, arguments, data_version(), per_language=per_language)
        value = (_prefetched.get() or {}).pop(key, _MISSING)
        if value is _MISSING:
            value = _get_or_compute(key, lambda: function(**arguments))
        return value

    wrapper.cache_key = lambda **arguments: (  # type: ignore[attr-defined]
        _key(name, arguments, data_version(), per_language=per_language)
        if isinstance(arguments.get("period"), Period) and _closed(arguments["period"])
        else None
    )
    return wrapper


def prefetch(function: Any, calls: Iterable[dict[str, Any]]) -> None:
    """Fetch ahead, in one ``get_many``, the cached results of ``function`` (a
    :func:`cached_for_closed_period` function) for the argument sets ``calls`` that the block
    will ask for one by one — a dashboard's two dozen KPIs of a closed period are one cache
    round trip instead of one each. Only within ``one_version()`` (elsewhere a no-op); each
    result fetched is used once, by the call that asks for it, and what is missing is computed
    and stored by that call as usual."""
    fetched = _prefetched.get()
    if fetched is None:
        return
    keys = [key for key in (function.cache_key(**arguments) for arguments in calls) if key is not None]
    if keys:
        fetched.update(cache.get_many(keys))


def inputs_by_day(
    *, name: str, period: Period, scope: Any, fetch: Callable[[Period], dict[Any, Any]]
) -> list[Any]:
    """The per-day inputs of a non-additive KPI (the customer ids worked on a day, the sales
    cycles of the deals won on a day, ...) over ``period``, one entry per day, for a period
    that includes today.

    A closed day's inputs no longer change (but for history entered late, as for closed
    periods), so they are kept in the cache per day under the data version: the first request
    of the day fetches the closed days it lacks in one grouped query (``fetch`` of the span
    from the first missing day to the last, which answers ``{day: inputs}``) and stores each
    day; later requests read them with one ``get_many``. Today's inputs are always fetched
    live. So "this month" costs a cache read and a one-day query, like a closed period.
    """
    today = local_today()
    closed_end = min(period.end, today)
    inputs: list[Any] = []
    if period.start < closed_end:
        days = [period.start + dt.timedelta(days=n) for n in range((closed_end - period.start).days)]
        version = data_version()
        keys = {
            day: _key(f"{name}:day", {"day": day, "scope": scope}, version, per_language=False)
            for day in days
        }
        found = cache.get_many(list(keys.values()))
        missing = [day for day in days if keys[day] not in found]
        if missing:
            fetched = fetch(Period(missing[0], missing[-1] + dt.timedelta(days=1)))
            fresh = {keys[day]: fetched.get(day, ()) for day in missing}
            cache.set_many(fresh, timeout=settings.METRICS_CACHE_SECONDS)
            found.update(fresh)
        inputs.extend(found[keys[day]] for day in days)
    if period.end > today:
        inputs.append(fetch(Period(today, today + dt.timedelta(days=1))).get(today, ()))
    return inputs


def rows_with_changes(
    *,
    name: str,
    period: Period,
    scope: Any,
    fetch: Callable[[Period], dict[Any, Any]],
    changed: Callable[[dt.datetime], Iterable[tuple[Any, ...]]],
) -> list[tuple[Any, ...]]:
    """The rows of a cohort-like input (one row per take of a lead, first element its id) over
    ``period``, for a period that includes today, when a closed day's rows can still change
    after that day: a lead taken last week is won today, a claim from yesterday gets its first
    follow-up today.

    Each row is a fact *as of* the moment it was read. The closed days' rows are kept per day as
    :func:`inputs_by_day` keeps its inputs, but keyed by today's date as well as the data
    version, so every cached row was read today, after today's first moment. Then
    ``changed(start of today)`` reads again, live, the rows of the period whose lead has had
    an event since that moment (its own query knows which events move its rows: a pool event,
    a won deal, a follow-up; today's takes are among them), and those replace the cached rows
    with the same id. A row none of whose events happened today is the same now as when it was
    read, so the union equals the rows read all at once (``tests/metrics/test_current_period.py``
    and the current-period mode of ``tests/metrics/test_kpis_independent.py``).

    Freshness (decision): what a day's rows cannot see is a change to history that does not
    leave an event dated today — a follow-up entered with an earlier date, a deal's amount or
    owner edited, a rep moved to another team. Those show after the nightly roll-up, which
    starts a new data version (and within ``METRICS_CACHE_SECONDS`` in any case), exactly as for
    a closed period's figures.
    """
    today = local_today()
    rows: dict[Any, tuple[Any, ...]] = {}
    if period.start < today:
        closed = Period(period.start, min(period.end, today))
        for day_rows in inputs_by_day(name=name, period=closed, scope=(scope, today), fetch=fetch):
            rows.update((row[0], row) for row in day_rows)
    for row in changed(start_of_day(today)):
        rows[row[0]] = row
    return list(rows.values())


def stock_with_changes(
    *,
    name: str,
    key: Any,
    scope: Any,
    fetch: Callable[[], dict[Any, Any]],
    changed: Callable[[dt.datetime, Collection[Any]], Iterable[tuple[Any, Any]]],
) -> dict[Any, Any]:
    """A stock as at now — one row per customer of ``scope`` (``{id: row}``) behind a figure
    read "as at the period end" when that end is after now (repurchase, retention and churn,
    acquisition rate of the current period), or one row per deal (the current period's funnel)
    — from a copy of the stock kept in the cache since the first request of the day, corrected
    by the rows that changed today.

    ``fetch()`` reads the whole stock of the scope; it is kept under the data version and
    today's date (``key`` says what else it depends on, e.g. the period end), so the copy was
    read today, after today's first moment. ``changed(start of today)`` then reads again, live,
    every customer whose row may have changed since that moment — those with a deal changed
    today and those that entered or left the scope today (its own query knows which events do
    that: a pool event, a deal's update) — as ``(id, row)``, with ``row`` None for a customer
    that is no longer in the stock, and those replace the copy's rows. It is also given the
    ids the copy holds, so that it can look for what left the scope today among those only. A customer with no such
    change today has the row it had when the copy was read, so the result equals the stock read
    all at once (``tests/metrics/test_current_period.py``).

    Freshness (decision) as for :func:`rows_with_changes`: a change that leaves no trace dated
    today (a rep moved to another team, a row edited in the database directly) shows after the
    nightly roll-up starts a new data version.
    """
    today = local_today()
    cache_key = _key(
        f"{name}:stock", {"key": key, "scope": scope, "today": today}, data_version(), per_language=False
    )
    rows = dict(_get_or_compute(cache_key, fetch))
    for pk, row in changed(start_of_day(today), rows.keys()):
        if row is None:
            rows.pop(pk, None)
        else:
            rows[pk] = row
    return rows


def rolled_rows(sql: str, params: dict[str, Any], *, live_days: Any) -> list[tuple[Any, ...]]:
    """The rows of a query over the roll-up table alone (the rolled-up days of a current
    period), kept under the data version: the roll-up rows change only when a roll-up run
    commits, which starts a new data version (``new_data_version``). Keyed by ``live_days``
    too, the days the caller reads live beside them, so that the two parts always split the
    period alike."""
    arguments = {"sql": sql, "params": params, "live_days": live_days}
    key = _key("rolled_rows", arguments, data_version(), per_language=False)

    def read() -> list[tuple[Any, ...]]:
        with read_connection().cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    return _get_or_compute(key, read)
