"""Celery for a deployment on several machines: queues by kind of work, one beat however many start.

The beat test starts two real ``celery beat`` processes at the same moment against the test
database and Redis, with three one-off jobs due at once, and reads what reached the broker.
"""

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from celery.app.routes import Router, prepare
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import ClockedSchedule, PeriodicTask

from crm_site.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")


def queue_of(task_name: str) -> str:
    """The queue the app's router picks from the configured routes (a router of its own: the
    app's cached one may hold routes a test swapped in)."""
    router = Router(prepare(celery_app.conf.task_routes), celery_app.amqp.queues, True, app=celery_app)
    return router.route({}, task_name)["queue"].name


def test_each_kind_of_work_has_its_queue():
    assert queue_of("public_pool.tasks.import_customers_task") == "imports"
    assert queue_of("public_pool.tasks.recycle_pool_task") == "recycle"
    assert queue_of("public_pool.tasks.warn_recycle_task") == "recycle"
    assert queue_of("metrics.tasks.rollup_metrics_task") == "metrics"
    assert queue_of("metrics.pool_tasks.recompute_value_tiers_task") == "metrics"
    assert queue_of("public_pool.tasks.post_team_chat_task") == "default"


def test_every_task_and_every_scheduled_job_goes_to_a_queue_a_worker_consumes():
    celery_app.loader.import_default_modules()
    names = [name for name in celery_app.tasks if not name.startswith("celery.")]
    scheduled = [entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()]

    assert len(names) >= 10
    for name in [*names, *scheduled]:
        assert queue_of(name) in settings.CRM_CELERY_QUEUES, name
    # The import never shares a queue (and so a worker) with the recycle job.
    assert queue_of("public_pool.tasks.import_customers_task") != queue_of(
        "public_pool.tasks.recycle_pool_task"
    )


def test_tasks_land_in_their_queues_on_the_broker():
    """Published for real (the app's own broker, Redis), then taken back off the lists."""
    from metrics.tasks import rollup_metrics_task
    from public_pool.tasks import import_customers_task, post_team_chat_task, recycle_pool_task

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    sent = {
        "imports": import_customers_task.apply_async(kwargs={"batch_id": 0}).id,
        "recycle": recycle_pool_task.apply_async(kwargs={"dry_run": True}).id,
        "metrics": rollup_metrics_task.apply_async().id,
        "default": post_team_chat_task.apply_async(kwargs={"team_id": 0, "notification_ids": []}).id,
    }

    def ids_in(queue: str) -> set[str]:
        return {json.loads(raw)["headers"]["id"] for raw in client.lrange(queue, 0, -1)}

    try:
        waiting = {queue: ids_in(queue) for queue in sent}
        for queue, task_id in sent.items():
            assert {other for other in sent if task_id in waiting[other]} == {queue}, task_id
    finally:
        for queue, task_id in sent.items():
            for raw in client.lrange(queue, 0, -1):
                if json.loads(raw)["headers"]["id"] == task_id:
                    client.lrem(queue, 1, raw if isinstance(raw, str) else raw.decode())
        client.close()


def _database_url() -> str:
    settings_dict = connection.settings_dict
    credentials = settings_dict["USER"] or "postgres"
    if settings_dict["PASSWORD"]:
        credentials += f":{quote(settings_dict['PASSWORD'], safe='')}"
    host, port = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432
    return f"postgres://{credentials}@{host}:{port}/{settings_dict['NAME']}"


def _start_beat(env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm_site", "beat", "--loglevel=INFO", "--pidfile=",
             "--scheduler=crm_site.beat:LockedDatabaseScheduler"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _sent(client: redis.Redis, queue: str) -> list[str]:
    """The periodic job names of the messages waiting in ``queue``."""
    return [json.loads(raw)["headers"]["periodic_task_name"] for raw in client.lrange(queue, 0, -1)]


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return condition()


@pytest.mark.django_db(transaction=True)
def test_two_beats_started_at_once_send_each_job_once_and_the_second_takes_over(tmp_path):
    queue = f"beat-test-{uuid.uuid4().hex[:8]}"
    due = ClockedSchedule.objects.create(clocked_time=timezone.now() + timedelta(seconds=2))
    jobs = [f"{queue}-job-{n}" for n in range(3)]
    for name in jobs:
        PeriodicTask.objects.create(
            name=name,
            task="public_pool.tasks.team_recycled_digest_task",
            clocked=due,
            one_off=True,
            queue=queue,
        )
    env = os.environ | {
        "DATABASE_URL": _database_url(),
        "REDIS_URL": REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings_test",
        "CRM_BEAT_LOCK_KEY": f"crm:beat-lock-test-{queue}",
    }
    client = redis.Redis.from_url(REDIS_URL)
    logs = [tmp_path / "beat-1.log", tmp_path / "beat-2.log"]
    beats = [_start_beat(env, logs[0]), _start_beat(env, logs[1])]
    try:
        sent_all = _wait_for(lambda: len(_sent(client, queue)) >= len(jobs), 90)
        time.sleep(8)  # time for a second beat, were one running, to send them again
        sent = _sent(client, queue)
        texts = [log.read_text() for log in logs]
        assert sent_all, texts
        assert sorted(sent) == sorted(jobs), texts  # each job exactly once
        holder = next(i for i, text in enumerate(texts) if "acquired the lock" in text)
        standby = 1 - holder
        assert "waiting to take over" in texts[standby], texts
        assert "acquired the lock" not in texts[standby], texts
        assert all(beat.poll() is None for beat in beats), texts  # the second waits, it does not exit

        # The holder stops: the standby takes the lock over (and the one-off jobs stay sent once).
        _stop(beats[holder])
        assert _wait_for(lambda: "acquired the lock" in logs[standby].read_text(), 60), logs[
            standby
        ].read_text()
        time.sleep(3)
        assert sorted(_sent(client, queue)) == sorted(jobs)
    finally:
        for beat in beats:
            _stop(beat)
        client.delete(queue, env["CRM_BEAT_LOCK_KEY"])
        client.close()
