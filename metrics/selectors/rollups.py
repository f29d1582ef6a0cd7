"""Daily roll-ups: write them (``rollup_days``) and read them (``totals``, ``series``, ``by_rep``).

What a row counts, and whom it is attributed to (decisions the issue leaves open):

==================  ======================  ===============================  ======================
measures            source rows, by day of  rep (team = the rep's team)      pool / channel
==================  ======================  ===============================  ======================
followups_<kind>    FollowUp.at             who logged it (``by``)           customer's pool, else
deals_won,          Deal.closed_at (won /   the deal's owner                 its home pool / the
won_amount,         lost)                                                    customer's ``source``
deals_lost
new_customers       Customer.first_won_at   owner of that first won deal
customers_created   Customer.created_at     ``created_by``
claims, assigns     PoolEvent.at            the rep who got the lead         the pool it left
releases, recycles, PoolEvent.at            the rep who lost it (if any)     the pool it entered
pool_entries        (release, recycle,
                    create, import, move)
nps_*, csat_*       Feedback.at             the customer's owner             as for follow-ups
==================  ======================  ===============================  ======================

``pool_entries`` counts every event that puts a lead into a pool (``to_pool`` set); NPS
promoters are 9–10, detractors 0–6; CSAT "satisfied" is 4–5 and ``csat_sum`` the sum of scores.
A day is a calendar day in the company time zone (``metrics.periods``).

Writing. ``rollup_days`` replaces whole days: one transaction that takes an advisory lock
(two runs at once queue instead of interleaving), deletes the days' rows and inserts them again
with ONE ``INSERT ... SELECT`` whose ``SELECT`` is a ``UNION ALL`` of one aggregate per source
table over the whole day range, grouped by the key. Grouping once in the statement gives one
row per key without ``ON CONFLICT`` merges (which would need a unique index that treats null
dimensions as equal — PostgreSQL only) and is the same work as the raw aggregation plus the
write. It also marks the days in ``RollupDay``. Run twice over unchanged data it writes the same
rows (only the surrogate ids differ). A backfill of more than ``BULK_DAYS`` days drops the
table's indexes and rebuilds them after the insert (and empties the table with ``TRUNCATE``
when it replaces every row), which keeps a year's backfill near the cost of the aggregation;
the nightly one-day run leaves the indexes alone, so dashboards never wait for it.

Reading. A period's days that are marked come from ``DailyRollup``; the others (today, and any
day the nightly job has not reached yet) are computed live from the raw rows with the very same
per-source ``SELECT`` s, in the same statement. So ``totals`` costs two queries whatever the
period length: the marked days, then one ``SELECT`` over both parts.

Non-additive figures (distinct customers worked, medians, cohorts, retention, repurchase,
stale stock) cannot be summed from these rows; the KPI modules compute them from raw rows with
indexed queries and say so.

The SQL runs on PostgreSQL (production, tests, benchmarks) and on SQLite (the embedded demo):
the only differences are the local-day expression (SQLite: a fixed offset, taken at the start
of the range — right for zones without daylight saving such as Asia/Shanghai) and the lock."""

# ruff: noqa: S608

from __future__ import annotations

import bisect
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.db import connection, models

from crm_site.db_routers import read_connection
from customers.models import Customer, Deal, Feedback, FollowUp, User
from metrics import figures_cache
from metrics.models import ADDITIVE_MEASURES, DailyRollup, RollupDay
from metrics.periods import Grain, Period, Scope, ScopeKind, company_zone, local_today, start_of_day
from public_pool.models import PoolEvent

Totals = dict[str, Decimal | int]


logger = logging.getLogger(__name__)


def _t(model: type[models.Model]) -> str:
    return model._meta.db_table


ROLLUP_TABLE = _t(DailyRollup)


KEY_COLUMNS = ("day", "rep_id", "team_id", "pool_id", "channel")


MONEY_MEASURES = frozenset({"won_amount"})


