#!/usr/bin/env bash
# Command 2 of the README: install what the tests need, then run the whole suite on
# PostgreSQL, Redis and Debian Chromium. Starts PostgreSQL and Redis when they are not
# running and never trips over a test database an earlier run left behind.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# A CJK font, so zh-hans screenshots show characters rather than boxes.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "==> installing a Chinese font for the browser tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null
fi
if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian chromium for the browser tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# GNU gettext (xgettext, msgfmt): tests/test_translations.py extracts the marked strings and
# compiles the zh-hans catalogue to check it is complete and that the committed .mo is current.
if ! command -v xgettext >/dev/null || ! command -v msgfmt >/dev/null; then
  echo "==> installing Debian gettext for the translation tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null
fi

# Debian's docker-compose validates docker-compose.yml (`docker-compose config`) with no Docker
# engine; without it tests/test_docker_compose.py still parses the file and skips only that step.
if ! command -v docker-compose >/dev/null && ! docker compose version >/dev/null 2>&1; then
  echo "==> installing Debian docker-compose to validate docker-compose.yml"
  as_root apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null \
    || echo "    (docker-compose could not be installed; its check will be skipped)"
fi

# Debian's pgbouncer: tests/test_pgbouncer.py starts one in transaction mode in front of the test
# server (as docker-compose.yml runs the app). Only the binary is used; no service is started.
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ]; then
  echo "==> installing Debian pgbouncer for the connection-pooling tests"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "==> starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "==> starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save ""
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/crm}
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
export DJANGO_SETTINGS_MODULE=crm_site.settings_test
db_name=${DATABASE_URL##*/}
if ! psql "${DATABASE_URL%/*}/postgres" -qAtc "SELECT 1 FROM pg_database WHERE datname = '$db_name'" | grep -q 1; then
  psql "${DATABASE_URL%/*}/postgres" -qc "CREATE DATABASE \"$db_name\"" >/dev/null
fi
# A run that was killed may have left sessions on its test databases; end them so they can be dropped.
# Only this run's own test databases (test_<db> and xdist's test_<db>_gw<N>): another checkout's
# test run on the same server (test_<db>_other) is left alone.
psql "${DATABASE_URL%/*}/postgres" -qAtc \
  "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE (datname = 'test_$db_name' OR datname ~ '^test_${db_name}_gw[0-9]+$') AND pid <> pg_backend_pid()" \
  >/dev/null

echo "==> lint"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python manage.py makemigrations --check --dry-run >/dev/null
# Static types (pyproject.toml [tool.mypy]); needs no database: the settings import without one.
.venv/bin/mypy .

echo "==> tests"
.venv/bin/python -m pytest --create-db -p no:cacheprovider -n "${PYTEST_WORKERS:-auto}" "$@"
