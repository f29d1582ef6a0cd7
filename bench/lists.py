"""Time the customer list page (``/customers/``) and the API list (``/api/customers/``).

In-process, with ``django.test.Client`` and ``force_login``: the whole Django stack runs
(middleware, session and user lookup, view, template or serializer) against the benchmark
database, without a socket or a WSGI server in front. Each case gets warm-up requests, then
``--requests`` timed ones; the SQL of one more request is captured to count its queries.
For a case that misses a target, the slowest query of that request is run again under
``EXPLAIN (ANALYZE, BUFFERS)`` and the plan written to ``--explain-dir``.

    python -m bench.lists [--requests 200] [--warmup 20] [--rep rep1] [--manager manager1] [--admin admin]

The admin sees every customer: the unfiltered list and the common search are the cases whose
count PostgreSQL estimates rather than counts (``customers.pagination``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from customers.models import User  # noqa: E402

TARGET_P50_MS = 40.0
TARGET_P95_MS = 80.0
TARGET_QUERIES = 8
# A word in about one Chinese company name in six (科技, 网络科技, 生物科技, ...), and a brand
# with a line of business that only a handful of the million companies have.
COMMON_TERM = "科技"
RARE_TERM = "华鑫精密"

# Case label → whether the API answered an estimated count.
estimated: dict[str, bool] = {}

SURFACES = {"page": ("/customers/", "q"), "api": ("/api/customers/", "search")}


@dataclass(frozen=True)
class Case:
    surface: str
    username: str
    term: str

    @property
    def label(self) -> str:
        return f"{self.surface}-{self.username}-{self.term or 'all'}"


@dataclass(frozen=True)
class Result:
    case: Case
    matches: int | None
    p50: float
    p95: float
    queries: int
    slowest_sql: str
    slowest_ms: float

    @property
    def meets_targets(self) -> bool:
        return self.p50 <= TARGET_P50_MS and self.p95 <= TARGET_P95_MS and self.queries <= TARGET_QUERIES


def _pad(text: str, width: int, *, right: bool = False) -> str:
    """Pad to ``width`` terminal columns; CJK characters take two."""
    columns = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    padding = " " * max(width - columns, 0)
    return padding + text if right else text + padding


def _get(client: Client, case: Case):
    path, parameter = SURFACES[case.surface]
    params = {parameter: case.term} if case.term else {}
    response = client.get(path, params, HTTP_ACCEPT_LANGUAGE="en")
    if response.status_code != 200:
        raise SystemExit(f"{case.label}: {path} answered {response.status_code}")
    return response


def run_case(client: Client, case: Case, *, requests: int, warmup: int) -> Result:
    for _ in range(warmup):
        _get(client, case)
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        _get(client, case)
        timings.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as captured:
        response = _get(client, case)
    matches = None
    if case.surface == "api":
        body = response.json()
        matches = body["count"]
        estimated[case.label] = bool(body.get("count_is_estimate"))
    slowest = max(captured.captured_queries, key=lambda query: float(query["time"]), default=None)
    return Result(
        case=case,
        matches=matches,
        p50=statistics.median(timings),
        p95=statistics.quantiles(timings, n=20, method="inclusive")[18],
        queries=len(captured.captured_queries),
        slowest_sql=slowest["sql"] if slowest else "",
        slowest_ms=float(slowest["time"]) * 1000 if slowest else 0.0,
    )


def explain(sql: str) -> str:
    if not sql.lstrip().upper().startswith("SELECT") or "crm_list_count(" in sql:
        # The list's count goes through crm_list_count (customers.pagination), whose plan is a
        # function call; its inner query is in the text above.
        return "(not a plain SELECT: no plan)"
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rep", default="rep1")
    parser.add_argument("--manager", default="manager1")
    parser.add_argument("--admin", default="admin")
    parser.add_argument("--explain-dir", default="var/bench")
    options = parser.parse_args()

    usernames = [options.rep, options.manager, options.admin]
    users = {user.username: user for user in User.objects.filter(username__in=usernames)}
    missing = set(usernames) - users.keys()
    if missing:
        raise SystemExit(f"No user {', '.join(sorted(missing))}: seed the benchmark database first.")
    cases = [
        Case(surface, username, term)
        for surface in SURFACES
        for username in usernames
        for term in ("", COMMON_TERM, RARE_TERM)
    ]
    clients = {}
    for username, user in users.items():
        clients[username] = Client()
        clients[username].force_login(user)

    print(
        f"List benchmark: {options.requests} timed requests per case after {options.warmup} warm-up, "
        f"in-process django.test.Client (DEBUG off), page size 25."
    )
    print(
        f"Targets: p50 <= {TARGET_P50_MS:.0f} ms, p95 <= {TARGET_P95_MS:.0f} ms, <= {TARGET_QUERIES} queries."
    )
    header = f"{'surface':<8}{'user':<10}{'search':<10}{'matches':>11}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}  target"
    print(header)
    print("-" * len(header))
    results = []
    for case in cases:
        result = run_case(clients[case.username], case, requests=options.requests, warmup=options.warmup)
        results.append(result)
        matches = (
            "" if result.matches is None else f"{'~' if estimated.get(case.label) else ''}{result.matches:,}"
        )
        print(
            f"{case.surface:<8}{case.username:<10}{_pad(case.term or '-', 10)}{matches:>11}{result.p50:>9.1f}"
            f"{result.p95:>9.1f}{result.queries:>9}  {'ok' if result.meets_targets else 'MISSED'}",
            flush=True,
        )
    print("(matches: the API's count, the same selector and filter as the page; ~: PostgreSQL's estimate)")

    missed = [result for result in results if not result.meets_targets]
    if missed:
        directory = Path(options.explain_dir)
        directory.mkdir(parents=True, exist_ok=True)
        print()
        print("Missed targets; the slowest query of each such request, under EXPLAIN ANALYZE:")
        for result in missed:
            path = directory / f"explain-{result.case.label}.txt"
            plan = explain(result.slowest_sql)
            path.write_text(f"{result.slowest_sql}\n\n{plan}\n", encoding="utf-8")
            print(f"  {result.case.label}: slowest query {result.slowest_ms:.1f} ms -> {path}")
    print(f"{len(results) - len(missed)} of {len(results)} cases met every target.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