@dataclass(frozen=True)
class _Ranges:
    """Half-open moments ``[lo, hi)`` a source's timestamp must fall in, as SQL and params."""

    bounds: list[tuple[dt.datetime, dt.datetime]]

    def condition(self, column: str, params: dict[str, Any]) -> str:
        parts = []
        for lo, hi in self.bounds:
            index = len(params)
            params[f"lo{index}"] = connection.ops.adapt_datetimefield_value(lo)
            params[f"hi{index}"] = connection.ops.adapt_datetimefield_value(hi)
            parts.append(f"({column} >= %(lo{index})s AND {column} < %(hi{index})s)")
        return "(" + " OR ".join(parts) + ")"


def _local_day(column: str, params: dict[str, Any], first: dt.date) -> str:
    if connection.vendor == "postgresql":
        params["tz"] = str(company_zone())
        return f"({column} AT TIME ZONE %(tz)s)::date"
    offset = start_of_day(first).utcoffset() or dt.timedelta(0)
    return f"date({column}, '{int(offset.total_seconds() // 60):+d} minutes')"


def local_day_sql(column: str, params: dict[str, Any], first: dt.date) -> str:
    """SQL for the company-time-zone calendar day of ``column`` (the roll-ups' day)."""
    return _local_day(column, params, first)


def as_day(value: dt.date | str) -> dt.date:
    """A day read back from :func:`local_day_sql` (SQLite answers text)."""
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def _measures(values: dict[str, str]) -> str:
    """Every measure column in ``ADDITIVE_MEASURES`` order, 0 where this source has none."""
    return ", ".join(f"{values.get(name, '0')} AS {name}" for name in ADDITIVE_MEASURES)


@dataclass(frozen=True)
class _Narrow:
    """SQL lists a live read of some people's rows narrows each source by, before it joins and
    groups (the outer filter on the key's ``team_id`` or ``rep_id`` still applies): ``users``
    the people's user ids, ``customers`` the ids of the customers they own (the attribution of
    feedback). Such a read's follow-ups, deals and pool events are not cut by pool or channel
    (``pool_id`` and ``channel`` NULL, apart from a pool event's pool), so that they need no
    customer looked up for each row; only ``PEOPLE_MEASURES_BY_CHANNEL`` may be grouped by those."""

    users: str
    customers: str


@dataclass(frozen=True)
class _Source:
    name: str
    measures: frozenset[str]

    def select(
        self, ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None = None
    ) -> str:
        return _SOURCE_SQL[self.name](ranges, params, first, narrow)


def _by_person(
    *,
    table: str,
    alias: str,
    rep: str,
    where: str,
    measures: dict[str, str],
    day: str,
    narrow: _Narrow | None,
) -> str:
    """One source's rows per day and person (``rep`` the column naming the person), cut by pool
    and channel through the row's customer — or, for some people's rows (``narrow``), not cut, so
    that no customer is looked up per row (see ``_Narrow``)."""
    if narrow:
        cut = "CAST(NULL AS bigint) AS pool_id, CAST(NULL AS text) AS channel"
        customer, where, group_by = "", f"{where} AND {rep} IN {narrow.users}", "1, 2, 3"
    else:
        cut = "COALESCE(c.pool_id, c.home_pool_id) AS pool_id, c.source AS channel"
        customer, group_by = f"JOIN {_t(Customer)} c ON c.id = {alias}.customer_id ", "1, 2, 3, 4, 5"
    return f"""
        SELECT {day} AS day, {rep} AS rep_id, u.team_id AS team_id, {cut}, {_measures(measures)}
        FROM {table} {alias}
        {customer}JOIN {_t(User)} u ON u.id = {rep}
        WHERE {where}
        GROUP BY {group_by}"""


def _followups(ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None) -> str:
    kinds = {f"followups_{k}": f"COUNT(*) FILTER (WHERE f.kind = '{k}')" for k in _FOLLOWUP_KINDS}
    return _by_person(
        table=_t(FollowUp),
        alias="f",
        rep="f.by_id",
        where=ranges.condition("f.at", params),
        measures=kinds,
        day=_local_day("f.at", params, first),
        narrow=narrow,
    )


