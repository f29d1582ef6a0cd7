"""One run at a time for a periodic job, on any database.

PostgreSQL: a session advisory lock (``pg_try_advisory_lock``), released by the server when
the session ends, however the process died. Elsewhere (the embedded SQLite default): a
:class:`public_pool.models.JobLock` row taken by one conditional UPDATE — only a free or
expired lock matches, and the database runs one UPDATE on a row at a time, so exactly one
contender's UPDATE counts a row. The row lock expires after ``ttl`` so that a run killed
without releasing it cannot block the job for ever; a live run calls ``renew`` between
batches to keep it. Behind PgBouncer in transaction mode (``DB_TRANSACTION_POOLING``) a session
lock would be taken on whichever server connection the statement landed on, so the row is used
on PostgreSQL too.
"""

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from public_pool.models import JobLock

DEFAULT_TTL = timedelta(minutes=30)


def _no_renew() -> None:
    return None


@contextmanager
def job_lock(
    name: str, *, advisory_key: int, ttl: timedelta = DEFAULT_TTL
) -> Iterator[tuple[bool, Callable[[], None]]]:
    """``with job_lock(...) as (acquired, renew):`` — ``acquired`` False: another run holds it."""
    if connection.vendor == "postgresql" and not settings.DB_TRANSACTION_POOLING:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [advisory_key])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired, _no_renew
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [advisory_key])
        return

    holder = secrets.token_hex(16)
    try:
        with transaction.atomic():
            JobLock.objects.get_or_create(name=name)
    except IntegrityError:  # another run created the row first; it exists now either way
        pass

    def take() -> bool:
        now = timezone.now()
        free = Q(expires_at__isnull=True) | Q(expires_at__lt=now) | Q(holder=holder)
        return bool(JobLock.objects.filter(free, name=name).update(holder=holder, expires_at=now + ttl))

    def renew() -> None:
        take()

    acquired = take()
    try:
        yield acquired, renew
    finally:
        if acquired:
            JobLock.objects.filter(name=name, holder=holder).update(holder="", expires_at=None)
