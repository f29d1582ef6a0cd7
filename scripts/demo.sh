#!/usr/bin/env bash
# Command 1 of the README: set up and start the site with demo data.
# With no environment: SQLite (db.sqlite3) and a filesystem Celery broker under var/, so
# nothing else needs to run. With DATABASE_URL / REDIS_URL set, PostgreSQL and Redis are used.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh base

PORT=${PORT:-8000}
PY=.venv/bin/python
$PY manage.py migrate --no-input
if $PY manage.py seed_demo --check-empty >/dev/null 2>&1; then
  $PY manage.py seed_demo ${SEED_ARGS:-}
else
  echo "==> demo data already present (delete db.sqlite3 to start over)"
  $PY manage.py seed_demo --print-logins
fi

mkdir -p var/log
echo "==> starting the Celery worker with beat (log: var/log/celery.log)"
# All four queues (crm_site/settings.py, CELERY_TASK_ROUTES) in one worker; beat takes its lock.
.venv/bin/celery -A crm_site worker --beat -Q default,imports,recycle,metrics --loglevel=info --concurrency=1 \
  --schedule var/celerybeat-schedule >var/log/celery.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null; wait $worker 2>/dev/null' EXIT INT TERM

echo
echo "==> the CRM is at http://127.0.0.1:$PORT/  (press Ctrl-C to stop)"
echo
$PY manage.py runserver "0.0.0.0:$PORT"
