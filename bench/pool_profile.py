"""Profile one claim request in-process: the SQL it runs (with times) and where Python spends.

``python -m bench.pool_profile [--rep USERNAME]`` on the bench database; claims one pooled lead
(changes the database like the bench does).

``python -m bench.pool_profile --ratio N`` instead measures what issue 12 bounds: a claim
in process costs at most 2.5x ``GET /api/me/``. One rep with an API token, through the whole
Django stack (``django.test.Client``, DEBUG off), alternates ``GET /api/me/`` and a claim of
a different pooled lead, N times each after a warm-up, and prints the medians, their ratio and
the SQL statements of one claim as its last line, in JSON (``bench.pool`` reads it). The
claims use pools without limits (``bench.pool`` lifts them first).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from customers.models import Customer, User
    from public_pool.selectors import pools_for_user

    parser = argparse.ArgumentParser()
    parser.add_argument("--rep", default="rep40")
    parser.add_argument("--mode", choices=["claim", "next"], default="claim")
    parser.add_argument("--ratio", type=int, default=0, help="time N claims against N GET /api/me/")
    options = parser.parse_args()
    if options.ratio:
        ratio(options.rep, options.ratio)
        return
    rep = User.objects.get(username=options.rep)
    token, _ = Token.objects.get_or_create(user=rep)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    pool_ids = list(pools_for_user(rep).values_list("pk", flat=True))
    leads = list(
        Customer.objects.filter(pool_id__in=pool_ids).order_by("-pk").values_list("pk", flat=True)[:3]
    )

    def request(lead: int):
        if options.mode == "claim":
            return client.post(f"/api/customers/{lead}/claim/")
        return client.post(f"/api/pools/{pool_ids[0]}/claim-next/")

    request(leads[0])  # warm-up
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        response = request(leads[1])
        total = time.perf_counter() - started
    sql_ms = sum(float(q["time"]) for q in queries.captured_queries) * 1000
    print(
        f"status {response.status_code}; {len(queries)} queries, {sql_ms:.1f} ms in SQL of {total * 1000:.1f} ms"
    )
    for q in queries.captured_queries:
        print(f"  {float(q['time']) * 1000:7.1f} ms  {q['sql'][:300]}")
    profiler = cProfile.Profile()
    profiler.enable()
    request(leads[2])
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue())


def ratio(username: str, count: int) -> None:
    import json
    import statistics

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from customers.models import Customer, User
    from public_pool.selectors import pools_for_user

    rep = User.objects.get(username=username)
    token, _ = Token.objects.get_or_create(user=rep)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    pools = pools_for_user(rep).filter(max_held_per_rep__isnull=True, max_claims_per_day__isnull=True)
    warmup = 10
    leads = list(
        Customer.objects.filter(pool__in=pools)
        .order_by("-pk")
        .values_list("pk", flat=True)[: count + warmup + 1]
    )
    if len(leads) < count + warmup + 1:
        raise SystemExit(f"{username} has only {len(leads)} pooled leads in pools without limits")

    def timed(call) -> float:
        started = time.perf_counter()
        response = call()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{response.status_code}: {response.content[:300]!r}")
        return elapsed

    for lead in leads[:warmup]:
        timed(lambda: client.get("/api/me/"))
        timed(lambda lead=lead: client.post(f"/api/customers/{lead}/claim/"))
    me, claims = [], []
    for lead in leads[warmup:-1]:
        me.append(timed(lambda: client.get("/api/me/")))
        claims.append(timed(lambda lead=lead: client.post(f"/api/customers/{lead}/claim/")))
    with CaptureQueriesContext(connection) as queries:
        timed(lambda: client.post(f"/api/customers/{leads[-1]}/claim/"))
    me_ms, claim_ms = statistics.median(me), statistics.median(claims)
    result = {
        "me_ms": round(me_ms, 2),
        "claim_ms": round(claim_ms, 2),
        "ratio": round(claim_ms / me_ms, 2),
        # Django (4.2+) lists BEGIN and COMMIT among the captured queries of a debug cursor.
        "claim_statements": len(queries.captured_queries),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
