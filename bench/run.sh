#!/usr/bin/env bash
# `make bench`: seed 1,000,000 customers into a fresh PostgreSQL database `crm_bench`, time it,
# then time the customer list page and the API list for a rep and a manager (bench/README.md).
#
# Environment (all optional):
#   BENCH_PG         server URL without database   (postgres://postgres@127.0.0.1:5432)
#   BENCH_DB         database name, dropped and re-created                       (crm_bench)
#   BENCH_CUSTOMERS / BENCH_REPS / BENCH_MANAGERS   seed size          (1000000 / 200 / 20)
#   BENCH_REQUESTS   timed requests per list case                                      (200)
#   BENCH_SKIP_SEED=1  keep the existing database and only time the lists
set -euo pipefail
cd "$(dirname "$0")/.."

PG=${BENCH_PG:-postgres://postgres@127.0.0.1:5432}
DB=${BENCH_DB:-crm_bench}
CUSTOMERS=${BENCH_CUSTOMERS:-1000000}
REPS=${BENCH_REPS:-200}
MANAGERS=${BENCH_MANAGERS:-20}
REQUESTS=${BENCH_REQUESTS:-200}
PY=.venv/bin/python

[ -x "$PY" ] || bash scripts/setup.sh base

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "==> starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

export DATABASE_URL="$PG/$DB"
export DJANGO_SETTINGS_MODULE=bench.settings

echo "==> machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(psql "$PG/postgres" -Atc 'SELECT version()' | cut -d' ' -f1-2)"
if [ "${BENCH_SKIP_SEED:-0}" != 1 ]; then
  echo "==> database $DB: drop, create, migrate"
  psql "$PG/postgres" -qAtc \
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '$DB' AND pid <> pg_backend_pid()" >/dev/null
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$DB\"" -c "CREATE DATABASE \"$DB\""
  $PY manage.py migrate --no-input -v 0

  echo "==> seed_demo --customers $CUSTOMERS --reps $REPS --managers $MANAGERS"
  peak=$(mktemp)
  started=$(date +%s.%N)
  /usr/bin/time -o "$peak" -f %M \
    $PY manage.py seed_demo --customers "$CUSTOMERS" --reps "$REPS" --managers "$MANAGERS" |
    sed '/^Demo logins/,$d'
  finished=$(date +%s.%N)
  echo "==> seed_demo peak memory (RSS): $(($(tail -1 "$peak") / 1024)) MiB"
  rm -f "$peak"
  awk -v s="$started" -v f="$finished" 'BEGIN {
    printf "==> seed_demo took %.1f s including process start (target <= 180 s): %s\n", f - s, (f - s <= 180 ? "ok" : "MISSED")
  }'
fi

echo "==> database size: $(psql "$PG/$DB" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))")"
echo "==> list page and API list"
$PY -m bench.lists --requests "$REQUESTS"

# Public pool (bench/pool.py; bench/README.md "Public pool"): HTTP claims against gunicorn beside raw SQL,
# claim next best, and the recycle job beside one bulk statement on a copy of the database.
#   BENCH_POOL_SECONDS  seconds per load phase (20); BENCH_SKIP_POOL=1 skips it
if [ "${BENCH_SKIP_POOL:-0}" != 1 ]; then
  echo "==> public pool"
  $PY -m bench.pool --seconds "${BENCH_POOL_SECONDS:-20}"
fi

# Lead import (bench/imports.py): generated 100,000- and 1,000,000-row CSVs into a pool of this
# database, each beside the one-INSERT floor, in transactions rolled back at the end (the database
# stays as seeded). BENCH_IMPORT_SIZES (100000,1000000); BENCH_SKIP_IMPORT=1 skips it.
if [ "${BENCH_SKIP_IMPORT:-0}" != 1 ]; then
  echo "==> imports of ${BENCH_IMPORT_SIZES:-100000,1000000} rows into a pool"
  $PY -m bench.imports --sizes "${BENCH_IMPORT_SIZES:-100000,1000000}"
fi

# Metrics (bench/metrics.py): the nightly roll-up of one day and a year's backfill beside the raw
# aggregation, the KPIs of last quarter from roll-ups and from raw rows, and the manager dashboard
# p50/p95 when it exists. BENCH_METRICS_REQUESTS (50); BENCH_SKIP_METRICS=1 skips it.
if [ "${BENCH_SKIP_METRICS:-0}" != 1 ]; then
  echo "==> metrics roll-ups, KPIs and dashboard"
  $PY -m bench.metrics --requests "${BENCH_METRICS_REQUESTS:-50}"
fi
