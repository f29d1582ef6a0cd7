"""Peak memory of the admin's customer CSV export, as a deployment behind PgBouncer runs it.

``python -m bench.exports`` on the database of ``DATABASE_URL`` (the 1,000,000-customer
``crm_bench``) streams ``/customers/export.csv`` for the admin, all customers, through the whole
Django stack in process (``bench.settings``, DEBUG off) with server-side cursors off, as
``DJANGO_DB_TRANSACTION_POOLING=1`` sets them (crm_site/streaming.py). Each variant runs in a
fresh process, which prints its rows, wall time and peak RSS (``ru_maxrss``):

- ``stream``: the export as the product runs it (a server-side cursor inside one transaction);
- ``client-side``: the same rows read with ``QuerySet.iterator()``, which with the option on
  reads the whole result into the client: what the exports did before ``stream()``;
- ``floor``: a process that only starts Django and reads the first row, for the baseline RSS.

The database is only read.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def child(mode: str, limit: int) -> None:
    os.environ["DJANGO_DISABLE_SERVER_SIDE_CURSORS"] = "1"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    import django

    django.setup()
    from django.db.models import QuerySet
    from django.test import Client
    from django.urls import reverse

    from customers.models import User

    if mode == "client-side":

        def plain(queryset: QuerySet, *, chunk_size: int) -> Generator[Any]:
            yield from queryset.iterator(chunk_size=chunk_size)

        import customers.views

        customers.views.stream = plain
    client = Client()
    client.force_login(User.objects.get(username="admin"))
    started = time.perf_counter()
    response = client.get(reverse("customers:export"))
    lines = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        lines += chunk.count(b"\n")
        if mode == "floor" or lines > limit:
            break
    response.close()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps({"mode": mode, "lines": lines, "seconds": round(seconds, 1), "peak_mib": peak}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=10**9, help="stop after this many lines")
    parser.add_argument("--modes", default="floor,stream,client-side", help="which variants, in order")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        child(options.child, options.limit)
        return
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)
    for mode in options.modes.split(","):
        out = subprocess.run(  # noqa: S603 - fixed argv
            [sys.executable, "-m", "bench.exports", "--child", mode, "--limit", str(options.limit)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"  {result['mode']:<12} {result['lines']:>9,} lines  {result['seconds']:>6.1f} s  "
            f"peak RSS {result['peak_mib']:>5,} MiB",
            flush=True,
        )
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
