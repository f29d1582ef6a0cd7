"""Celery beat that is single even when started twice.

Two beats would send every periodic job twice (two recycle runs, two digests). Compose files,
orchestrators and operators start a second one by mistake (``--scale beat=2``, a re-deploy that
starts the new container before the old one has stopped), so the scheduler takes a lock before
it reads the schedule and holds it for its whole life:

- with Redis (``REDIS_URL``, production) a Redis lock (``SET key token NX PX ttl``) on the
  broker's server: it works across machines, and it expires ``CRM_BEAT_LOCK_SECONDS`` (60) after
  its holder stops renewing it, so a beat that died without releasing it (SIGKILL, the machine
  lost) is replaced within a minute. A thread of the holder renews it every third of that time,
  however long the scheduler's own work takes; a holder whose lock was lost all the same (the
  process stalled longer than the lock lives, and another beat took over) exits at its next tick
  rather than send jobs a second time;
- without Redis (the embedded default, one machine) an exclusive ``flock`` on
  ``var/celery-beat.lock``, released by the kernel when the process ends however it ends.

A second beat **waits** for the lock (a warm standby: it logs once that it is waiting, then
takes over when the first stops) rather than exiting, so ``restart: unless-stopped`` does not
turn it into a restart loop. Use it with ``--scheduler=crm_site.beat:LockedDatabaseScheduler``
(docker-compose.yml, ``make beat``, scripts/demo.sh); ``CRM_BEAT_LOCK_KEY`` names the lock
(default ``crm:celery-beat``; tests use their own).

Why not a PostgreSQL advisory lock: behind PgBouncer in transaction mode a session lock is
taken on whichever server connection the statement lands on and is not the client's; the
broker's Redis is the one service every beat reaches directly.
"""

import fcntl
import logging
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0


class BeatLock(Protocol):
    def acquire(self) -> None: ...
    def held(self) -> bool: ...
    def release(self) -> None: ...


def _lock_key() -> str:
    return os.environ.get("CRM_BEAT_LOCK_KEY", "crm:celery-beat")


def _lock_seconds() -> int:
    return int(os.environ.get("CRM_BEAT_LOCK_SECONDS", "60"))


class RedisBeatLock:
    """A lock key on Redis holding this process's random token, with an expiry renewed by the holder."""

    # Renew or release only while the key still holds our token (atomic on the server).
    _RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
    _RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"

    def __init__(self, url: str, *, key: str, seconds: int) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.key = key
        self.milliseconds = seconds * 1000
        self.token = f"{os.getpid()}-{secrets.token_hex(8)}"
        self._lost = threading.Event()
        self._stop = threading.Event()

    def acquire(self) -> None:
        waiting = False
        while not self.client.set(self.key, self.token, nx=True, px=self.milliseconds):
            if not waiting:
                logger.warning("beat: another beat holds the lock %s; waiting to take over", self.key)
                waiting = True
            time.sleep(POLL_SECONDS)
        logger.info("beat: acquired the lock %s; this beat schedules the periodic jobs", self.key)
        threading.Thread(target=self._keep, name="beat-lock", daemon=True).start()

    def _keep(self) -> None:
        """Renew every third of the lock's life until released; mark it lost if it was."""
        while not self._stop.wait(self.milliseconds / 3000):
            try:
                renewed = self.client.eval(self._RENEW, 1, self.key, self.token, self.milliseconds)
            except Exception:  # Redis unreachable for a moment: try again at the next turn
                logger.exception("beat: could not renew the lock %s", self.key)
                continue
            if not renewed:
                self._lost.set()
                return

    def held(self) -> bool:
        return not self._lost.is_set()

    def release(self) -> None:
        self._stop.set()
        self.client.eval(self._RELEASE, 1, self.key, self.token)


class FileBeatLock:
    """An exclusive ``flock`` on a file: one machine only (the embedded default)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.file = path.open("a")

    def acquire(self) -> None:
        waiting = False
        while True:
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not waiting:
                    logger.warning("beat: another beat holds the lock %s; waiting to take over", self.path)
                    waiting = True
                time.sleep(POLL_SECONDS)
        logger.info("beat: acquired the lock %s; this beat schedules the periodic jobs", self.path)

    def held(self) -> bool:
        return True  # held until the process ends

    def release(self) -> None:
        fcntl.flock(self.file, fcntl.LOCK_UN)


def beat_lock() -> BeatLock:
    """The lock for this deployment: Redis when the broker is Redis, else a file under var/."""
    url = settings.CELERY_BROKER_URL
    if url.startswith(("redis://", "rediss://")):
        return RedisBeatLock(url, key=_lock_key(), seconds=_lock_seconds())
    return FileBeatLock(Path(settings.BASE_DIR) / "var" / "celery-beat.lock")


class LockedDatabaseScheduler(DatabaseScheduler):
    """django-celery-beat's database scheduler, started only once the beat lock is held."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # ``lazy``: the instance `celery beat` makes only to print its banner, which never ticks
        # (taking the lock there would make the real scheduler wait for its own process).
        self._beat_lock: BeatLock | None = None
        if not kwargs.get("lazy"):
            # Before the parent reads (and writes) the schedule: a waiting beat touches nothing.
            self._beat_lock = beat_lock()
            self._beat_lock.acquire()
        super().__init__(*args, **kwargs)

    def update_from_dict(self, mapping: dict[str, dict[str, Any]]) -> None:
        """Install the ``CELERY_BEAT_SCHEDULE`` jobs that have no row yet; leave the others alone.

        django-celery-beat rewrites every job's row from the settings when beat starts, which
        would undo, at each restart, a schedule an admin changed on the jobs page or in the
        Django admin. The settings give the defaults; once a job's row exists, the database is
        the truth (its enabled flag and schedule are read from there on every tick).
        """
        existing = set(PeriodicTask.objects.filter(name__in=list(mapping)).values_list("name", flat=True))
        super().update_from_dict({name: entry for name, entry in mapping.items() if name not in existing})

    def tick(self, *args: Any, **kwargs: Any) -> float:
        if self._beat_lock is None or not self._beat_lock.held():
            logger.error("beat: lost the lock (another beat took over); stopping")
            raise SystemExit(1)
        return super().tick(*args, **kwargs)

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._beat_lock is not None:
                self._beat_lock.release()
