"""Schedules of the periodic jobs (django-celery-beat rows), as admins edit them in the browser.

The periodic jobs of ``jobs.registry`` (every job in ``CELERY_BEAT_SCHEDULE``) are edited
here; the Django admin edits any. A crontab is shared between tasks by django-celery-beat, so a new
timing reuses an identical schedule row or makes one, and never edits a row another job uses.
"""

from dataclasses import dataclass

from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from audit import services as audit
from audit.models import AuditArea
from customers.models import User
from jobs.services import periodic_tasks
from public_pool.services._common import ensure_admin

CRONTAB_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")


@dataclass(frozen=True, slots=True)
class Timing:
    """Either the five crontab fields or an interval (``every`` ``period``s)."""

    crontab: dict[str, str] | None = None
    every: int | None = None
    period: str | None = None


def job_snapshot(job: PeriodicTask) -> dict[str, object]:
    """A job's schedule as the audit log shows it (the crontab fields or the interval)."""
    if job.crontab_id:
        timing = " ".join(str(getattr(job.crontab, name)) for name in CRONTAB_FIELDS)
    elif job.interval_id:
        timing = f"every {job.interval.every} {job.interval.period}"
    else:
        timing = ""
    return {"schedule": timing, "enabled": job.enabled}


def _audit_job(actor: User, job: PeriodicTask, before: dict[str, object]) -> None:
    audit.record_change(
        actor=actor,
        area=AuditArea.SCHEDULE,
        object_id=job.pk,
        label=job.name,
        before=before,
        after=job_snapshot(job),
    )


def pool_jobs():
    return periodic_tasks()


@transaction.atomic
def set_job_schedule(*, actor: User, task_id: int, timing: Timing, enabled: bool) -> PeriodicTask:
    """Give one of the pool's jobs a new timing and enabled flag; beat picks it up on its next tick."""
    ensure_admin(actor)
    job = pool_jobs().select_for_update(of=("self",)).get(pk=task_id)
    before = job_snapshot(job)
    if timing.crontab is not None:
        extra = {"timezone": job.crontab.timezone} if job.crontab_id and job.crontab.timezone else {}
        fields = {name: timing.crontab[name] for name in CRONTAB_FIELDS}
        job.crontab = CrontabSchedule.objects.filter(
            **fields, **extra
        ).first() or CrontabSchedule.objects.create(**fields, **extra)
    else:
        job.interval, _created = IntervalSchedule.objects.get_or_create(
            every=timing.every, period=timing.period
        )
    job.enabled = enabled
    job.save()
    _audit_job(actor, job, before)
    return job


@transaction.atomic
def toggle_job(*, actor: User, task_id: int) -> PeriodicTask:
    """Switch one of the pool's jobs on or off."""
    ensure_admin(actor)
    job = pool_jobs().select_for_update(of=("self",)).get(pk=task_id)
    before = job_snapshot(job)
    job.enabled = not job.enabled
    job.save()
    _audit_job(actor, job, before)
    return job
