"""What the schedules page reads and does: the periodic jobs with their last run, and "Run now"."""

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from customers.models import User
from jobs import registry, schedules
from jobs.models import JobRun, JobStatus, JobTrigger
from public_pool.services._common import ensure_admin


@dataclass(frozen=True, slots=True)
class JobRow:
    job: registry.Job
    task: PeriodicTask
    schedule: str
    next_run: datetime | None
    last_run: JobRun | None


def periodic_tasks():
    """The PeriodicTask rows that run a registered job's task (beat names them by beat key; the
    Django admin may have added more under other names)."""
    return PeriodicTask.objects.filter(task__in=[job.task for job in registry.JOBS]).select_related(
        "crontab", "interval"
    )


def ensure_periodic_tasks() -> None:
    """Make the PeriodicTask rows of jobs beat has not created yet, from ``CELERY_BEAT_SCHEDULE``
    (as beat itself does when it starts), so the page lists every job before beat first ran.
    Rows that exist are left alone: they hold the admins' edits."""
    from crm_site.celery import app

    existing = set(periodic_tasks().values_list("task", flat=True))
    for job in registry.JOBS:
        if job.task not in existing:
            ModelEntry.from_entry(job.key, app=app, **settings.CELERY_BEAT_SCHEDULE[job.key])


def job_rows(*, now: datetime | None = None) -> list[JobRow]:
    """Every job's PeriodicTask in registry order, with its schedule in words and its latest
    run. Three queries however many jobs: the tasks, the latest run ids, those runs."""
    now = now or timezone.now()
    order = {job.task: index for index, job in enumerate(registry.JOBS)}
    tasks = sorted(periodic_tasks(), key=lambda task: (order[task.task], task.name))
    latest = dict(JobRun.objects.values_list("job").annotate(last=Max("pk")).values_list("job", "last"))
    runs = JobRun.objects.select_related("triggered_by").in_bulk(list(latest.values()))
    rows = []
    for task in tasks:
        job = registry.job_of(task.task)
        rows.append(
            JobRow(
                job=job,
                task=task,
                schedule=schedules.describe(task),
                next_run=schedules.next_run(task, now=now),
                last_run=runs.get(latest.get(job.key, 0)),
            )
        )
    return rows


def run_now(*, actor: User, task: PeriodicTask) -> JobRun:
    """Enqueue the job's task now (after commit); its run shows as ``queued`` at once."""
    from crm_site.celery import app

    ensure_admin(actor)
    job = registry.job_of(task.task)
    run = JobRun.objects.create(
        job=job.key,
        task_id=str(uuid.uuid4()),
        trigger=JobTrigger.MANUAL,
        triggered_by=actor,
        status=JobStatus.QUEUED,
        queued_at=timezone.now(),
    )
    args, kwargs = json.loads(task.args or "[]"), json.loads(task.kwargs or "{}")
    transaction.on_commit(lambda: app.send_task(job.task, args=args, kwargs=kwargs, task_id=run.task_id))
    return run
