"""One row per run of a periodic job, written by the task itself (``jobs.recorder.RecordedTask``).

Rows are kept ``RETENTION_DAYS`` days: the recorder prunes older ones whenever a run finishes.
"""

from django.conf import settings
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class JobTrigger(models.TextChoices):
    SCHEDULED = "scheduled", pgettext_lazy("job trigger", "scheduled")
    MANUAL = "manual", pgettext_lazy("job trigger", "run now")


class JobStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("job status", "queued")
    RUNNING = "running", pgettext_lazy("job status", "running")
    SUCCEEDED = "succeeded", pgettext_lazy("job status", "succeeded")
    FAILED = "failed", pgettext_lazy("job status", "failed")


class JobRun(models.Model):
    # The job's key in ``settings.CELERY_BEAT_SCHEDULE`` (and its ``jobs.registry`` entry).
    job = models.CharField(_("job"), max_length=100)
    # The Celery task id: the worker finds the row "Run now" queued by it.
    task_id = models.CharField(max_length=255, unique=True)
    trigger = models.CharField(_("trigger"), max_length=10, choices=JobTrigger.choices)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("run by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices)
    queued_at = models.DateTimeField(_("queued"))
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The figures of the task's answer, rendered by the job's summary template (``jobs.registry``).
    summary = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("job run")
        verbose_name_plural = _("job runs")
        indexes = [
            models.Index(fields=["job", "-queued_at"], name="jobrun_job_recent"),
            models.Index(fields=["queued_at"], name="jobrun_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.queued_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def is_active(self) -> bool:
        return self.status in (JobStatus.QUEUED, JobStatus.RUNNING)

    @property
    def duration_text(self) -> str:
        """How long the run took, "0.4 s", "12 s", "3 min 5 s" ("" until it finished)."""
        if not (self.started_at and self.finished_at):
            return ""
        seconds = (self.finished_at - self.started_at).total_seconds()
        if seconds < 10:
            return _("%(seconds)s s") % {"seconds": number_format(seconds, 1)}
        if seconds < 60:
            return _("%(seconds)s s") % {"seconds": int(seconds)}
        minutes, rest = divmod(int(seconds), 60)
        return _("%(minutes)s min %(seconds)s s") % {"minutes": minutes, "seconds": rest}

    @property
    def summary_text(self) -> str:
        """The job's sentence for the run's figures ("recycled 152"), in the active language."""
        from jobs import registry

        job = registry.BY_KEY.get(self.job)
        return job.summary(self.summary) if job and self.status == JobStatus.SUCCEEDED else ""