def _deals(ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None) -> str:
    values = {
        "deals_won": "COUNT(*) FILTER (WHERE d.stage = 'won')",
        "won_amount": "COALESCE(SUM(d.amount) FILTER (WHERE d.stage = 'won'), 0)",
        "deals_lost": "COUNT(*) FILTER (WHERE d.stage = 'lost')",
    }
    return _by_person(
        table=_t(Deal),
        alias="d",
        rep="d.owner_id",
        where=f"d.stage IN ('won', 'lost') AND {ranges.condition('d.closed_at', params)}",
        measures=values,
        day=_local_day("d.closed_at", params, first),
        narrow=narrow,
    )


def _new_customers(ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None) -> str:
    if narrow:
        return _people_new_customers(ranges, params, first, narrow)
    day = _local_day("n.first_won_at", params, first)
    # The rep is the owner of the customer's first won deal (stable, unlike the current owner).
    return f"""
        SELECT {day} AS day, n.rep_id AS rep_id, u.team_id AS team_id, n.pool_id AS pool_id,
               n.source AS channel, {_measures({"new_customers": "COUNT(*)"})}
        FROM (
            SELECT c.first_won_at, c.source, COALESCE(c.pool_id, c.home_pool_id) AS pool_id,
                   COALESCE((SELECT d.owner_id FROM {_t(Deal)} d
                             WHERE d.customer_id = c.id AND d.stage = 'won'
                             ORDER BY d.closed_at, d.id LIMIT 1), c.owner_id) AS rep_id
            FROM {_t(Customer)} c
            WHERE {ranges.condition("c.first_won_at", params)}
        ) n
        LEFT JOIN {_t(User)} u ON u.id = n.rep_id
        GROUP BY 1, 2, 3, 4, 5"""


def _people_new_customers(ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow) -> str:
    """Some people's first wins: their won deals closed in the ranges (``deal_owner_stage_closed``,
    one index range per person) that are their customer's first win — no won deal before it by
    ``(closed_at, id)``, an index-only probe of ``deal_customer_won`` — whose customer's
    ``first_won_at`` is in the ranges too. These are the rows of the company-wide read that are
    attributed to the people (the owner of the first won deal), found from the people's few
    wins instead of from every customer's first win of the range: ``first_won_at`` is the
    ``closed_at`` of the customer's first won deal (``customers.services.activity`` keeps it so),
    and a customer without a won deal has no ``first_won_at``."""
    day = _local_day("c.first_won_at", params, first)
    return f"""
        SELECT {day} AS day, d.owner_id AS rep_id, u.team_id AS team_id,
               COALESCE(c.pool_id, c.home_pool_id) AS pool_id, c.source AS channel,
               {_measures({"new_customers": "COUNT(*)"})}
        FROM {_t(Deal)} d
        JOIN {_t(Customer)} c ON c.id = d.customer_id
        JOIN {_t(User)} u ON u.id = d.owner_id
        WHERE d.stage = 'won' AND {ranges.condition("d.closed_at", params)} AND d.owner_id IN {narrow.users}
          AND {ranges.condition("c.first_won_at", params)}
          AND NOT EXISTS (
              SELECT 1 FROM {_t(Deal)} e
              WHERE e.customer_id = d.customer_id AND e.stage = 'won'
                AND (e.closed_at < d.closed_at OR (e.closed_at = d.closed_at AND e.id < d.id)))
        GROUP BY 1, 2, 3, 4, 5"""


def _customers_created(
    ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None
) -> str:
    day = _local_day("c.created_at", params, first)
    return f"""
        SELECT {day} AS day, c.created_by_id AS rep_id, u.team_id AS team_id,
               COALESCE(c.pool_id, c.home_pool_id) AS pool_id, c.source AS channel,
               {_measures({"customers_created": "COUNT(*)"})}
        FROM {_t(Customer)} c
        LEFT JOIN {_t(User)} u ON u.id = c.created_by_id
        WHERE {ranges.condition("c.created_at", params)}
        GROUP BY 1, 2, 3, 4, 5"""


