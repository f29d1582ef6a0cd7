"""The periodic jobs page and a job's run history: admins only, every job in words, messages."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from jobs import registry
from jobs.models import JobRun, JobStatus, JobTrigger
from jobs.services import ensure_periodic_tasks
from public_pool.manage_forms import PAGE_SIZE

pytestmark = pytest.mark.django_db


def test_the_page_lists_every_periodic_job_with_its_schedule_in_words(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("pool_manage:schedules"))
    page = response.content.decode()
    assert [row.job.key for row in response.context["rows"]] == [job.key for job in registry.JOBS]
    assert len(registry.JOBS) == 8
    for text in (
        "Recycle stale customers to the pool",
        "every 15 minutes",
        "daily at 00:30",
        "daily at 08:10",
    ):
        assert text in page
    assert "public_pool.tasks" not in page
    assert "*/15" not in page

    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("pool_manage:schedules")).content.decode()
    assert "每 15 分钟" in page
    assert "每天 00:30" in page
    assert "立即运行" in page


def test_rep_and_manager_get_403(client, rep, manager):
    ensure_periodic_tasks()
    task = PeriodicTask.objects.get(name="metrics.rollup")
    for user in (rep, manager):
        client.force_login(user)
        for name, args in [
            ("pool_manage:schedules", []),
            ("pool_manage:schedule_runs", [task.pk]),
        ]:
            assert client.get(reverse(name, args=args)).status_code == 403
        assert client.post(reverse("pool_manage:schedule_run", args=[task.pk])).status_code == 403
        assert client.post(reverse("pool_manage:schedule_toggle", args=[task.pk])).status_code == 403
    assert not JobRun.objects.exists()


def test_disabling_a_job_says_so(client, admin_user):
    ensure_periodic_tasks()
    task = PeriodicTask.objects.get(name="metrics.warm_dashboards")
    client.force_login(admin_user)
    response = client.post(reverse("pool_manage:schedule_toggle", args=[task.pk]), follow=True)
    assert "“Cache last period&#x27;s dashboards” disabled." in response.content.decode()
    task.refresh_from_db()
    assert task.enabled is False


def test_the_history_costs_the_same_queries_whatever_the_page_holds(client, admin_user):
    ensure_periodic_tasks()
    task = PeriodicTask.objects.get(name="public_pool.recycle")
    client.force_login(admin_user)
    now = timezone.now()

    def queries_for(runs: int) -> int:
        JobRun.objects.all().delete()
        JobRun.objects.bulk_create(
            JobRun(
                job="public_pool.recycle", task_id=f"t{n}", trigger=JobTrigger.MANUAL, triggered_by=admin_user,
                status=JobStatus.SUCCEEDED, queued_at=now - timedelta(minutes=n), started_at=now,
                finished_at=now + timedelta(seconds=2), summary={"recycled": n, "skipped": False},
            )
            for n in range(runs)
        )  # fmt: skip
        with CaptureQueriesContext(connection) as context:
            response = client.get(reverse("pool_manage:schedule_runs", args=[task.pk]))
        shown = min(runs, PAGE_SIZE)
        assert response.content.decode().count('class="list-group-item" id="run-') == shown
        assert f"recycled {shown - 1}<" in response.content.decode()  # the oldest on the page
        return len(context)

    assert queries_for(3) == queries_for(PAGE_SIZE + 5)
