"""An admin reads the periodic jobs page in a real browser: every job with its schedule in words
(English and Chinese), then "Run now" on the recycle job adds a run that a real Celery worker
takes from queued to succeeded with its summary, while htmx refreshes the list. Screenshots of
the page and of the job's history at 1366x900 and 390x844, in both languages, go to
test-artifacts/."""

import pytest
from playwright.sync_api import expect

from jobs import registry
from jobs.models import JobRun, JobStatus, JobTrigger
from tests.factories import RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pool  # noqa: F401 - pool: a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1366, 900), (390, 844)]


def shoot(signed_in, artifacts, url: str, name: str) -> None:
    for language in ("en", "zh-hans"):
        for width, height in SIZES:
            page = signed_in("boss", language, width, height)
            page.goto(url)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            page.screenshot(path=str(artifacts / f"jobs-{name}-{language}-{width}.png"), full_page=True)
            assert overflow <= 0, f"{name} {language} {width}: {overflow}px sideways"


def test_admin_sees_every_job_in_words_and_runs_one_now(
    signed_in,
    artifacts,
    celery_workers,
    admin_user,
    team,
    pool,  # noqa: F811
):
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    for _ in range(2):
        owned(rep, pool, claimed_days_ago=20)

    page = signed_in("boss", "en")
    page.goto("/pool/manage/schedules/")
    cards = page.locator("#job-list section.card")
    expect(cards).to_have_count(len(registry.JOBS))
    recycle = page.locator("[data-job='public_pool.recycle']")
    expect(recycle.locator(".job-schedule")).to_have_text("every 15 minutes")
    expect(page.locator("[data-job='metrics.rollup'] .job-schedule")).to_have_text("daily at 00:30")
    expect(page.locator("[data-job='public_pool.warn_recycle'] .job-schedule")).to_have_text("daily at 08:00")
    expect(recycle.locator(".job-last-run")).to_have_text("not run yet")
    expect(page.locator("main")).not_to_contain_text("public_pool.tasks")

    chinese = signed_in("boss", "zh-hans")
    chinese.goto("/pool/manage/schedules/")
    expect(chinese.locator("[data-job='public_pool.recycle'] .job-schedule")).to_have_text("每 15 分钟")
    expect(chinese.locator("[data-job='metrics.rollup'] .job-schedule")).to_have_text("每天 00:30")

    try:
        with celery_workers.routing("public_pool.tasks.recycle_pool_task"):
            recycle.get_by_role("button", name="Run now").click()
            expect(page.locator(".alert")).to_contain_text("queued; its run is listed below")  # sent
        expect(recycle.locator(".job-last-run [data-status]")).to_have_attribute("data-status", "queued")
        shoot(signed_in, artifacts, "/pool/manage/schedules/", "queued")
        celery_workers.start()  # htmx polls the list while the worker runs the job
        expect(recycle.locator(".job-last-run [data-status]")).to_have_attribute(
            "data-status", "succeeded", timeout=90_000
        )
    except AssertionError:
        print(celery_workers.output())
        raise
    expect(recycle.locator(".job-last-run")).to_contain_text("recycled 2")
    run = JobRun.objects.get()
    assert (run.status, run.trigger, run.triggered_by) == (JobStatus.SUCCEEDED, JobTrigger.MANUAL, admin_user)

    recycle.get_by_role("link", name="History").click()
    expect(page.locator("#run-list li")).to_have_count(1)
    expect(page.locator("#run-list")).to_contain_text("run now by")
    shoot(signed_in, artifacts, page.url, "history")
    shoot(signed_in, artifacts, "/pool/manage/schedules/", "done")

    page.goto("/pool/manage/schedules/")
    page.locator("[data-job='metrics.warm_dashboards']").get_by_role("button", name="Disable").click()
    expect(page.locator(".alert")).to_contain_text("disabled.")
    expect(page.locator("[data-job='metrics.warm_dashboards']")).to_contain_text("disabled")