def _pool_events(ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None) -> str:
    day = _local_day("e.at", params, first)
    values = {
        "claims": "COUNT(*) FILTER (WHERE e.kind = 'claim')",
        "assigns": "COUNT(*) FILTER (WHERE e.kind = 'assign')",
        "releases": "COUNT(*) FILTER (WHERE e.kind = 'release')",
        "recycles": "COUNT(*) FILTER (WHERE e.kind = 'recycle')",
        "pool_entries": "COUNT(*) FILTER (WHERE e.to_pool_id IS NOT NULL)",
    }
    if narrow:
        # Some people's events: those they took (by ``poolevent_to_owner_at``) and those they
        # lost (by ``poolevent_from_owner_at``), one index range per person, instead of every
        # event of the company in the range filtered afterwards.
        events = f"""
            SELECT at, kind, customer_id, to_pool_id, to_owner_id AS rep_id, from_pool_id AS pool_id
            FROM {_t(PoolEvent)}
            WHERE kind IN ('claim', 'assign') AND {ranges.condition("at", params)}
              AND to_owner_id IN {narrow.users}
            UNION ALL
            SELECT at, kind, customer_id, to_pool_id, from_owner_id AS rep_id, to_pool_id AS pool_id
            FROM {_t(PoolEvent)}
            WHERE kind IN ('release', 'recycle', 'create', 'import', 'move') AND {ranges.condition("at", params)}
              AND from_owner_id IN {narrow.users}"""
        # not cut by channel: no customer to look up
        return f"""
        SELECT {day} AS day, e.rep_id AS rep_id, u.team_id AS team_id, e.pool_id AS pool_id,
               CAST(NULL AS text) AS channel, {_measures(values)}
        FROM ({events}
        ) e
        LEFT JOIN {_t(User)} u ON u.id = e.rep_id
        GROUP BY 1, 2, 3, 4"""
    else:
        events = f"""
            SELECT at, kind, customer_id, to_pool_id,
                   CASE WHEN kind IN ('claim', 'assign') THEN to_owner_id ELSE from_owner_id END AS rep_id,
                   CASE WHEN kind IN ('claim', 'assign') THEN from_pool_id ELSE to_pool_id END AS pool_id
            FROM {_t(PoolEvent)}
            WHERE kind IN ('claim', 'assign', 'release', 'recycle', 'create', 'import', 'move')
              AND {ranges.condition("at", params)}"""
    return f"""
        SELECT {day} AS day, e.rep_id AS rep_id, u.team_id AS team_id, e.pool_id AS pool_id,
               c.source AS channel, {_measures(values)}
        FROM ({events}
        ) e
        JOIN {_t(Customer)} c ON c.id = e.customer_id
        LEFT JOIN {_t(User)} u ON u.id = e.rep_id
        GROUP BY 1, 2, 3, 4, 5"""


def _feedback(ranges: _Ranges, params: dict[str, Any], first: dt.date, narrow: _Narrow | None) -> str:
    day = _local_day("fb.at", params, first)
    values = {
        "nps_answers": "COUNT(fb.nps)",
        "nps_promoters": "COUNT(*) FILTER (WHERE fb.nps >= 9)",
        "nps_detractors": "COUNT(*) FILTER (WHERE fb.nps <= 6)",
        "csat_answers": "COUNT(fb.csat)",
        "csat_satisfied": "COUNT(*) FILTER (WHERE fb.csat >= 4)",
        "csat_sum": "COALESCE(SUM(fb.csat), 0)",
    }
    return f"""
        SELECT {day} AS day, c.owner_id AS rep_id, c.team_id AS team_id,
               COALESCE(c.pool_id, c.home_pool_id) AS pool_id, c.source AS channel, {_measures(values)}
        FROM {_t(Feedback)} fb
        JOIN {_t(Customer)} c ON c.id = fb.customer_id
        WHERE (fb.nps IS NOT NULL OR fb.csat IS NOT NULL) AND {ranges.condition("fb.at", params)}{
        f" AND fb.customer_id IN {narrow.customers}" if narrow else ""
    }
        GROUP BY 1, 2, 3, 4, 5"""


_FOLLOWUP_KINDS = ("call", "visit", "email", "meeting", "message")


_SOURCE_SQL = {
    "followups": _followups,
    "deals": _deals,
    "new_customers": _new_customers,
    "customers_created": _customers_created,
    "pool_events": _pool_events,
    "feedback": _feedback,
}


