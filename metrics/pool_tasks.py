"""Celery tasks of the churn warning and the value tiers: thin wrappers, each calling one function.

Both are safe to run twice (the functions replace their results as a whole). Default schedules
are in ``settings.CELERY_BEAT_SCHEDULE``; ``settings.CELERY_IMPORTS`` registers this module
(autodiscovery finds only ``metrics.tasks``).
"""

from dataclasses import asdict
from typing import Any

from celery import shared_task
from django.db import OperationalError
from django.utils.dateparse import parse_datetime

from metrics import churn, tiers


# OperationalError: the database restarted or a lock timed out; a retry heals it.
@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def flag_churn_risk_task(*, as_of: str | None = None) -> int:
    return churn.flag_churn_risk(as_of=parse_datetime(as_of) if as_of else None)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True)
def recompute_value_tiers_task(*, as_of: str | None = None) -> dict[str, Any]:
    return asdict(tiers.recompute_value_tiers(as_of=parse_datetime(as_of) if as_of else None))
