"""Real ``celery worker`` processes for tests, pointed at the test database (shared fixture).

``celery_workers`` starts workers on a queue of their own (so parallel test runs never take each
other's messages) on the broker the app under test publishes to (``REDIS_URL`` from
scripts/test.sh), so a page that enqueues a task reaches them once the task is routed to
``celery_workers.queue``. Every worker is stopped (SIGTERM, then SIGKILL) when the test ends.
"""

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from celery import Celery
from celery.result import AsyncResult
from django.db import connection

REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/7"
ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database as a ``DATABASE_URL`` a subprocess can use."""
    settings_dict = connection.settings_dict
    credentials = settings_dict["USER"] or "postgres"
    if settings_dict["PASSWORD"]:
        credentials += f":{quote(settings_dict['PASSWORD'], safe='')}"
    return (
        f"postgres://{credentials}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )


class CeleryWorkers:
    def __init__(self, log: Path, prefix: str = "test") -> None:
        self.queue = f"{prefix}-{uuid.uuid4().hex[:8]}"
        self.log = log
        # Extra environment of the workers started from now on (a test may add to it first).
        self.env: dict[str, str] = {
            "DATABASE_URL": database_url(),
            "REDIS_URL": REDIS_URL,
            "DJANGO_SETTINGS_MODULE": "crm_site.settings_test",
        }
        self.processes: list[subprocess.Popen] = []
        # Not the current app: shared tasks would then publish to this client's broker in later tests.
        self.client = Celery(f"{prefix}-client", broker=REDIS_URL, backend=REDIS_URL, set_as_current=False)

    def start(self) -> subprocess.Popen:
        with self.log.open("a") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "crm_site", "worker", "--pool=solo",
                 f"--queues={self.queue}", "--without-gossip", "--without-mingle", "--without-heartbeat",
                 "--loglevel=INFO"],
                cwd=ROOT, env=os.environ | self.env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.processes.append(process)
        return process

    @contextmanager
    def routing(self, *tasks: str) -> Iterator[None]:
        """Send ``tasks`` that the app under test enqueues (a page, a service) to these workers'
        queue while the block runs. Celery caches its routes and router on first use, so both
        are rebuilt here (setting ``task_routes`` alone is ignored once anything was sent)."""
        from crm_site.celery import app

        saved = app.conf.task_routes

        def use(routes) -> None:
            app.conf.task_routes = routes
            app.amqp.flush_routes()
            app.amqp.__dict__.pop("router", None)  # a cached_property: rebuilt from the new table

        use({task: {"queue": self.queue} for task in tasks})
        try:
            yield
        finally:
            use(saved)

    def send(self, task: str, **kwargs) -> AsyncResult:
        return self.client.send_task(task, kwargs=kwargs, queue=self.queue)

    def output(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self) -> None:
        self.client.close()
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=5)


@pytest.fixture
def celery_workers(transactional_db, tmp_path):
    """Starts ``celery worker`` processes (``.start()``) on a queue of their own; always stopped."""
    workers = CeleryWorkers(tmp_path / "worker.log")
    try:
        yield workers
    finally:
        workers.stop()