SOURCES = (
    _Source("followups", frozenset(f"followups_{k}" for k in _FOLLOWUP_KINDS)),
    _Source("deals", frozenset({"deals_won", "won_amount", "deals_lost"})),
    _Source("new_customers", frozenset({"new_customers"})),
    _Source("customers_created", frozenset({"customers_created"})),
    _Source("pool_events", frozenset({"claims", "assigns", "releases", "recycles", "pool_entries"})),
    _Source("feedback", frozenset({"nps_answers", "nps_promoters", "nps_detractors", "csat_answers", "csat_satisfied", "csat_sum"})),
)  # fmt: skip


assert frozenset().union(*(s.measures for s in SOURCES)) == frozenset(ADDITIVE_MEASURES)  # noqa: S101


def _live_select(
    ranges: _Ranges,
    params: dict[str, Any],
    first: dt.date,
    measures: Iterable[str] | None = None,
    narrow: _Narrow | None = None,
) -> str:
    """The per-source ``SELECT`` s (only those that feed ``measures``), ``UNION ALL``-ed;
    ``narrow``: only some people's rows (each source filtered before its joins)."""
    wanted = set(measures) if measures is not None else set(ADDITIVE_MEASURES)
    return " UNION ALL ".join(
        source.select(ranges, params, first, narrow) for source in SOURCES if source.measures & wanted
    )


# What ``shared_reads`` fetches at once: every measure but ``customers_created``, whose live part
# scans the customer table (it has no index on ``created_at``).
SHARED_MEASURES = tuple(name for name in ADDITIVE_MEASURES if name != "customers_created")

# The measures whose shared live rows (some people's, ``_Narrow``) may be cut by pool or channel:
# the new customers (CAC by channel). The other sources' rows there carry no channel.
PEOPLE_MEASURES_BY_CHANNEL = frozenset({"new_customers"})


# Within ``shared_reads()``: the rolled-up marks per period and the totals per (period, scope).
_memo: ContextVar[dict[object, Any] | None] = ContextVar("metrics_rollup_memo", default=None)


@contextmanager
def shared_reads() -> Iterator[None]:
    """Reuse reads within the block: the days marked per period, and one ``totals`` read per
    period and scope; the figures cache's data version once (``figures_cache.one_version``).

    A dashboard or an API answer computes a dozen KPIs for two periods, most of them from sums
    of the same rows; within the block the first ``totals`` of a (period, scope) reads every
    measure of ``SHARED_MEASURES`` in one scan and the others are answered from it. Use it
    around one request's computation only: what it caches is never invalidated.
    """
    token = _memo.set({})
    try:
        with figures_cache.one_version():
            yield
    finally:
        _memo.reset(token)


