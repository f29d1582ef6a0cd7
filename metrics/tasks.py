"""Every Celery task of the metrics app: thin wrappers, each calling one service.

All are safe to run twice: ``rollup_days`` replaces whole days under an advisory lock, the churn
flags and the value tiers are replaced as a whole, warming only fills a cache. Default schedules
are in ``settings.CELERY_BEAT_SCHEDULE``; autodiscovery finds this module.

The churn and tier tasks keep the names they were registered under when they lived in
``metrics.pool_tasks`` (``name=``), so beat schedules stored in the database by
django-celery-beat, and messages already queued, still find them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.db import OperationalError
from django.utils.dateparse import parse_datetime

from jobs.recorder import RecordedTask
from metrics import dashboard
from metrics.services import churn as churn_services
from metrics.services import rollups as rollups_services
from metrics.services import tiers as tiers_services

# OperationalError (every task): the database restarted or a lock timed out; a retry heals it.


@shared_task(
    base=RecordedTask, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True
)
def rollup_metrics_task(*, since: str | None = None) -> int:
    """Roll up yesterday, or every day from ``since`` (ISO date) through yesterday; answers the
    number of roll-up rows those days now have."""
    if since is None:
        return rollups_services.rollup_yesterday()
    return rollups_services.rollup_through_yesterday(since=dt.date.fromisoformat(since))


@shared_task(
    base=RecordedTask, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True
)
def warm_dashboards_task() -> int:
    """Cache the figures of last week, month and quarter for the company and every team."""
    return dashboard.warm_closed_dashboards()


@shared_task(
    base=RecordedTask,
    name="metrics.pool_tasks.flag_churn_risk_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def flag_churn_risk_task(*, as_of: str | None = None) -> int:
    return churn_services.flag_churn_risk(as_of=parse_datetime(as_of) if as_of else None)


@shared_task(
    base=RecordedTask,
    name="metrics.pool_tasks.recompute_value_tiers_task",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def recompute_value_tiers_task(*, as_of: str | None = None) -> dict[str, Any]:
    return asdict(tiers_services.recompute_value_tiers(as_of=parse_datetime(as_of) if as_of else None))
