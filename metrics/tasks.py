"""Celery tasks of the metrics roll-ups: thin wrappers, each calling one function.

Safe to run twice: ``rollup_days`` replaces whole days under an advisory lock. The default
schedule (nightly 00:30) is in ``settings.CELERY_BEAT_SCHEDULE``.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.db import OperationalError

from metrics import dashboard, rollups


# OperationalError: the database restarted or a lock timed out; a retry heals it.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def rollup_metrics_task(*, since: str | None = None) -> int:
    """Roll up yesterday, or every day from ``since`` (ISO date) through yesterday; answers the
    number of roll-up rows those days now have."""
    if since is None:
        return rollups.rollup_yesterday()
    return rollups.rollup_through_yesterday(since=dt.date.fromisoformat(since))


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def warm_dashboards_task() -> int:
    """Cache the figures of last week, month and quarter for the company and every team."""
    return dashboard.warm_closed_dashboards()
