"""The recycle task end to end: a real Celery worker process, Redis, and the test database."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from django.db import connection

from customers.models import Customer
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned

REDIS_URL = os.environ.get("TEST_POOL_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A ``celery -A crm_site worker`` on its own queue, pointed at the test database; always stopped."""
    settings_dict = connection.settings_dict
    credentials = settings_dict["USER"] or "postgres"
    if settings_dict["PASSWORD"]:
        credentials += f":{quote(settings_dict['PASSWORD'], safe='')}"
    database_url = (
        f"postgres://{credentials}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    queue = f"pool-test-{uuid.uuid4().hex[:8]}"
    env = os.environ | {
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings_test",
    }
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "crm_site",
                "worker",
                "--pool=solo",
                f"--queues={queue}",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield queue, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_recycle_task_runs_in_a_real_worker(worker, team, pool):
    queue, log = worker
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)  # rows only: no task enqueued on commit
    stale = [owned(rep, pool, claimed_days_ago=20) for _ in range(3)]
    fresh = owned(rep, pool, claimed_days_ago=2)
    # Not the current app: shared tasks would then publish to this client's broker in later tests.
    client = Celery("pool-test", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)

    try:
        result = client.send_task("public_pool.tasks.recycle_pool_task", kwargs={}, queue=queue)
        answer = result.get(timeout=60)
    except Exception:
        print(log.read_text())
        raise
    finally:
        client.close()

    assert answer["recycled"] == 3
    assert answer["skipped"] is False
    assert set(Customer.objects.filter(pool=pool).values_list("pk", flat=True)) == {c.pk for c in stale}
    events = PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE)
    assert set(events.values_list("customer_id", flat=True)) == {c.pk for c in stale}
    assert events.count() == 3
    fresh.refresh_from_db()
    assert fresh.owner == rep
