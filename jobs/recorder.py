"""Records every run of a periodic job, in one place: the tasks' Celery base class.

A periodic task is declared ``@shared_task(base=RecordedTask, ...)``. When a worker starts it,
the run's ``JobRun`` row (made by "Run now" under the same Celery task id, or made here for a run
beat sent) turns ``running``; when it returns, ``succeeded`` with the job's summary figures; when
it raises, ``failed`` with the error. An automatic retry puts the run back to ``queued`` with the
error that caused it. Calling the task function directly (the management commands do) records
nothing. Recording never fails a task: a database error while recording is logged and dropped.

Finished runs older than ``RETENTION_DAYS`` are pruned by the recorder each time a run finishes
(one indexed DELETE), so no extra periodic job is needed to keep the table small.
"""

import logging
from datetime import datetime, timedelta
from typing import Any

from celery.contrib.django.task import DjangoTask
from django.db import DatabaseError
from django.utils import timezone

from jobs import registry
from jobs.models import JobRun, JobStatus, JobTrigger

logger = logging.getLogger(__name__)

RETENTION_DAYS = 90


def prune(*, now: datetime | None = None) -> int:
    """Delete runs queued more than ``RETENTION_DAYS`` days before ``now``; answers how many."""
    cutoff = (now or timezone.now()) - timedelta(days=RETENTION_DAYS)
    deleted, _by_model = JobRun.objects.filter(queued_at__lt=cutoff).delete()
    return deleted


def _started(job: registry.Job, task_id: str) -> None:
    now = timezone.now()
    updated = JobRun.objects.filter(task_id=task_id).update(
        status=JobStatus.RUNNING, started_at=now, error=""
    )
    if not updated:
        JobRun.objects.get_or_create(
            task_id=task_id,
            defaults={
                "job": job.key,
                "trigger": JobTrigger.SCHEDULED,
                "status": JobStatus.RUNNING,
                "queued_at": now,
                "started_at": now,
            },
        )


def _finished(task_id: str, **fields: Any) -> None:
    now = timezone.now()
    JobRun.objects.filter(task_id=task_id).update(finished_at=now, **fields)
    prune(now=now)


class RecordedTask(DjangoTask):
    """Base class of the periodic jobs' tasks: writes their ``JobRun`` rows. A DjangoTask, as
    the app's other tasks are (``delay_on_commit``)."""

    def _record(self, action, *args: Any, **kwargs: Any) -> None:
        try:
            action(*args, **kwargs)
        except DatabaseError:
            logger.exception("could not record a run of %s", self.name)

    def before_start(self, task_id, args, kwargs):
        job = registry.by_task(self.name)
        if job is not None:
            self._record(_started, job, task_id)

    def on_success(self, retval, task_id, args, kwargs):
        job = registry.by_task(self.name)
        if job is not None:
            self._record(_finished, task_id, status=JobStatus.SUCCEEDED, summary=job.params(retval))

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        if registry.by_task(self.name) is not None:
            self._record(_finished, task_id, status=JobStatus.FAILED, error=_error_text(exc))

    def on_retry(self, exc, task_id, args, kwargs, einfo):
        if registry.by_task(self.name) is not None:
            self._record(
                lambda: JobRun.objects.filter(task_id=task_id).update(
                    status=JobStatus.QUEUED, error=_error_text(exc)
                )
            )


def _error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
