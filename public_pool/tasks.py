"""Celery tasks of the public pool: thin wrappers, each calling one service.

Every task is safe to run twice (the services are idempotent) and takes only JSON values.
Default schedules are in ``settings.CELERY_BEAT_SCHEDULE``; admins change them in the
django-celery-beat admin.
"""

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from celery import shared_task
from django.db import OperationalError
from django.utils.dateparse import parse_datetime

from jobs.recorder import RecordedTask
from public_pool import services
from public_pool.exceptions import TeamChatUnavailable

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


def _as_of(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None


def _json(result: "DataclassInstance") -> dict[str, Any]:
    data = asdict(result)
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


# OperationalError: the database restarted or a lock timed out; a retry heals it.
@shared_task(
    base=RecordedTask, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True
)
def recycle_pool_task(*, as_of: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Apply the recycle rules (``services.recycle_stale_customers``); answers the counts."""
    result = services.recycle_stale_customers(as_of=_as_of(as_of), dry_run=dry_run)
    data = _json(result)
    data["by_rule"] = {str(k): v for k, v in result.by_rule.items()}
    return data


@shared_task(
    base=RecordedTask,
    autoretry_for=(OperationalError, OSError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def warn_recycle_task(*, as_of: str | None = None) -> dict[str, Any]:
    """Warn owners and managers before recycling (``services.warn_recycle``); OSError: mail server."""
    return _json(services.warn_recycle(as_of=_as_of(as_of)))


@shared_task(
    base=RecordedTask,
    autoretry_for=(OperationalError, OSError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
)
def team_recycled_digest_task() -> int:
    """E-mail each manager the team's customers recycled since the last digest
    (``services.send_team_recycled_digests``); OSError: the mail server. Answers mails sent."""
    return services.send_team_recycled_digests()


@shared_task(
    base=RecordedTask, autoretry_for=(OperationalError,), retry_backoff=True, max_retries=3, acks_late=True
)
def recompute_pool_priorities_task(*, pool_id: int | None = None) -> int:
    """Re-score the leads of one pool, or of all pools (nightly: recency decays)."""
    return services.recompute_pool_priorities(pool_id=pool_id)


@shared_task(autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5, acks_late=True)
def refresh_pool_recycle_policies_task(*, pool_id: int) -> int:
    """Re-match a pool's owned customers after its rules changed (enqueued on commit of the edit)."""
    return services.refresh_pool_recycle_policies(pool_id=pool_id)


# TeamChatUnavailable: the chat timed out, answered 5xx/429 or a rate limit; it heals. Backoff
# 1 s, 2 s, 4 s … up to 10 minutes, then give up (the notifications stay in the app).
@shared_task(
    autoretry_for=(TeamChatUnavailable, OperationalError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
)
def post_team_chat_task(*, team_id: int, notification_ids: list[int]) -> bool:
    """Post notifications to the team's group chat (``services.post_to_team_chat``)."""
    return services.post_to_team_chat(team_id=team_id, notification_ids=notification_ids)


# No automatic retry: a failed import says where it stopped and the admin resumes it. acks_late
# and reject_on_worker_lost: a worker killed mid-way leaves the message for another worker,
# which continues after the batch's watermark (``services.imports.run_import``).
@shared_task(acks_late=True, reject_on_worker_lost=True)
def import_customers_task(*, batch_id: int) -> dict[str, Any]:
    """Run one lead import (``services.imports.run_import``); answers its status and counts."""
    from public_pool.services import imports

    batch = imports.run_import(batch_id=batch_id)
    return {
        "status": batch.status,
        "processed": batch.processed_rows,
        "created": batch.created_count,
        "duplicate": batch.duplicate_count,
        "error": batch.error_count,
    }
