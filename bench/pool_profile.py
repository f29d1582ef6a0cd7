"""Profile one claim request in-process: the SQL it runs (with times) and where Python spends.

``python -m bench.pool_profile [--rep USERNAME]`` on the bench database; claims one pooled lead
(changes the database like the bench does).
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
    options = parser.parse_args()
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


if __name__ == "__main__":
    main()
