"""Lead import speed and memory against the benchmark database: 100,000 and 1,000,000 rows.

For each size, in a process of its own (so its peak RSS is its own): writes a CSV (UTF-8 with
BOM, Chinese headers, as Excel saves it) with ~5% duplicates (half of existing customers'
names/phones/e-mails, half of earlier rows) and ~2% bad rows, then

- **the import as the Celery task runs it** (``services.imports.run_import`` on a queued batch:
  count the rows, then per chunk COPY → staging → ``INSERT … SELECT``, events, score, report),
- **the floor** any import must pay, in the same process: the rows the import created, already
  in a staging table, written by **one** ``INSERT … SELECT`` into the customer table with all
  its indexes (the same statement the importer uses),

and prints both, their ratio (target <= 3x) and the peak RSS (target ≤ 200 MB at 1,000,000).

Both run inside an outer transaction that is rolled back, so the benchmark database stays as
``seed_demo`` left it (the pool log refuses DELETE). The import's per-chunk transactions become
savepoints; that leaves out one WAL flush per chunk (a few ms each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python -m bench.imports [--sizes 100000,1000000]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.db import transaction  # noqa: E402

from customers.models import Customer, Role, User  # noqa: E402
from public_pool.models import Pool  # noqa: E402
from public_pool.services import imports  # noqa: E402

TARGET_RATIO = 3.0
TARGET_RSS_MB = 200
HEADER = ["客户名称", "电话", "邮箱", "行业", "规模", "地区", "来源", "备注"]
INDUSTRIES = ["software", "制造业", "Finance", "零售", "healthcare", "教育", "物流", "", "能源", "媒体"]
SIZES = ["micro", "小型", "51-200", "large", "", "1000+"]
SOURCES = ["", "website", "展会", "转介绍", "cold_call", "合作伙伴"]
REGIONS = ["上海", "北京", "浙江", "广东", "江苏", "四川", ""]


class Rollback(Exception):
    pass


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path: Path, rows: int, seed: int) -> dict[str, int]:
    """Stream ``rows`` rows to ``path``; answer what was planted."""
    rnd = random.Random(seed)
    token = secrets.token_hex(3)
    # Existing customers to duplicate: a sample by id range (one indexed query, no full scan).
    top = Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    sample_ids = rnd.sample(range(1, top + 1), k=min(top, rows // 40 + 100))
    existing = list(
        Customer.objects.filter(pk__in=sample_ids).values_list("name", "phone", "email")[: rows // 40]
    )
    planted = {"duplicate_existing": 0, "duplicate_earlier": 0, "bad": 0, "rows": rows}
    earlier: list[tuple[str, str, str]] = []
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for i in range(rows):
            name = f"导入基准{token}{i}号科技有限公司" if i % 2 else f"Import Bench {token} {i} Ltd"
            phone = f"0999-{i:08d}"
            email = f"lead{i}.{token}@import-bench.example"
            roll = rnd.random()
            if roll < 0.025 and existing:
                source_row = existing[rnd.randrange(len(existing))]
                kind = rnd.randrange(3)
                if kind == 0 or not (source_row[1] or source_row[2]):
                    name = source_row[0]
                elif kind == 1 and source_row[1]:
                    phone = source_row[1]
                else:
                    email = source_row[2] or email
                    phone = source_row[1] if not source_row[2] else phone
                planted["duplicate_existing"] += 1
            elif roll < 0.05 and earlier:
                name, phone, email = earlier[rnd.randrange(len(earlier))]
                name = name.upper()
                planted["duplicate_earlier"] += 1
            elif roll < 0.07:
                planted["bad"] += 1
                bad = i % 3
                if bad == 0:
                    name = ""
                elif bad == 1:
                    email = "not-an-email"
                else:
                    writer.writerow([name, phone, email, "航天", "", "", "", ""])
                    continue
            elif len(earlier) < 5000 and rnd.random() < 0.1:
                earlier.append((name, phone, email))
            writer.writerow(
                [
                    name,
                    phone,
                    email,
                    INDUSTRIES[i % len(INDUSTRIES)],
                    SIZES[i % len(SIZES)],
                    REGIONS[i % len(REGIONS)],
                    SOURCES[i % len(SOURCES)],
                    "基准导入" if i % 5 == 0 else "",
                ]
            )
    return planted


def floor_seconds(path: Path, created: int, constant: dict) -> float:
    """One ``INSERT … SELECT`` of ``created`` valid rows of the file from a filled staging table
    into the customer table (rolled back). The staging table is filled by a streamed COPY first,
    not timed."""
    from django.db import connection

    from public_pool.services import import_files

    staged = tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")  # noqa: SIM115 - closed at exit
    writer = csv.writer(staged, quoting=csv.QUOTE_ALL)
    with path.open("rb") as stream:
        records = import_files.records(stream, path.name)
        header = next(records)
        mapping = import_files.detect_mapping(header)
        written = 0
        for row in import_files.rows(records, mapping):
            if row.errors:
                continue
            writer.writerow(
                (written, *(row.values[n] for n in import_files.CUSTOMER_FIELDS), row.name_key, 0)
            )
            written += 1
            if written >= created:
                break
        records.close()
    staged.seek(0)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            imports.create_staging_table(cursor)
            cursor.copy_expert(f"COPY {imports.STAGING_TABLE} FROM STDIN WITH (FORMAT csv)", staged)
            cursor.execute("SET LOCAL jit = off")
            sql = imports.insert_from_staging_sql(cursor, constant)
            started = time.perf_counter()
            cursor.execute(sql)
            seconds = time.perf_counter() - started
            if cursor.rowcount != written:
                raise RuntimeError(f"floor wrote {cursor.rowcount} rows, expected {written}")
            raise Rollback
    except Rollback:
        pass
    return seconds


def run_size(rows: int, seed: int, file: str) -> int:
    """One size, in this process: the import, then the floor; prints one figure line."""
    from django.utils import timezone

    from public_pool.models import ImportBatch, ImportStatus

    admin = (
        User.objects.filter(role=Role.ADMIN).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )
    pool = Pool.objects.order_by("-is_default", "pk").first()
    if admin is None or pool is None:
        print("No admin or pool: run seed_demo first (bench/run.sh).", file=sys.stderr)
        return 2
    existing = Customer.objects.count()
    path = Path(file.format(rows=rows))
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    planted = write_file(path, rows, seed)
    print(
        f"Wrote {rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s: "
        f"{planted['duplicate_existing']:,} duplicates of existing customers, "
        f"{planted['duplicate_earlier']:,} of earlier rows, {planted['bad']:,} bad rows; "
        f"{existing:,} customers in the database; pool “{pool.name}”."
    )
    rss_before = rss_mib()
    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="import-bench-")
    batch = None
    try:
        with transaction.atomic():
            with path.open("rb") as stream:
                queued = imports.create_import(
                    actor=admin, pool_id=pool.pk, file=stream, file_name=path.name, start=False
                )
            ImportBatch.objects.filter(pk=queued.pk).update(status=ImportStatus.QUEUED)
            started = time.perf_counter()
            batch = imports.run_import(batch_id=queued.pk)  # what import_customers_task calls
            seconds = time.perf_counter() - started
            raise Rollback
    except Rollback:
        pass
    if batch is None or batch.status != ImportStatus.DONE:
        print(f"The import did not finish: {batch and batch.error_message}", file=sys.stderr)
        return 1
    peak = rss_mib()
    now = timezone.now()
    constant = {
        "pool_id": pool.pk,
        "home_pool_id": pool.pk,
        "pooled_at": now,
        "created_by_id": admin.pk,
        "created_at": now,
        "updated_at": now,
        "recycle_policy_stale": False,
    }
    floor = floor_seconds(path, batch.created_count, constant)
    ratio = seconds / floor
    print(
        f"  import {seconds:.1f} s ({batch.total_rows / seconds:,.0f} rows/s): created {batch.created_count:,}, "
        f"duplicates {batch.duplicate_count:,} (planted {planted['duplicate_existing'] + planted['duplicate_earlier']:,}), "
        f"errors {batch.error_count:,} (planted {planted['bad']:,})"
    )
    print(
        f"  floor (one bulk INSERT of the {batch.created_count:,} rows from staging): {floor:.1f} s; "
        f"ratio {ratio:.2f}x (target <= {TARGET_RATIO:.0f}x: {'ok' if ratio <= TARGET_RATIO else 'MISSED'})"
    )
    print(
        f"  peak RSS {peak:.0f} MiB (before the import: {rss_before:.0f} MiB; target <= {TARGET_RSS_MB} MB "
        f"at 1,000,000 rows: {'ok' if peak * 1.048576 <= TARGET_RSS_MB else 'MISSED'})"
    )
    return 0 if ratio <= TARGET_RATIO else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated row counts")
    parser.add_argument("--rows", type=int, help="run one size in this process (the children do)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--file", default="var/bench/import-{rows}.csv")
    args = parser.parse_args()
    if args.rows:
        return run_size(args.rows, args.seed, args.file)
    worst = 0
    for size in (int(s) for s in args.sizes.split(",")):
        print(f"==> {size:,} rows", flush=True)
        child = subprocess.run(  # noqa: S603 - this script, our arguments
            [
                sys.executable,
                "-m",
                "bench.imports",
                "--rows",
                str(size),
                "--seed",
                str(args.seed),
                "--file",
                args.file,
            ],
            check=False,
        )
        worst = max(worst, child.returncode)
    return worst


if __name__ == "__main__":
    sys.exit(main())
