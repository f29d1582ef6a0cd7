"""Time a 100,000-row lead import into a pool of the benchmark database (1,000,000 customers).

Writes a CSV (UTF-8 with BOM, Chinese headers, as Excel saves it) with ~5% duplicates (half
of existing customers' names/phones/e-mails, half of earlier rows) and ~2% bad rows (no name,
bad e-mail, unknown industry), then runs ``public_pool.services.imports.import_customers`` on
it as the seeded ``admin``, in-process, and prints the seconds, the counts against what was
planted, and the process's peak RSS.

By default the whole import runs inside one outer transaction that is rolled back at the
end, so the benchmark database stays as ``seed_demo`` left it for the other benchmarks (the
pool log refuses DELETE, so imported rows could not be removed afterwards). The import's own
per-chunk transactions become savepoints; what this leaves out is 50 commits' WAL flushes
(a few ms each). ``--keep`` commits instead. The report file goes to a temporary MEDIA_ROOT.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench python -m bench.imports [--rows 100000] [--keep]
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import secrets
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

TARGET_SECONDS = 60.0
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="commit the import instead of rolling back")
    parser.add_argument("--file", default="var/bench/import-100k.csv")
    args = parser.parse_args()

    admin = (
        User.objects.filter(role=Role.ADMIN).order_by("pk").first()
        or User.objects.filter(is_superuser=True).order_by("pk").first()
    )
    pool = Pool.objects.order_by("-is_default", "pk").first()
    if admin is None or pool is None:
        print("No admin or pool: run seed_demo first (bench/run.sh).", file=sys.stderr)
        return 2
    existing = Customer.objects.count()

    path = Path(args.file)
    path.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    planted = write_file(path, args.rows, args.seed)
    print(
        f"Wrote {args.rows:,} rows ({path.stat().st_size / 1e6:.1f} MB) in {time.perf_counter() - started:.1f} s: "
        f"{planted['duplicate_existing']:,} duplicates of existing customers, "
        f"{planted['duplicate_earlier']:,} of earlier rows, {planted['bad']:,} bad rows; "
        f"{existing:,} customers in the database; pool “{pool.name}”."
    )
    rss_before = rss_mib()

    settings.MEDIA_ROOT = tempfile.mkdtemp(prefix="import-bench-")
    started = time.perf_counter()
    result = None
    try:
        with transaction.atomic(), path.open("rb") as stream:
            result = imports.import_customers(actor=admin, pool_id=pool.pk, file=stream, file_name=path.name)
            if not args.keep:
                raise Rollback
    except Rollback:
        pass
    seconds = time.perf_counter() - started
    if result is None:
        return 1
    batch = result.batch
    print(
        f"Imported in {seconds:.1f} s ({batch.total_rows / seconds:,.0f} rows/s; target <= {TARGET_SECONDS:.0f} s: "
        f"{'ok' if seconds <= TARGET_SECONDS else 'MISSED'}) — {'committed' if args.keep else 'rolled back'}"
    )
    print(
        f"  rows {batch.total_rows:,}: created {batch.created_count:,}, duplicates {batch.duplicate_count:,} "
        f"(planted {planted['duplicate_existing'] + planted['duplicate_earlier']:,}), errors {batch.error_count:,} "
        f"(planted {planted['bad']:,})"
    )
    print(f"  peak RSS {rss_mib():.0f} MiB (before the import: {rss_before:.0f} MiB)")
    return 0 if seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
