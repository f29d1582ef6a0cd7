"""Where the recycle job spends its time: every SQL statement it runs, timed and grouped.

``python -m bench.recycle_profile [--recycle 20000] [--explain]`` on the database of
``DATABASE_URL``: copies it (``<name>_recycle``, as ``bench.pool`` does), then runs
``services.recycle_stale_customers`` in this process on the copy with a statement timer
(``connection.execute_wrapper``) and prints, per kind of statement, how many ran and their
time, beside the job's wall time (the rest is Python and round trips). ``--explain`` runs the
first batch statement once more under ``EXPLAIN (ANALYZE, BUFFERS)`` in a savepoint rolled
back, and prints the plan. The copy is dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import time
from collections import defaultdict
from urllib.parse import urlparse

from bench.pool import _copy_database, connect, database_url, log, recycle_as_of


def _kind(sql: str) -> str:
    text = " ".join(sql.split())
    if "WITH cand" in text:
        return "batch statement (candidates, UPDATE, notices, events)"
    match = re.match(r"(\w+)(?:\s+\S+){0,3}", text)
    head = match.group(0) if match else text[:40]
    table = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', text)
    return f"{head.split()[0]} {table.group(1) if table else ''}".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recycle", type=int, default=20_000, help="due customers")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--batch-size", type=int, default=None)
    options = parser.parse_args()

    source = urlparse(database_url())
    copy_name = source.path.lstrip("/") + "_recycle"
    admin = connect(source._replace(path="/postgres").geturl())
    admin.autocommit = True
    log(f"copied the database in {_copy_database(admin, source.path.lstrip('/'), copy_name):.1f} s")
    copy_url = source._replace(path="/" + copy_name).geturl()
    conn = connect(copy_url)
    as_of = recycle_as_of(conn, options.recycle)
    conn.close()

    os.environ["DATABASE_URL"] = copy_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection

    from public_pool import services

    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    explained = [not options.explain]

    def timer(execute, sql, params, many, context):
        if not explained[0] and "WITH cand" in sql:
            explained[0] = True
            cursor = context["cursor"]
            cursor.execute("SAVEPOINT explain_batch")
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, VERBOSE) " + sql, params)
            log("\n".join(row[0] for row in cursor.fetchall()))
            cursor.execute("ROLLBACK TO SAVEPOINT explain_batch")
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            entry = totals[_kind(sql)]
            entry[0] += 1
            entry[1] += time.perf_counter() - started

    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        result = services.recycle_stale_customers(as_of=as_of, batch_size=options.batch_size)
    wall = time.perf_counter() - started
    in_sql = sum(seconds for _n, seconds in totals.values())
    log(f"recycled {result.recycled:,} as of {as_of.isoformat()} in {wall:.2f} s; {in_sql:.2f} s in SQL")
    for kind, (count, seconds) in sorted(totals.items(), key=lambda item: -item[1][1]):
        log(f"  {seconds:8.2f} s  {count:5d} x  {kind}")
    connection.close()
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{copy_name}"')
    admin.close()


if __name__ == "__main__":
    main()
