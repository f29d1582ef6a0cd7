"""Write the daily roll-ups (``rollup_days``): see ``metrics.selectors.rollups`` for what a row
counts, how it is read, and the SQL both share."""

# ruff: noqa: S608

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

from django.db import connection, transaction
from django.db.backends.utils import CursorWrapper

from crm_site.progress import Progress
from metrics import figures_cache
from metrics.models import ADDITIVE_MEASURES, RollupDay
from metrics.periods import local_today, start_of_day
from metrics.selectors.rollups import KEY_COLUMNS, ROLLUP_TABLE, _live_select, _Ranges

logger = logging.getLogger(__name__)

# Backfills longer than this many days rebuild the table's indexes instead of updating them.
BULK_DAYS = 31
# Days per transaction of a backfill that shows its progress (rollup_through_yesterday).
PROGRESS_CHUNK_DAYS = 92


# pg_advisory_xact_lock key of the roll-up ("metrics rollup" as a number); any constant works.
ROLLUP_LOCK_KEY = 0x6D6574726963


@transaction.atomic
def rollup_days(*, since: dt.date, until: dt.date) -> int:
    """Recompute the roll-up rows of the days ``since`` … ``until`` (both included); answers the
    number of rows those days now have.

    Idempotent and safe to run concurrently: the days are replaced in one transaction under an
    advisory lock, so a second run waits for the first and then writes the same rows. Only
    closed days (before today in the company time zone) can be rolled up: today's figures are
    always computed live.
    """
    if until < since:
        raise ValueError(f"until ({until}) is before since ({since})")
    if until >= local_today():
        raise ValueError(f"only days before today can be rolled up, not {until}")
    end = until + dt.timedelta(days=1)
    params: dict[str, Any] = {"since": since, "until": until}
    select = _live_select(_Ranges([(start_of_day(since), start_of_day(end))]), params, since)
    columns = ", ".join((*KEY_COLUMNS, *ADDITIVE_MEASURES))
    sums = ", ".join(f"SUM({name})" for name in ADDITIVE_MEASURES)
    bulk = (end - since).days > BULK_DAYS and connection.vendor == "postgresql"
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[phase] = now - clock
        clock = now

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_KEY])
            # A year of keys fits in memory: hash the groups instead of sorting wide rows on disk.
            cursor.execute("SET LOCAL work_mem = '128MB'")
        lap("lock")
        rebuild = _drop_indexes(cursor) if bulk else []
        if bulk and not _rows_outside(cursor, params):
            # A full backfill: emptying the table leaves no dead rows behind (DELETE would
            # double the table until vacuum). The exclusive lock is already held (indexes).
            cursor.execute(f"TRUNCATE {ROLLUP_TABLE}")
        else:
            cursor.execute(f"DELETE FROM {ROLLUP_TABLE} WHERE day >= %(since)s AND day <= %(until)s", params)
        lap("delete")
        # Ordered by day so that a period's rows sit together on disk (reads scan day ranges).
        cursor.execute(
            f"INSERT INTO {ROLLUP_TABLE} ({columns}) "
            f"SELECT day, rep_id, team_id, pool_id, channel, {sums} FROM ({select}) src "
            "GROUP BY day, rep_id, team_id, pool_id, channel ORDER BY day",
            params,
        )
        written = cursor.rowcount
        lap("insert")
        for statement in rebuild:
            cursor.execute(statement)
        lap("indexes")
        RollupDay.objects.filter(day__gte=since, day__lte=until).delete()
        RollupDay.objects.bulk_create(
            RollupDay(day=since + dt.timedelta(days=offset)) for offset in range((end - since).days)
        )
        lap("marks")
    # Cached figures of closed periods are computed afresh once these rows are visible.
    transaction.on_commit(figures_cache.new_data_version)
    logger.info(
        "rolled up %s … %s: %d rows; %s",
        since,
        until,
        written,
        ", ".join(f"{phase} {seconds:.3f} s" for phase, seconds in timings.items()),
    )
    return written


def _rows_outside(cursor: CursorWrapper, params: dict[str, Any]) -> bool:
    cursor.execute(
        f"SELECT EXISTS (SELECT 1 FROM {ROLLUP_TABLE} WHERE day < %(since)s OR day > %(until)s)", params
    )
    return bool(cursor.fetchone()[0])


def _drop_indexes(cursor: CursorWrapper) -> list[str]:
    """Drop the roll-up table's secondary indexes (PostgreSQL) and answer the statements that
    rebuild them.

    A backfill writes many days at once; keeping five indexes up to date row by row costs
    several times the aggregation itself (measured: a year of 90,000 rows took 6 s with the
    indexes against 0.5 s without, on a loaded 2-core machine), while building them afterwards
    is one sort each. The definitions are read from the catalogue, so they stay the model's.
    Dropping takes the table's exclusive lock until the transaction ends: dashboards wait for a
    backfill, never for the nightly one-day run (``BULK_DAYS``).
    """
    if connection.vendor != "postgresql":
        return []
    cursor.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
        [ROLLUP_TABLE, ROLLUP_TABLE],
    )
    found = cursor.fetchall()
    for name, _definition in found:
        cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [definition for _name, definition in found]


def rollup_yesterday() -> int:
    """The nightly job: roll up yesterday (company time zone)."""
    yesterday = local_today() - dt.timedelta(days=1)
    return rollup_days(since=yesterday, until=yesterday)


def rollup_through_yesterday(*, since: dt.date, progress: Progress | None = None) -> int:
    """Backfill: roll up every day from ``since`` through yesterday in one run.

    With ``progress`` (``manage.py rollup_metrics --since`` on a terminal) the days go in
    chunks of ``PROGRESS_CHUNK_DAYS``, each its own ``rollup_days`` transaction, so the bar
    moves and an interrupted backfill keeps the chunks done. A chunk is longer than
    ``BULK_DAYS``, so each still takes the bulk path (indexes dropped and rebuilt); the one
    statement of a run without ``progress`` (the Celery task) stays the fastest way.
    """
    until = local_today() - dt.timedelta(days=1)
    if progress is None:
        return rollup_days(since=since, until=until)
    progress.add_total((until - since).days + 1)
    rows = 0
    start = since
    while start <= until:
        end = min(until, start + dt.timedelta(days=PROGRESS_CHUNK_DAYS - 1))
        rows += rollup_days(since=start, until=end)
        progress.advance((end - start).days + 1)
        start = end + dt.timedelta(days=1)
    return rows
