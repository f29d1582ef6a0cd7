"""Importing leads into a pool: encodings, xlsx, headers, duplicates, bad rows, the batch
record and its report, the page and ``POST /api/imports/``, concurrent overlapping imports."""

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import CompanySize, Customer, Industry, Source
from public_pool import exceptions
from public_pool.models import ImportBatch, ImportStatus, PoolEvent, PoolEventKind
from public_pool.services import imports
from tests.factories import CustomerFactory

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.django_db

HEADER = ["name", "phone", "email", "industry", "size", "region", "source", "note"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_bytes(rows, *, encoding="utf-8", header=HEADER):
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows, *, header=HEADER):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run_import(actor, pool, content, file_name="leads.csv"):
    return imports.import_customers(
        actor=actor, pool_id=pool.pk, file=io.BytesIO(content), file_name=file_name
    )


def report_rows(batch):
    with batch.report.open("rb") as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader)
        return [(int(r[0]), r[1], r[2], r[3], r[4]) for r in reader]


def results(result):
    return [(r.row, r.result) for r in result.preview]


def counts(batch):
    return (batch.total_rows, batch.created_count, batch.duplicate_count, batch.error_count)


# --- encodings and formats --------------------------------------------------------------------


def test_utf8_csv_imports_valid_rows_into_the_pool_unowned(admin_user, pool):
    content = csv_bytes(
        [["Acme Ltd", "+86 138-0000-0001", "Info@Acme.example", "software", "small", "Hangzhou", "", "hi"]]
    )

    result = run_import(admin_user, pool, content)

    customer = Customer.objects.get(name="Acme Ltd")
    assert results(result) == [(2, "created")]
    assert result.preview[0].customer_id == customer.pk
    assert (customer.pool, customer.owner, customer.home_pool) == (pool, None, pool)
    assert customer.pooled_at is not None
    assert (customer.phone, customer.email) == ("+8613800000001", "info@acme.example")
    assert (customer.industry, customer.size, customer.source) == (
        Industry.SOFTWARE,
        CompanySize.SMALL,
        Source.IMPORT,
    )
    assert (customer.region, customer.note, customer.created_by) == ("Hangzhou", "hi", admin_user)


def test_utf8_with_bom_csv_reads_the_first_header(admin_user, pool):
    content = b"\xef\xbb\xbf" + csv_bytes([["Acme", "", "", "", "", "", "", ""]])

    result = run_import(admin_user, pool, content)

    assert results(result) == [(2, "created")]
    assert Customer.objects.filter(name="Acme").exists()


def test_gbk_csv_with_chinese_headers_and_labels(admin_user, pool):
    content = (FIXTURES / "leads_zh_gbk.csv").read_bytes()

    result = run_import(admin_user, pool, content, "客户.csv")

    assert results(result) == [(2, "created"), (3, "created"), (4, "error"), (5, "duplicate"), (6, "error")]
    yunfan = Customer.objects.get(name="杭州云帆科技有限公司")
    assert (yunfan.industry, yunfan.size, yunfan.source, yunfan.region) == (
        Industry.SOFTWARE,
        CompanySize.MEDIUM,
        Source.TRADE_SHOW,
        "浙江",
    )
    assert yunfan.phone == "057188881234"
    assert counts(result.batch) == (5, 2, 1, 2)


def test_gb18030_detection_handles_text_that_is_not_utf8(admin_user, pool):
    content = csv_bytes(
        [["北京华鑫精密仪器有限公司", "", "", "制造业", "", "北京", "官网", "备注"]],
        encoding="gb18030",
        header=["名称", "手机", "邮箱", "行业", "规模", "地区", "来源", "备注"],
    )

    run_import(admin_user, pool, content)

    customer = Customer.objects.get(name="北京华鑫精密仪器有限公司")
    assert (customer.industry, customer.source, customer.note) == (
        Industry.MANUFACTURING,
        Source.WEBSITE,
        "备注",
    )


