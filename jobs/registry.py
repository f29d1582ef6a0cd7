"""The periodic jobs admins see on the schedules page: one entry per ``CELERY_BEAT_SCHEDULE`` key.

Each entry names the job for humans and turns the task's answer into summary figures (stored as
JSON on the run, so a run recorded in one language reads in the other) and those figures into a
translated sentence ("recycled 152"). ``tests/jobs`` checks every beat entry has one.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def _n(value: object) -> str:
    return number_format(value if isinstance(value, int) else 0, force_grouping=True)


@dataclass(frozen=True, slots=True)
class Job:
    key: str  # the CELERY_BEAT_SCHEDULE key, also the PeriodicTask's name
    name: Promise
    params: Callable[[Any], dict[str, Any]]  # the task's answer -> JSON summary figures
    message: Callable[[dict[str, Any]], str]  # summary figures -> a sentence in the active language

    @property
    def task(self) -> str:
        return settings.CELERY_BEAT_SCHEDULE[self.key]["task"]

    def summary(self, params: dict[str, Any]) -> str:
        try:
            return self.message(params)
        except (KeyError, TypeError, ValueError):  # figures of an older version of the task
            return ""


def _count(key: str) -> Callable[[Any], dict[str, Any]]:
    return lambda answer: {key: answer if isinstance(answer, int) else 0}


def _fields(*keys: str) -> Callable[[Any], dict[str, Any]]:
    return lambda answer: {key: answer.get(key) for key in keys} if isinstance(answer, dict) else {}


def _recycled(p: dict[str, Any]) -> str:
    if p.get("skipped"):
        return _("skipped: another run was still working")
    return _("recycled %(recycled)s") % {"recycled": _n(p["recycled"])}


JOBS: tuple[Job, ...] = (
    Job(
        "public_pool.recycle",
        gettext_lazy("Recycle stale customers to the pool"),
        _fields("recycled", "skipped"),
        _recycled,
    ),
    Job(
        "public_pool.warn_recycle",
        gettext_lazy("Warn owners before recycling"),
        _fields("warned", "escalated", "emails_sent"),
        lambda p: (
            _("warned %(warned)s, escalated %(escalated)s, %(emails)s e-mails sent")
            % {"warned": _n(p["warned"]), "escalated": _n(p["escalated"]), "emails": _n(p["emails_sent"])}
        ),
    ),
    Job(
        "public_pool.team_recycled_digest",
        gettext_lazy("E-mail managers their team's recycled customers"),
        _count("emails"),
        lambda p: _("%(emails)s digests sent") % {"emails": _n(p["emails"])},
    ),
    Job(
        "public_pool.priorities",
        gettext_lazy("Re-score pooled leads"),
        _count("scored"),
        lambda p: _("re-scored %(scored)s leads") % {"scored": _n(p["scored"])},
    ),
    Job(
        "metrics.rollup",
        gettext_lazy("Roll up yesterday's KPI figures"),
        _count("rows"),
        lambda p: _("%(rows)s roll-up rows") % {"rows": _n(p["rows"])},
    ),
    Job(
        "metrics.recompute_value_tiers",
        gettext_lazy("Recompute customer value tiers"),
        _fields("changed", "a", "b", "c"),
        lambda p: (
            _("%(changed)s tiers changed (A %(a)s, B %(b)s, C %(c)s)")
            % {k: _n(p[k]) for k in ("changed", "a", "b", "c")}
        ),
    ),
    Job(
        "metrics.flag_churn_risk",
        gettext_lazy("Flag customers at risk of churning"),
        _count("flagged"),
        lambda p: _("%(flagged)s customers flagged") % {"flagged": _n(p["flagged"])},
    ),
    Job(
        "metrics.warm_dashboards",
        gettext_lazy("Cache last period's dashboards"),
        _count("pages"),
        lambda p: _("%(pages)s dashboard pages cached") % {"pages": _n(p["pages"])},
    ),
)

BY_KEY: dict[str, Job] = {job.key: job for job in JOBS}


def by_task(task_name: str) -> Job | None:
    """The job a Celery task runs as (``None``: the task is not a periodic job)."""
    for job in JOBS:
        if settings.CELERY_BEAT_SCHEDULE.get(job.key, {}).get("task") == task_name:
            return job
    return None


def job_of(task_name: str) -> Job:
    """The job of a task known to be one (a PeriodicTask of ``jobs.services.periodic_tasks``)."""
    job = by_task(task_name)
    if job is None:
        raise LookupError(task_name)
    return job