def memoised(key: object, compute: Callable[[], Any]) -> Any:
    """``compute()``, once per ``key`` within ``shared_reads()`` (every time outside it): the
    current period's rows that several KPIs of one page read (the take cohort for pool
    conversion, recycle rate and the cohort table; the first responses for the KPI and the
    leaderboard)."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def _unrolled_ranges(period: Period) -> list[tuple[dt.date, dt.date]]:
    """The half-open day ranges of ``period`` that are not marked rolled up (one query, none
    within ``shared_reads`` for a period seen before)."""
    memo = _memo.get()
    if memo is not None and ("marks", period) in memo:
        return memo[("marks", period)]
    gaps = _query_unrolled_ranges(period)
    if memo is not None:
        memo[("marks", period)] = gaps
    return gaps


def _query_unrolled_ranges(period: Period) -> list[tuple[dt.date, dt.date]]:
    rolled = list(
        RollupDay.objects.filter(day__gte=period.start, day__lt=period.end)
        .order_by("day")
        .values_list("day", flat=True)
    )
    gaps, cursor = [], period.start
    for day in rolled:
        if day > cursor:
            gaps.append((cursor, day))
        cursor = day + dt.timedelta(days=1)
    if cursor < period.end:
        gaps.append((cursor, period.end))
    # Nothing has happened after today: keep the live query's ranges short.
    horizon = local_today() + dt.timedelta(days=2)
    return [(lo, min(hi, horizon)) for lo, hi in gaps if lo < horizon]


def _scope_condition(scope: Scope | None, team_ids: list[int] | None, params: dict[str, Any]) -> str:
    conditions = ["1 = 1"]
    if scope is not None and scope.kind is not ScopeKind.COMPANY:
        column = {
            ScopeKind.TEAM: "team_id",
            ScopeKind.REP: "rep_id",
            ScopeKind.POOL: "pool_id",
            ScopeKind.CHANNEL: "channel",
        }[scope.kind]
        params["scope_key"] = scope.key
        conditions.append(f"{column} = %(scope_key)s")
    if team_ids is not None:
        if not team_ids:
            conditions.append("1 = 0")
        else:
            names = []
            for index, team_id in enumerate(team_ids):
                params[f"team{index}"] = team_id
                names.append(f"%(team{index})s")
            conditions.append(f"team_id IN ({', '.join(names)})")
    return " AND ".join(conditions)


def _aggregate(
    *,
    period: Period,
    measures: Iterable[str],
    scope: Scope | None = None,
    team_ids: list[int] | None = None,
    group_by: tuple[str, ...] = (),
) -> list[tuple[tuple[Any, ...], Totals]]:
    """Sums of ``measures`` per ``group_by`` key over the period: rolled-up days from the table,
    the others live. Two queries, whatever the period."""
    names = list(dict.fromkeys(measures))
    unknown = set(names) - set(ADDITIVE_MEASURES)
    if unknown:
        raise ValueError(f"unknown measures: {sorted(unknown)}")
    params: dict[str, Any] = {"start": period.start, "end": period.end}
    where = _scope_condition(scope, team_ids, params)
    keys = ", ".join(group_by)
    selected = ", ".join((*group_by, *names))
    parts = [f"SELECT {selected} FROM {ROLLUP_TABLE} WHERE day >= %(start)s AND day < %(end)s AND {where}"]
    gaps = _unrolled_ranges(period)
    people = _people_filter(scope, team_ids)
    # The current period of a team's or a rep's page: today's live rows are read once for every
    # sum the page takes of them (closed periods keep their one statement).
    shared = _memo.get() is not None and set(names) <= set(SHARED_MEASURES)
    if {"pool_id", "channel"} & set(group_by):
        shared = shared and set(names) <= PEOPLE_MEASURES_BY_CHANNEL
    if gaps and people is not None and shared and period.contains_today():
        return _aggregate_with_shared_live(
            parts[0], params, names=names, group_by=group_by, live=_shared_live_rows(gaps, people), gaps=gaps
        )
    if gaps:
        ranges = _Ranges([(start_of_day(lo), start_of_day(hi)) for lo, hi in gaps])
        live = _live_select(ranges, params, gaps[0][0], names)
        parts.append(f"SELECT {selected} FROM ({live}) live WHERE {where}")
    sums = ", ".join(f"SUM({name})" for name in names)
    sql = f"SELECT {keys + ', ' if keys else ''}{sums} FROM ({' UNION ALL '.join(parts)}) t"
    if keys:
        sql += f" GROUP BY {keys}"
    with read_connection().cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    for row in rows:
        key, values = tuple(row[: len(group_by)]), row[len(group_by) :]
        result.append((key, {name: _number(name, value) for name, value in zip(names, values, strict=True)}))
    return result


def _people_filter(scope: Scope | None, team_ids: list[int] | None) -> tuple[str, tuple[Any, ...]] | None:
    """The rows of some teams or of one rep, in one normal form (a team scope and ``team_ids``
    of that team are the same rows); None for wider or other cuts."""
    if scope is not None and scope.kind is ScopeKind.TEAM and team_ids is None:
        return ("team", (scope.key,))
    if scope is None and team_ids:
        return ("team", tuple(sorted(team_ids)))
    if scope is not None and scope.kind is ScopeKind.REP and team_ids is None:
        return ("rep", (scope.key,))
    return None


def _shared_live_rows(
    gaps: list[tuple[dt.date, dt.date]], people: tuple[str, tuple[Any, ...]]
) -> list[tuple]:
    """The live part (today, and days not rolled up) of a team's or a rep's rows: every measure
    of ``SHARED_MEASURES`` by the roll-up's whole key, read once within ``shared_reads`` — a
    dashboard's totals, trend, leaderboard and new customers by channel each sum them their own
    way instead of each aggregating today's raw rows again."""
    memo = _memo.get()
    key = ("live", tuple(gaps), people)
    if memo is not None and key in memo:
        return memo[key]
    params: dict[str, Any] = {}
    kind, values = people
    names = []
    for index, value in enumerate(values):
        params[f"who{index}"] = value
        names.append(f"%(who{index})s")
    column = "team_id" if kind == "team" else "rep_id"
    listed = ", ".join(names)
    if kind == "team":
        narrow = _Narrow(
            users=f"(SELECT nu.id FROM {_t(User)} nu WHERE nu.team_id IN ({listed}))",
            customers=f"(SELECT nc.id FROM {_t(Customer)} nc WHERE nc.team_id IN ({listed}))",
        )
    else:
        narrow = _Narrow(
            users=f"({listed})",
            customers=f"(SELECT nc.id FROM {_t(Customer)} nc WHERE nc.owner_id IN ({listed}))",
        )
    ranges = _Ranges([(start_of_day(lo), start_of_day(hi)) for lo, hi in gaps])
    live = _live_select(ranges, params, gaps[0][0], SHARED_MEASURES, narrow)
    sums = ", ".join(f"SUM({name})" for name in SHARED_MEASURES)
    with read_connection().cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(KEY_COLUMNS)}, {sums} FROM ({live}) live "
            f"WHERE {column} IN ({', '.join(names)}) GROUP BY {', '.join(KEY_COLUMNS)}",
            params,
        )
        rows = cursor.fetchall()
    if memo is not None:
        memo[key] = rows
    return rows


