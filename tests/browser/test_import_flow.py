"""An admin imports a GBK CSV with a 联系人 column in a real browser: checks the columns, changes
one, starts, watches the progress bar (htmx polling) reach 100 % while a real Celery worker runs
the import, and downloads the report. Screenshots of the three pages at 1366x900 and 390x844,
in English and Chinese, go to test-artifacts/."""

import csv
import io
import re

import pytest
from playwright.sync_api import expect

from crm_site.celery import app as celery_app
from customers.models import Contact, Customer
from public_pool.models import ImportBatch, ImportStatus
from tests.factories import PoolFactory
from tests.public_pool.test_import_worker import media, workers  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = [(1366, 900), (390, 844)]


def _reset_router() -> None:
    """Rebuild the app's task router from ``task_routes`` (Celery caches it on first use)."""
    celery_app.amqp.flush_routes()
    celery_app.amqp.__dict__.pop("router", None)


def gbk_file(tmp_path, rows: int):
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["客户名称", "手机", "联系人", "职务", "微信号"])
    writer.writerows(
        [f"杭州云帆科技{i}号公司", f"1380000{i:04d}", f"王芳{i}", "采购经理", f"wx{i}"] for i in range(rows)
    )
    path = tmp_path / "线索.csv"
    path.write_bytes(text.getvalue().encode("gbk"))
    return path


def shoot(signed_in, artifacts, url: str, name: str) -> None:
    for language in ("en", "zh-hans"):
        for width, height in SIZES:
            page = signed_in("boss", language, width, height)
            page.goto(url)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            page.screenshot(path=str(artifacts / f"import-{name}-{language}-{width}.png"), full_page=True)
            assert overflow <= 0, f"{name} {language} {width}: {overflow}px sideways"


def test_admin_maps_a_gbk_file_watches_progress_and_downloads_the_report(
    signed_in,
    artifacts,
    workers,  # noqa: F811
    admin_user,
    tmp_path,
    team,
):
    pool = PoolFactory(name="East leads")
    pool.teams.add(team)
    path = gbk_file(tmp_path, 3000)
    workers.start()
    # Route the task the page enqueues to this test's worker (a queue of its own).
    routes = celery_app.conf.task_routes
    celery_app.conf.task_routes = {"public_pool.tasks.import_customers_task": {"queue": workers.queue}}
    _reset_router()
    try:
        page = signed_in("boss", "en")
        page.goto("/pool/imports/")
        page.get_by_label("File").set_input_files(str(path))
        page.get_by_label("Pool").select_option(label="East leads")
        page.get_by_role("button", name="Upload").click()
        expect(page).to_have_url(re.compile(r"/pool/imports/\d+/mapping/$"))
        expect(page.locator("#unmapped-columns")).to_contain_text("微信号")
        expect(page.locator("#mapping-preview-rows")).to_contain_text("王芳0")
        batch = ImportBatch.objects.get()
        assert batch.mapping == ["name", "phone", "contact_name", "contact_title", ""]
        shoot(signed_in, artifacts, f"/pool/imports/{batch.pk}/mapping/", "mapping")

        page.get_by_label("微信号").select_option("note")  # htmx refreshes the preview
        expect(page.locator("#unmapped-columns")).to_contain_text(
            "Every column of the file will be imported."
        )
        page.get_by_role("button", name="Start the import").click()

        expect(page).to_have_url(re.compile(rf"/pool/imports/{batch.pk}/$"))
        expect(page.locator("#import-progress-bar")).to_have_attribute("value", "100", timeout=120_000)
        expect(page.locator("#import-progress-text")).to_contain_text("3000 of 3000 rows processed")
        expect(page.locator("#count-created")).to_have_text("3000")
        with page.expect_download() as download_info:
            page.locator("#download-report").click()
        report = download_info.value.path().read_text(encoding="utf-8-sig")
        assert report.count("\n") == 3001
        assert "杭州云帆科技0号公司" in report
        shoot(signed_in, artifacts, f"/pool/imports/{batch.pk}/", "detail")
        shoot(signed_in, artifacts, "/pool/imports/", "list")
    finally:
        celery_app.conf.task_routes = routes
        _reset_router()  # later tests in this process publish by the project's routes again

    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    assert Customer.objects.filter(pool=pool).count() == 3000
    assert Customer.objects.get(name="杭州云帆科技7号公司").note == "wx7"
    assert Contact.objects.filter(title="采购经理", is_primary=True).count() == 3000
