"""Smoke test that keeps the embedded default honest: no environment, SQLite, no services.

``make demo`` promises a working site on a fresh machine with nothing configured. This runs
what it runs — ``migrate``, ``seed_demo`` and ``check`` — in subprocesses whose environment has
no ``DATABASE_URL``, no ``REDIS_URL`` and no settings module of the tests, on a SQLite file in
a temp folder (``DJANGO_SQLITE_PATH``), runs every periodic job's management command
that exists (the demo's beat runs them on SQLite), then signs in as a demo rep and a demo manager (the
dashboard of current and closed periods, the KPI API) through Django's test client. Everything else in the suite runs on PostgreSQL; this is the one place SQLite is used.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SIGN_IN = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")  # as manage.py does
django.setup()
from django.test import Client
from django.urls import reverse
from django.conf import settings

client = Client(HTTP_HOST="localhost")
login_page = client.get(reverse("login"))
signed_in = client.post(reverse("login"), {"username": "rep1", "password": "demo"})
home = client.get(reverse("home"))
customers = client.get(reverse("customers:list"))
manager = Client(HTTP_HOST="localhost")
manager.post(reverse("login"), {"username": "manager1", "password": "demo"})
dashboard = {
    period: manager.get(reverse("metrics:dashboard"), {"period": period}).status_code
    for period in ("this_month", "this_week", "last_quarter", "this_year")
}
from customers.models import User
from django.utils import timezone
today = timezone.localdate()
team = User.objects.get(username="manager1").team_id
kpis = manager.get(
    "/api/metrics/kpis/",
    {"from": today.replace(day=1).isoformat(), "to": today.isoformat(), "scope": "team", "id": team},
).status_code
print(json.dumps({
    "engine": settings.DATABASES["default"]["ENGINE"],
    "broker": settings.CELERY_BROKER_URL,
    "login_page": login_page.status_code,
    "login_form": 'name="username"' in login_page.content.decode(),
    "signed_in": [signed_in.status_code, signed_in.get("Location")],
    "home": home.status_code,
    "customers": customers.status_code,
    "dashboard": dashboard,
    "kpis": kpis,
}))
"""


# The management commands behind the periodic jobs (README, "Periodic jobs by hand"); the ones
# that exist are run against the seeded SQLite database.
PERIODIC_JOB_COMMANDS = (
    "recycle_pool",
    "warn_recycle",
    "recompute_pool_priorities",
    "rollup_metrics",
    "flag_churn_risk",
    "recompute_value_tiers",
    "warm_dashboards",
)


@pytest.fixture
def embedded_env(tmp_path):
    """The environment of a fresh machine: a PATH, a home, and where the SQLite file goes."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SQLITE_PATH": str(tmp_path / "demo.sqlite3"),
        "DJANGO_ENV_FILE": os.devnull,
    }


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_embedded_default_migrates_seeds_runs_the_jobs_and_serves_the_login_page(embedded_env, tmp_path):
    migrated = run(embedded_env, "manage.py", "migrate", "--no-input", "-v", "0")
    seeded = run(
        embedded_env, "manage.py", "seed_demo", "--customers", "40", "--reps", "2", "--managers", "1"
    )
    checked = run(embedded_env, "manage.py", "check")
    # The demo's beat fires these on SQLite too: each must run there, not only on PostgreSQL.
    available = set(run(embedded_env, "manage.py", "help", "--commands").stdout.split())
    jobs = [command for command in PERIODIC_JOB_COMMANDS if command in available]
    for command in jobs:
        run(embedded_env, "manage.py", command)
    signed_in = json.loads(run(embedded_env, "-c", SIGN_IN).stdout.strip().splitlines()[-1])

    assert "WARNINGS" not in migrated.stderr, migrated.stderr  # nothing a new user must wonder about
    assert (tmp_path / "demo.sqlite3").stat().st_size > 0
    assert "rep1" in seeded.stdout
    assert "System check identified no issues" in checked.stdout
    assert "recycle_pool" in jobs  # the public pool's job exists, so it was run above
    assert signed_in == {
        "engine": "django.db.backends.sqlite3",
        "broker": "filesystem://",
        "login_page": 200,
        "login_form": True,
        "signed_in": [302, "/"],
        "home": 200,
        "customers": 200,
        # The manager's dashboard, current periods (closed days and today's live rows) and closed.
        "dashboard": {"this_month": 200, "this_week": 200, "last_quarter": 200, "this_year": 200},
        "kpis": 200,
    }