def _aggregate_with_shared_live(
    rolled_sql: str,
    params: dict[str, Any],
    *,
    names: list[str],
    group_by: tuple[str, ...],
    live: list[tuple],
    gaps: list[tuple[dt.date, dt.date]],
) -> list[tuple[tuple[Any, ...], Totals]]:
    """``_aggregate`` from the rolled-up days (one query, kept in the figures cache: the roll-up
    rows change only when a roll-up run starts a new data version; keyed by the days the live
    part reads as well, so the two parts always split the period alike) and the shared live
    rows."""
    keys = ", ".join(group_by)
    sums = ", ".join(f"SUM({name})" for name in names)
    sql = f"SELECT {keys + ', ' if keys else ''}{sums} FROM ({rolled_sql}) t"
    if keys:
        sql += f" GROUP BY {keys}"
    rolled = figures_cache.rolled_rows(sql, params, live_days=gaps)

    def normal(key: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            as_day(value) if column == "day" and value is not None else value
            for column, value in zip(group_by, key, strict=True)
        )

    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rolled:
        key = normal(tuple(row[: len(group_by)]))
        found[key] = {name: value or 0 for name, value in zip(names, row[len(group_by) :], strict=True)}
    # The live rows grouped by the key first, then each measure summed down its column (zip and
    # sum run in C: a page sums some 400 live rows of two dozen measures four ways).
    positions = [KEY_COLUMNS.index(column) for column in group_by]
    offsets = [len(KEY_COLUMNS) + SHARED_MEASURES.index(name) for name in names]
    by_key: dict[tuple[Any, ...], list[tuple]] = {}
    if positions:
        pick = itemgetter(*positions)
        single = len(positions) == 1
        for row in live:
            value = pick(row)
            by_key.setdefault((value,) if single else value, []).append(row)
    elif live:
        by_key[()] = list(live)
    # Cut by pool or channel, a key only the other sources' rows have (no new customer) is not
    # one the live read of those measures alone would answer.
    cut = bool({"pool_id", "channel"} & set(group_by))
    for raw_key, rows in by_key.items():
        columns = list(zip(*rows, strict=True))
        column_sums = [sum(filter(None, columns[offset])) for offset in offsets]
        if cut and not any(column_sums):
            continue
        sums_of_key = found.setdefault(normal(raw_key), dict.fromkeys(names, 0))
        for name, value in zip(names, column_sums, strict=True):
            sums_of_key[name] += value
    return [
        (key, {name: _number(name, value) for name, value in values.items()}) for key, values in found.items()
    ]


