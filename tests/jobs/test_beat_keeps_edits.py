"""Beat starting again must not undo what an admin changed on the jobs page."""

import uuid

import pytest
from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from crm_site.beat import LockedDatabaseScheduler
from crm_site.celery import app

# The scheduler commits and closes connections as beat does: it needs real transactions.
pytestmark = pytest.mark.django_db(transaction=True)

RECYCLE = "public_pool.recycle"


def _start_and_stop_beat(monkeypatch) -> None:
    monkeypatch.setenv("CRM_BEAT_LOCK_KEY", f"crm:beat-lock-test-{uuid.uuid4().hex[:8]}")
    scheduler = LockedDatabaseScheduler(app=app)
    scheduler.close()


def test_a_restarted_beat_keeps_an_edited_schedule_and_a_disabled_job(monkeypatch):
    _start_and_stop_beat(monkeypatch)  # first start: every job gets its row from the settings
    assert set(PeriodicTask.objects.values_list("name", flat=True)) >= set(settings.CELERY_BEAT_SCHEDULE)
    task = PeriodicTask.objects.get(name=RECYCLE)
    edited, _ = CrontabSchedule.objects.get_or_create(minute="7", hour="*/2", timezone=settings.TIME_ZONE)
    task.interval = None
    task.crontab = edited
    task.enabled = False
    task.save()
    digest = next(name for name in settings.CELERY_BEAT_SCHEDULE if name != RECYCLE)
    PeriodicTask.objects.filter(name=digest).delete()

    _start_and_stop_beat(monkeypatch)

    task.refresh_from_db()
    assert task.crontab_id == edited.pk
    assert task.interval_id is None
    assert task.enabled is False
    assert PeriodicTask.objects.filter(name=digest).exists()  # a missing job is installed again