def test_xlsx_fixture_with_numeric_phone_blank_row_and_labels(admin_user, pool):
    content = (FIXTURES / "leads_en.xlsx").read_bytes()

    result = run_import(admin_user, pool, content, "leads.xlsx")

    # Row 4 is blank: skipped, not counted, but the numbering stays the spreadsheet's.
    assert results(result) == [(2, "created"), (3, "created"), (5, "duplicate"), (6, "error")]
    harbor = Customer.objects.get(name="Harbor Logistics Ltd")
    assert (harbor.phone, harbor.industry, harbor.size, harbor.source) == (
        "13800003333",
        Industry.LOGISTICS,
        CompanySize.MEDIUM,
        Source.WEBSITE,
    )
    assert counts(result.batch) == (4, 2, 1, 1)


def test_xlsx_built_in_test_with_chinese_headers(admin_user, pool):
    content = xlsx_bytes(
        [["深圳星河传媒", "13900001111", "", "媒体", "", "广东", "转介绍", ""]],
        header=["客户名称", "电话", "邮箱", "行业", "规模", "地区", "来源", "备注"],
    )

    run_import(admin_user, pool, content, "客户.XLSX")

    customer = Customer.objects.get(name="深圳星河传媒")
    assert (customer.industry, customer.source, customer.phone) == (
        Industry.MEDIA,
        Source.REFERRAL,
        "13900001111",
    )


# --- duplicates and bad rows ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "what"),
    [
        (["ACME Limited", "", "", "", "", "", "", ""], "company name"),
        (["Other Co", "+86 (138) 0000-0009", "", "", "", "", "", ""], "phone"),
        (["Third Co", "", "SALES@ACME.EXAMPLE", "", "", "", "", ""], "e-mail"),
    ],
)
def test_row_matching_an_existing_customer_is_a_duplicate_naming_it(admin_user, pool, rep, row, what):
    existing = CustomerFactory(
        owner=rep, name="Acme Ltd", name_normalized="acme", phone="+8613800000009", email="sales@acme.example"
    )
    before = Customer.objects.count()

    result = run_import(admin_user, pool, csv_bytes([row]))

    assert Customer.objects.count() == before
    assert results(result) == [(2, "duplicate")]
    assert result.preview[0].customer_id == existing.pk
    assert result.preview[0].reason == f"Same {what} as existing customer #{existing.pk}."


def test_row_matching_an_earlier_row_is_a_duplicate_naming_that_row(admin_user, pool):
    rows = [
        ["Acme Ltd", "13800000001", "a@acme.example", "", "", "", "", ""],
        ["Beta", "138-0000-0001", "", "", "", "", "", ""],
        ["Gamma", "", "A@ACME.example", "", "", "", "", ""],
        ["acme", "", "", "", "", "", "", ""],
    ]

    result = run_import(admin_user, pool, csv_bytes(rows))

    assert results(result) == [(2, "created"), (3, "duplicate"), (4, "duplicate"), (5, "duplicate")]
    assert [r.reason for r in result.preview[1:]] == [
        "Same phone as row 2 of this file.",
        "Same e-mail as row 2 of this file.",
        "Same company name as row 2 of this file.",
    ]
    assert Customer.objects.filter(pool=pool).count() == 1


