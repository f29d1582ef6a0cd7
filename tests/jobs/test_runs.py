"""Job runs: recorded by the tasks themselves in a real worker (success and failure), "Run now"
queues a run that reaches succeeded with its summary, and runs older than 90 days are pruned."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django_celery_beat.models import PeriodicTask

import metrics.tasks  # noqa: F401 - registers the tasks with the app
import public_pool.tasks  # noqa: F401
from crm_site.celery import app as celery_app
from jobs import recorder, registry
from jobs.models import JobRun, JobStatus, JobTrigger
from jobs.services import ensure_periodic_tasks
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned


def wait_for(run_filter, status: str, workers, timeout: float = 60) -> JobRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = JobRun.objects.filter(**run_filter).first()
        if run is not None and run.status == status:
            return run
        time.sleep(0.2)
    print(workers.output())
    raise AssertionError(f"no {status} run: {list(JobRun.objects.values())}")


def test_a_real_worker_records_a_succeeded_and_a_failed_run(celery_workers, team, pool):
    celery_workers.start()
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    for _ in range(2):
        owned(rep, pool, claimed_days_ago=20)

    ok = celery_workers.send("public_pool.tasks.recycle_pool_task")
    bad = celery_workers.send("metrics.tasks.rollup_metrics_task", since="not a date")

    run = wait_for({"task_id": ok.id}, JobStatus.SUCCEEDED, celery_workers)
    assert (run.job, run.trigger, run.triggered_by) == ("public_pool.recycle", JobTrigger.SCHEDULED, None)
    assert run.summary == {"recycled": 2, "skipped": False}
    assert run.started_at is not None
    assert run.finished_at >= run.started_at
    assert run.error == ""
    with translation.override("en"):
        assert run.summary_text == "recycled 2"
    with translation.override("zh-hans"):
        assert run.summary_text == "回收 2 个客户"

    failed = wait_for({"task_id": bad.id}, JobStatus.FAILED, celery_workers)
    assert failed.job == "metrics.rollup"
    assert failed.error.startswith("ValueError:")
    assert failed.summary == {}
    assert failed.summary_text == ""
    assert failed.finished_at is not None


def test_run_now_queues_a_run_that_reaches_succeeded_with_its_summary(
    client, celery_workers, admin_user, team, pool
):
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    for _ in range(3):
        owned(rep, pool, claimed_days_ago=20)
    ensure_periodic_tasks()
    task = PeriodicTask.objects.get(name="public_pool.recycle")
    client.force_login(admin_user)
    with celery_workers.routing(task.task):
        response = client.post(reverse("pool_manage:schedule_run", args=[task.pk]), follow=True)

    # Listed at once as queued (no worker yet), run now by the admin, and the page polls.
    run = JobRun.objects.get()
    assert (run.status, run.trigger, run.triggered_by) == (JobStatus.QUEUED, JobTrigger.MANUAL, admin_user)
    page = response.content.decode()
    assert "queued; its run is listed below" in page
    assert 'data-status="queued"' in page
    assert 'hx-trigger="every 2s"' in page

    celery_workers.start()
    run = wait_for({"pk": run.pk}, JobStatus.SUCCEEDED, celery_workers)
    assert run.summary["recycled"] == 3
    page = client.get(reverse("pool_manage:schedules")).content.decode()
    assert "recycled 3" in page
    assert 'data-status="succeeded"' in page
    assert 'hx-trigger="every 2s"' not in page  # nothing left to watch


@pytest.mark.django_db
def test_runs_are_kept_90_days(admin_user):
    now = timezone.now()

    def run(days_ago: float, n: int) -> JobRun:
        return JobRun.objects.create(
            job="metrics.rollup", task_id=f"t{n}", trigger=JobTrigger.SCHEDULED, status=JobStatus.SUCCEEDED,
            queued_at=now - timedelta(days=days_ago),
        )  # fmt: skip

    kept = [run(0, 1), run(30, 2), run(89.9, 3)]
    run(90.1, 4)
    run(400, 5)

    assert recorder.prune(now=now) == 2
    assert set(JobRun.objects.values_list("pk", flat=True)) == {r.pk for r in kept}


@pytest.mark.django_db
def test_the_recorder_prunes_when_a_run_finishes():
    old = JobRun.objects.create(
        job="metrics.rollup", task_id="old", trigger=JobTrigger.SCHEDULED, status=JobStatus.SUCCEEDED,
        queued_at=timezone.now() - timedelta(days=120),
    )  # fmt: skip
    task = celery_app.tasks["metrics.tasks.warm_dashboards_task"]
    task.before_start("new", (), {})
    task.on_success(0, "new", (), {})
    assert list(JobRun.objects.values_list("task_id", "status")) == [("new", JobStatus.SUCCEEDED)]
    assert not JobRun.objects.filter(pk=old.pk).exists()


def test_every_beat_job_is_registered_and_recorded():
    from django.conf import settings

    assert {job.key for job in registry.JOBS} == set(settings.CELERY_BEAT_SCHEDULE)
    for job in registry.JOBS:
        assert isinstance(celery_app.tasks[job.task], recorder.RecordedTask), job.key
