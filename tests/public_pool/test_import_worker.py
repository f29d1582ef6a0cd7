"""Imports in a real Celery worker process on Redis: the API reports queued → running → done with
``processed`` rising, and a worker killed with SIGKILL half-way leaves whole chunks only; the
import then runs again (as a redelivered message would) without repeating a row."""

import csv
import io
import signal
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from customers.models import Customer
from public_pool.models import ImportBatch, ImportStatus, PoolEvent, PoolEventKind
from public_pool.services import imports

CHUNK = 500

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def workers(celery_workers, media):
    """Import workers (tests/celery_workers.py) with this module's media folder and chunk size."""
    celery_workers.env |= {"DJANGO_MEDIA_ROOT": str(media), "PUBLIC_POOL_IMPORT_CHUNK_SIZE": str(CHUNK)}

    def send(batch_id: int) -> None:
        celery_workers.send("public_pool.tasks.import_customers_task", batch_id=batch_id)

    return SimpleNamespace(
        start=celery_workers.start,
        send=send,
        log=celery_workers.log,
        queue=celery_workers.queue,
        routing=celery_workers.routing,
    )


def lead_file(n: int) -> bytes:
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["客户名称", "电话", "联系人"])
    writer.writerows([f"Worker Co {i}", f"1390{i:07d}", f"Person {i}"] for i in range(n))
    return text.getvalue().encode("utf-8")


def queued_batch(admin_user, pool, n: int) -> ImportBatch:
    batch = imports.create_import(
        actor=admin_user, pool_id=pool.pk, file=io.BytesIO(lead_file(n)), file_name="big.csv", start=False
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED)  # as start_import does
    return batch


def poll(api: APIClient, batch_id: int, until, timeout: float = 120, log: Path | None = None) -> list[dict]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = api.get(f"/api/imports/{batch_id}/").json()
        seen.append(data)
        if until(data):
            return seen
        time.sleep(0.05)
    raise AssertionError(f"no end after {timeout}s: {seen[-1]}\n{log.read_text() if log else ''}")


def test_a_real_worker_imports_while_the_api_reports_progress(workers, admin_user, pool):
    start, send, log = workers.start, workers.send, workers.log
    api = APIClient()
    api.force_authenticate(admin_user)
    batch = queued_batch(admin_user, pool, 6000)
    assert api.get(f"/api/imports/{batch.pk}/").json()["status"] == "queued"

    start()
    send(batch.pk)
    seen = poll(api, batch.pk, lambda data: data["status"] in ("done", "failed"), log=log)

    statuses = [data["status"] for data in seen]
    assert statuses[-1] == "done", seen[-1]
    running = [data["processed"] for data in seen if data["status"] == "running"]
    assert any(0 < processed < 6000 for processed in running), running  # progress seen mid-way
    assert running == sorted(running)  # never goes back
    assert statuses == sorted(statuses, key=["queued", "running", "done"].index)
    final = seen[-1]
    assert (final["total"], final["processed"], final["created"], final["duplicate"], final["error"]) == (
        6000, 6000, 6000, 0, 0
    )  # fmt: skip
    assert Customer.objects.filter(pool=pool).count() == 6000
    assert Customer.objects.filter(pool=pool, contacts__name__startswith="Person ").count() == 6000


def test_a_worker_killed_mid_way_leaves_whole_chunks_and_the_rerun_repeats_no_row(workers, admin_user, pool):
    start, send, log = workers.start, workers.send, workers.log
    api = APIClient()
    api.force_authenticate(admin_user)
    total = 15000
    batch = queued_batch(admin_user, pool, total)
    worker = start()
    send(batch.pk)
    poll(api, batch.pk, lambda data: data["processed"] >= 3 * CHUNK, log=log)

    worker.send_signal(signal.SIGKILL)
    worker.wait(timeout=10)

    batch.refresh_from_db()
    assert batch.status == ImportStatus.RUNNING  # nobody told the database: the worker died
    assert 0 < batch.processed_rows < total
    assert batch.processed_rows % CHUNK == 0  # whole chunks, nothing half-written
    imported = Customer.objects.filter(pool=pool).count()
    assert imported == batch.created_count == batch.processed_rows
    assert len(imports.report_preview(batch, limit=total)) == batch.processed_rows

    start()
    send(batch.pk)  # what a redelivered message, or "Resume", does
    final = poll(api, batch.pk, lambda data: data["status"] in ("done", "failed"), log=log)[-1]

    assert final["status"] == "done", final
    assert (final["processed"], final["created"], final["duplicate"]) == (total, total, 0)
    assert Customer.objects.filter(pool=pool).count() == total
    assert Customer.objects.filter(pool=pool).values("name").distinct().count() == total
    assert PoolEvent.objects.filter(kind=PoolEventKind.IMPORT).count() == total
    rows = [r.row for r in imports.report_preview(ImportBatch.objects.get(pk=batch.pk), limit=total + 1)]
    assert rows == list(range(2, total + 2))