def test_duplicate_of_a_row_in_an_earlier_chunk_names_that_row(admin_user, pool, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_SIZE", 2)
    rows = [
        ["One", "", "", "", "", "", "", ""],
        ["Two", "", "", "", "", "", "", ""],
        ["one", "", "", "", "", "", "", ""],
    ]

    result = run_import(admin_user, pool, csv_bytes(rows))

    assert results(result) == [(2, "created"), (3, "created"), (4, "duplicate")]
    assert result.preview[2].reason == "Same company name as row 2 of this file."


def test_invalid_rows_are_reported_with_row_number_and_reasons_and_do_not_block_good_rows(admin_user, pool):
    rows = [
        ["", "13800000001", "", "", "", "", "", ""],
        ["Good One", "", "", "", "", "", "", ""],
        ["Bad Mail", "", "not-an-email", "", "", "", "", ""],
        ["Bad Phone", "call me", "", "", "", "", "", ""],
        ["Bad Choice", "", "", "space", "huge", "", "tv", ""],
        ["Ltd.", "", "", "", "", "", "", ""],
        ["X" * 201, "", "", "", "", "", "", ""],
        ["Good Two", "", "", "", "", "", "", ""],
    ]

    result = run_import(admin_user, pool, csv_bytes(rows))

    reasons = {r.row: r.reason for r in result.preview if r.result == "error"}
    assert set(reasons) == {2, 4, 5, 6, 7, 8}
    assert reasons[2] == "The company name is missing."
    assert reasons[4] == "The e-mail address “not-an-email” is not valid."
    assert reasons[5] == "The phone number “call me” is not valid."
    assert reasons[6] == "Unknown industry “space”. Unknown size “huge”. Unknown source “tv”."
    assert reasons[7] == "The company name has no letters or digits."
    assert reasons[8] == "company name is longer than 200 characters."
    assert set(Customer.objects.filter(pool=pool).values_list("name", flat=True)) == {"Good One", "Good Two"}
    assert counts(result.batch) == (8, 2, 0, 6)


# --- events, batch, report --------------------------------------------------------------------


def test_one_import_event_per_created_row_and_none_for_the_others(admin_user, pool, rep):
    CustomerFactory(owner=rep, name="Taken Co", name_normalized="taken")
    rows = [
        ["New A", "", "", "", "", "", "", ""],
        ["New B", "", "", "", "", "", "", ""],
        ["Taken", "", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],
    ]
    rows[3][1] = "13800000000"

    result = run_import(admin_user, pool, csv_bytes(rows))

    created_ids = {r.customer_id for r in result.preview if r.result == "created"}
    events = PoolEvent.objects.filter(kind=PoolEventKind.IMPORT)
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(created_ids)
    assert {(e.actor_id, e.to_pool_id) for e in events} == {(admin_user.pk, pool.pk)}


def test_batch_is_recorded_with_counts_and_a_downloadable_report(admin_user, pool, client):
    rows = [
        ["Alpha", "", "", "", "", "", "", ""],
        ["alpha", "", "", "", "", "", "", ""],
        ["", "", "", "", "", "", "", ""],
    ]
    rows[2][7] = "note only"

    batch = run_import(admin_user, pool, csv_bytes(rows), "alpha.csv").batch

    assert (batch.status, batch.file_name, batch.pool, batch.created_by) == (
        ImportStatus.DONE,
        "alpha.csv",
        pool,
        admin_user,
    )
    assert batch.finished_at is not None
    assert counts(batch) == (3, 1, 1, 1)
    alpha = Customer.objects.get(name="Alpha")
    assert report_rows(batch) == [
        (2, "created", "Alpha", str(alpha.pk), ""),
        (3, "duplicate", "alpha", str(alpha.pk), "Same company name as row 2 of this file."),
        (4, "error", "", "", "The company name is missing."),
    ]
    client.force_login(admin_user)
    response = client.get(reverse("pool_imports:report", args=[batch.pk]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert body.startswith(b"\xef\xbb\xbf")
    assert "attachment" in response["Content-Disposition"]


def test_report_readers_stop_at_the_last_committed_chunk(admin_user, pool, client):
    """A worker killed between writing a chunk's lines and committing it leaves them in the file
    until the next run cuts them off; the preview and the download show only committed rows."""
    batch = run_import(admin_user, pool, csv_bytes([["Alpha"] + [""] * 7, ["Beta"] + [""] * 7])).batch
    committed = batch.report.size
    assert committed == batch.report_bytes
    with open(batch.report.path, "ab") as file:
        file.write(b"4,created,Gamma,999999,\r\n")

    assert [row.name for row in imports.report_preview(batch, limit=10)] == ["Alpha", "Beta"]
    client.force_login(admin_user)
    response = client.get(reverse("pool_imports:report", args=[batch.pk]))
    body = b"".join(response.streaming_content)
    assert len(body) == committed == int(response["Content-Length"])
    assert b"Gamma" not in body
    assert body.count(b"\r\n") == 3  # header, Alpha, Beta


def test_bulk_query_count_does_not_grow_with_rows(admin_user, pool):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(n, prefix):
        rows = [[f"{prefix} {i}", "", f"{prefix}{i}@x.example", "", "", "", "", ""] for i in range(n)]
        with CaptureQueriesContext(connection) as context:
            run_import(admin_user, pool, csv_bytes(rows))
        return len(context)

    before = Customer.objects.count()
    # per chunk: lock, jit, 3 lookups, staging table, COPY, INSERT … SELECT, register (3), counts.
    assert queries(5, "small") == queries(300, "large")
    assert Customer.objects.count() - before == 305


# --- files refused as a whole -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "file_name", "message"),
    [
        (b"name\nAcme\n", "leads.txt", "Only .csv and .xlsx files can be imported"),
        (b"", "leads.csv", "The file is empty."),
        (b"\n\n", "leads.csv", "The file is empty."),
        (b"phone,email\n138,a@b.example\n", "leads.csv", "The file has no company name column"),
        (b"not a zip", "leads.xlsx", "could not be read as an .xlsx"),
        (b"name\n\x81\x30\x81", "leads.csv", "neither UTF-8 nor GB18030"),
    ],
)
def test_bad_file_is_refused_and_nothing_is_imported(admin_user, pool, content, file_name, message):
    with pytest.raises(exceptions.ImportFileInvalid) as caught:
        run_import(admin_user, pool, content, file_name)

    assert message in str(caught.value.message)
    assert Customer.objects.count() == 0
    assert ImportBatch.objects.count() == 0
    assert PoolEvent.objects.count() == 0


def test_only_admins_may_import(rep, pool):
    from crm_site.exceptions import DomainError

    with pytest.raises(DomainError) as caught:
        run_import(rep, pool, csv_bytes([["Acme", "", "", "", "", "", "", ""]]))

    assert caught.value.code == "permission_denied"
    assert Customer.objects.count() == 0


# --- page and API -----------------------------------------------------------------------------


def test_page_upload_maps_then_starts_in_the_background_and_shows_the_result(
    admin_user, pool, client, django_capture_on_commit_callbacks
):
    client.force_login(admin_user)
    upload = SimpleUploadedFile(
        "leads.csv", csv_bytes([["Acme", "", "", "", "", "", "", ""], ["", "", "", "", "", "", "", "x"]])
    )

    response = client.post(reverse("pool_imports:list"), {"file": upload, "pool": pool.pk})

    batch = ImportBatch.objects.get()
    assert response.url == reverse("pool_imports:mapping", args=[batch.pk])
    assert batch.status == ImportStatus.DRAFT
    assert not Customer.objects.exists()
    mapping = {f"column_{i}": name for i, name in enumerate(HEADER)}
    with django_capture_on_commit_callbacks() as callbacks:
        started = client.post(
            reverse("pool_imports:mapping", args=[batch.pk]), {**mapping, "action": "start"}
        )
    assert started.url == reverse("pool_imports:detail", args=[batch.pk])
    assert len(callbacks) == 1  # the Celery task, enqueued once the batch committed
    batch.refresh_from_db()
    assert batch.status == ImportStatus.QUEUED
    queued = client.get(reverse("pool_imports:detail", args=[batch.pk]))
    assert b'hx-trigger="every 2s"' in queued.content

    imports.run_import(batch_id=batch.pk)  # what the worker does

    done = client.get(reverse("pool_imports:progress", args=[batch.pk]))
    assert b"hx-trigger" not in done.content
    assert b"The company name is missing." in done.content
    assert b'value="100"' in done.content
    assert Customer.objects.filter(name="Acme", pool=pool).exists()
    history = client.get(reverse("pool_imports:list"))
    assert b"leads.csv" in history.content


def test_page_refuses_a_bad_file_and_stores_nothing(admin_user, pool, client):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("leads.txt", b"name\nAcme\n")

    response = client.post(reverse("pool_imports:list"), {"file": upload, "pool": pool.pk})

    assert response.status_code == 400
    assert b"Only .csv and .xlsx files can be imported" in response.content
    assert ImportBatch.objects.count() == 0


def test_page_will_not_start_without_a_company_name_column(admin_user, pool, client):
    client.force_login(admin_user)
    upload = SimpleUploadedFile("leads.csv", b"phone\n13800000001\n")
    client.post(reverse("pool_imports:list"), {"file": upload, "pool": pool.pk})
    batch = ImportBatch.objects.get()

    response = client.post(
        reverse("pool_imports:mapping", args=[batch.pk]), {"column_0": "phone", "action": "start"}
    )

    assert response.status_code == 400
    assert b"no company name column" in response.content
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRAFT
    assert Customer.objects.count() == 0


def test_page_is_for_admins_only(rep, client):
    client.force_login(rep)

    assert client.get(reverse("pool_imports:list")).status_code == 403


def api_client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_import_is_queued_202_then_reports_counts_rows_and_report_url(
    admin_user, pool, rep, django_capture_on_commit_callbacks
):
    CustomerFactory(owner=rep, name="Known", name_normalized="known")
    upload = SimpleUploadedFile(
        "leads.csv",
        csv_bytes(
            [
                ["Acme", "", "", "", "", "", "", ""],
                ["Known", "", "", "", "", "", "", ""],
                ["", "", "", "", "", "", "", "x"],
            ]
        ),
    )

    with django_capture_on_commit_callbacks() as callbacks:
        response = api_client(admin_user).post(
            "/api/imports/", {"file": upload, "pool": pool.pk}, format="multipart"
        )

    assert response.status_code == 202, response.content
    queued = response.json()
    assert queued["status"] == "queued"
    assert len(callbacks) == 1
    assert not Customer.objects.filter(name="Acme").exists()
    before = api_client(admin_user).get(queued["url"]).json()
    assert (before["status"], before["processed"], before["rows"], before["report_url"]) == (
        "queued",
        0,
        [],
        None,
    )

    imports.run_import(batch_id=queued["id"])

    data = api_client(admin_user).get(queued["url"]).json()
    assert data["status"] == "done"
    assert (data["total"], data["processed"], data["created"], data["duplicate"], data["error"]) == (
        3,
        3,
        1,
        1,
        1,
    )
    assert [(r["row"], r["result"]) for r in data["rows"]] == [(2, "created"), (3, "duplicate"), (4, "error")]
    assert data["rows"][2]["reason"] == "The company name is missing."
    assert data["truncated"] is False
    report = api_client(admin_user).get(data["report_url"])
    assert report.status_code == 200
    assert b"".join(report.streaming_content).decode("utf-8-sig").count("\n") == 4


def test_api_mapping_overrides_the_detected_fields(admin_user, pool):
    content = csv_bytes([["Acme", "Wang Fang", "misc"]], header=["Firma", "Person", "Stuff"])
    upload = SimpleUploadedFile("leads.csv", content)
    mapping = '{"Firma": "name", "Person": "contact_name"}'

    response = api_client(admin_user).post(
        "/api/imports/", {"file": upload, "pool": pool.pk, "mapping": mapping}, format="multipart"
    )
    assert response.status_code == 202, response.content
    imports.run_import(batch_id=response.json()["id"])

    data = api_client(admin_user).get(response.json()["url"]).json()
    assert data["unmapped"] == ["Stuff"]
    acme = Customer.objects.get(name="Acme")
    assert list(acme.contacts.values_list("name", "is_primary")) == [("Wang Fang", True)]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("not json", "Not valid JSON."),
        ('{"name": "shoe size"}', "An object of column header"),
        ('{"Nope": "name"}', "The file has no column “Nope”."),
    ],
)
def test_api_bad_mapping_is_400_and_nothing_stored(admin_user, pool, mapping, message):
    upload = SimpleUploadedFile("leads.csv", b"name,phone\nAcme,13800000001\n")

    response = api_client(admin_user).post(
        "/api/imports/", {"file": upload, "pool": pool.pk, "mapping": mapping}, format="multipart"
    )

    assert response.status_code == 400, response.content
    assert message in response.json()["fields"]["mapping"][0]
    assert ImportBatch.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "file"),
        ({"file": SimpleUploadedFile("leads.xls", b"name\nAcme\n")}, "file"),
        ({"file": SimpleUploadedFile("leads.csv", b"email\na@b.example\n")}, "file"),
    ],
)
def test_api_errors_are_400_with_the_field_and_nothing_imported(admin_user, pool, payload, field):
    response = api_client(admin_user).post("/api/imports/", {**payload, "pool": pool.pk}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert Customer.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_api_unknown_pool_is_404(admin_user):
    upload = SimpleUploadedFile("leads.csv", b"name\nAcme\n")

    response = api_client(admin_user).post(
        "/api/imports/", {"file": upload, "pool": 999999}, format="multipart"
    )

    assert response.status_code == 404
    assert Customer.objects.count() == 0


def test_api_non_admin_is_403_and_nothing_imported(rep, manager, pool):
    for user in (rep, manager):
        upload = SimpleUploadedFile("leads.csv", b"name\nAcme\n")
        response = api_client(user).post(
            "/api/imports/", {"file": upload, "pool": pool.pk}, format="multipart"
        )
        assert response.status_code == 403
        assert api_client(user).get("/api/imports/").status_code == 403
    assert Customer.objects.count() == 0
    assert ImportBatch.objects.count() == 0


def test_api_lists_started_imports_for_admins_but_not_drafts(admin_user, pool):
    run_import(admin_user, pool, csv_bytes([["Acme", "", "", "", "", "", "", ""]]))
    draft = imports.create_import(
        actor=admin_user, pool_id=pool.pk, file=io.BytesIO(b"name\nB\n"), file_name="b.csv", start=False
    )

    data = api_client(admin_user).get("/api/imports/").json()

    assert data["count"] == 1
    assert data["results"][0]["created"] == 1
    assert api_client(admin_user).get(f"/api/imports/{draft.pk}/").status_code == 404


# --- concurrency ------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_imports_at_once_create_each_company_once(admin_user, pool, monkeypatch):
    from tests.public_pool.conftest import run_at_once

    monkeypatch.setattr(imports, "CHUNK_SIZE", 25)
    rows = [[f"Overlap {i}", f"1390000{i:04d}", "", "", "", "", "", ""] for i in range(200)]
    first, second = csv_bytes(rows), csv_bytes(list(reversed(rows)))

    outcomes = run_at_once(2, lambda i: run_import(admin_user, pool, (first, second)[i]))

    assert [kind for kind, _value in outcomes] == ["ok", "ok"]
    assert Customer.objects.filter(pool=pool).count() == 200
    assert PoolEvent.objects.filter(kind=PoolEventKind.IMPORT).count() == 200
    created = sum(value.batch.created_count for _kind, value in outcomes)
    duplicates = sum(value.batch.duplicate_count for _kind, value in outcomes)
    assert (created, duplicates) == (200, 200)


@pytest.mark.parametrize("file_name", ["leads.csv", "leads.xlsx"])
def test_api_reads_uploads_spooled_to_disk(admin_user, pool, settings, file_name):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload becomes a TemporaryUploadedFile
    rows = [["Disk Co", "13800000001", "", "", "", "", "", ""]]
    content = csv_bytes(rows, encoding="gbk") if file_name.endswith(".csv") else xlsx_bytes(rows)
    upload = SimpleUploadedFile(file_name, content)

    response = api_client(admin_user).post(
        "/api/imports/", {"file": upload, "pool": pool.pk}, format="multipart"
    )
    assert response.status_code == 202, response.content
    imports.run_import(batch_id=response.json()["id"])

    assert Customer.objects.filter(name="Disk Co", pool=pool).count() == 1