def _number(name: str, value: Any) -> Decimal | int:
    if name in MONEY_MEASURES:
        return Decimal(str(value or 0)).quantize(Decimal("0.01"))
    return int(value or 0)


def _zeros(measures: Iterable[str]) -> Totals:
    return {name: _number(name, 0) for name in measures}


def totals(*, period: Period, scope: Scope, measures: Iterable[str]) -> Totals:
    """Sums of the additive ``measures`` over the period for the scope (0 where nothing happened).

    Closed, rolled-up days are read from ``DailyRollup``; today and days not rolled up yet are
    computed live from the raw rows with the roll-up's own SQL. Two queries.
    """
    names = list(measures)
    memo = _memo.get()
    if memo is None:
        rows = _aggregate(period=period, measures=names, scope=scope)
        return rows[0][1] if rows else _zeros(names)
    known: list[Totals] = memo.setdefault(("totals", period, scope), [])
    for figures in known:
        if set(names) <= set(figures):
            return {name: figures[name] for name in names}
    # One scan of the period's rows answers every KPI of the scope: fetch all the usual measures.
    fetched = list(dict.fromkeys([*names, *SHARED_MEASURES]))
    rows = _aggregate(period=period, measures=fetched, scope=scope)
    figures = rows[0][1] if rows else _zeros(fetched)
    known.append(figures)
    return {name: figures[name] for name in names}


def series(
    *, period: Period, scope: Scope, grain: Grain, measures: Iterable[str]
) -> list[tuple[Period, Totals]]:
    """``totals`` per bucket of ``period.split(grain)`` (every bucket, zeros where empty).

    Two queries: the sums per day come from the database, and the days (at most a few hundred)
    are added into their buckets here.
    """
    names = list(measures)
    buckets = period.split(grain)
    result = [(bucket, _zeros(names)) for bucket in buckets]
    per_day = _aggregate(period=period, measures=names, scope=scope, group_by=("day",))
    starts = [bucket.start for bucket in buckets]
    for (day,), values in per_day:
        day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
        index = bisect.bisect_right(starts, day) - 1
        bucket_totals = result[index][1]
        for name, value in values.items():
            bucket_totals[name] += value
    return result


def by_rep(*, period: Period, team_ids: list[int] | None, measures: Iterable[str]) -> dict[int, Totals]:
    """``totals`` per rep (user id) over the period, for the reps' rows of ``team_ids`` (None:
    every team). Reps without activity are absent. Two queries."""
    names = list(measures)
    rows = _aggregate(period=period, measures=names, team_ids=team_ids, group_by=("rep_id",))
    return {int(key[0]): values for key, values in rows if key[0] is not None}


def raw_totals(*, period: Period, scope: Scope, measures: Iterable[str]) -> Totals:
    """``totals`` computed from the raw rows only, ignoring the roll-ups (tests and the bench
    compare the two)."""
    names = list(measures)
    params: dict[str, Any] = {}
    where = _scope_condition(scope, None, params)
    ranges = _Ranges([period.bounds()])
    live = _live_select(ranges, params, period.start, names)
    sums = ", ".join(f"SUM({name})" for name in names)
    with read_connection().cursor() as cursor:
        cursor.execute(f"SELECT {sums} FROM ({live}) live WHERE {where}", params)
        row = cursor.fetchone()
    return {name: _number(name, value) for name, value in zip(names, row, strict=True)}


def grouped(*, period: Period, scope: Scope, dimension: str, measures: Iterable[str]) -> dict[object, Totals]:
    """``totals`` per value of one dimension (``channel``, ``pool_id``, ``team_id``, ``rep_id``
    or ``day``), e.g. new customers by acquisition channel. Two queries."""
    if dimension not in KEY_COLUMNS:
        raise ValueError(f"unknown dimension {dimension}")
    rows = _aggregate(period=period, measures=list(measures), scope=scope, group_by=(dimension,))
    return {key[0]: values for key, values in rows}
