"""The mapping step of an import: detected fields for English, Chinese and mixed headers, columns
left out, contact columns, the preview, the templates, and a failed import resumed without
repeating a row."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from customers.models import Contact, Customer
from public_pool.models import ImportBatch, ImportStatus, PoolEvent, PoolEventKind
from public_pool.services import import_files, imports

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_bytes(header, rows, encoding="utf-8"):
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def draft(actor, pool, content, file_name="leads.csv"):
    return imports.create_import(
        actor=actor, pool_id=pool.pk, file=io.BytesIO(content), file_name=file_name, start=False
    )


def test_english_headers_are_detected_whatever_their_case_and_spacing():
    header = ["Company Name", "PHONE", "e-mail", "Industry", "size", "Region", "Source", "Notes",
              "Contact Name", "Job Title", "contact_phone", "Contact E-mail"]  # fmt: skip

    assert import_files.detect_mapping(header) == list(import_files.FIELDS)


def test_chinese_headers_are_detected_including_the_contact_columns():
    header = [
        "客户名称",
        "电话",
        "邮箱",
        "行业",
        "规模",
        "地区",
        "来源",
        "备注",
        "联系人",
        "职务",
        "联系电话",
        "联系人邮箱",
    ]

    assert import_files.detect_mapping(header) == list(import_files.FIELDS)


def test_mixed_headers_unknown_and_repeated_columns_are_left_out():
    header = ["名称", "Phone", "联系人", "Title", "微信", "", "电话"]

    mapping = import_files.detect_mapping(header)

    # 微信 names no field; the blank header neither; the second phone column is not taken twice.
    assert mapping == ["name", "phone", "contact_name", "contact_title", "", "", ""]
    assert import_files.unmapped_columns(header, mapping) == ["微信", "F", "电话"]


def test_mapping_page_lists_every_column_warns_about_unmapped_ones_and_previews_rows(
    admin_user, pool, client
):
    content = csv_bytes(
        ["客户名称", "手机", "联系人", "微信号"], [["杭州云帆", "138 0000 1111", "王芳", "wf123"]], "gbk"
    )
    batch = draft(admin_user, pool, content)
    client.force_login(admin_user)

    page = client.get(reverse("pool_imports:mapping", args=[batch.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert [f'name="column_{i}"' in text for i in range(4)] == [True] * 4
    assert '<option value="contact_name" selected>' in text
    assert "1 column will not be imported:</strong>\n  微信号" in text
    assert "13800001111" in text  # the preview shows the phone as it will be stored
    assert not Customer.objects.exists()

    # The admin maps the WeChat column to the note: the htmx preview says nothing is left out.
    fields = {"column_0": "name", "column_1": "phone", "column_2": "contact_name", "column_3": "note"}
    partial = client.post(reverse("pool_imports:mapping", args=[batch.pk]), fields, HTTP_HX_REQUEST="true")

    assert "Every column of the file will be imported." in partial.content.decode()
    assert "<html" not in partial.content.decode()
    batch.refresh_from_db()
    assert batch.mapping == ["name", "phone", "contact_name", "note"]
    assert batch.status == ImportStatus.DRAFT


def test_mapping_a_field_twice_is_refused_in_place(admin_user, pool, client):
    batch = draft(admin_user, pool, csv_bytes(["name", "phone", "tel"], [["Acme", "138000001", "139000001"]]))
    client.force_login(admin_user)

    fields = {"column_0": "name", "column_1": "phone", "column_2": "phone", "action": "start"}
    response = client.post(reverse("pool_imports:mapping", args=[batch.pk]), fields)

    assert response.status_code == 400
    assert "Two columns are mapped to phone." in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DRAFT


def test_contact_columns_create_the_first_contact_of_each_created_customer(admin_user, pool):
    content = csv_bytes(
        ["客户名称", "电话", "联系人", "职务", "联系电话", "联系人邮箱"],
        [
            [
                "杭州云帆科技",
                "0571-88881234",
                "王芳",
                "采购经理",
                "138 0000 2222",
                "Wang.Fang@yunfan.example",
            ],
            ["苏州精工", "", "", "", "", ""],
            ["上海无名", "", "", "经理", "", ""],
        ],
        "gb18030",
    )

    result = imports.import_customers(
        actor=admin_user, pool_id=pool.pk, file=io.BytesIO(content), file_name="x.csv"
    )

    yunfan = Customer.objects.get(name="杭州云帆科技")
    contact = Contact.objects.get(customer=yunfan)
    assert (contact.name, contact.title, contact.phone, contact.email, contact.is_primary) == (
        "王芳",
        "采购经理",
        "13800002222",
        "wang.fang@yunfan.example",
        True,
    )
    assert Contact.objects.count() == 1  # 苏州精工 has no contact; 上海无名's row is refused
    assert [(r.row, r.result) for r in result.preview] == [(2, "created"), (3, "created"), (4, "error")]
    assert result.preview[2].reason == "The contact has a title, phone or e-mail but no name."


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_downloaded_templates_import_as_they_are(admin_user, pool, client, language, file_format):
    client.force_login(admin_user)

    response = client.get(reverse("pool_imports:template", args=[language, file_format]))

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    if file_format == "xlsx":
        header = [str(c.value) for c in openpyxl.load_workbook(io.BytesIO(content)).worksheets[0][1]]
    else:
        assert content.startswith(b"\xef\xbb\xbf")
        header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert import_files.detect_mapping(header) == list(import_files.FIELDS)
    result = imports.import_customers(
        actor=admin_user, pool_id=pool.pk, file=io.BytesIO(content), file_name=f"t.{file_format}"
    )
    assert [(r.row, r.result) for r in result.preview] == [(2, "created")]
    assert Contact.objects.filter(customer_id=result.preview[0].customer_id, is_primary=True).count() == 1


def test_a_failed_import_says_where_and_resumes_without_repeating_a_row(admin_user, pool, monkeypatch):
    monkeypatch.setattr(imports, "CHUNK_SIZE", 3)
    rows = [[f"Company {i}", f"13800000{i:03d}"] for i in range(10)]
    batch = imports.create_import(
        actor=admin_user,
        pool_id=pool.pk,
        file=io.BytesIO(csv_bytes(["name", "phone"], rows)),
        file_name="ten.csv",
        start=False,
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.QUEUED)
    real_register = imports.log_imported_customers
    calls = []

    def fail_on_third_chunk(**kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("database went away")
        return real_register(**kwargs)

    monkeypatch.setattr(imports, "log_imported_customers", fail_on_third_chunk)
    with pytest.raises(RuntimeError):
        imports.run_import(batch_id=batch.pk)

    batch.refresh_from_db()
    assert batch.status == ImportStatus.FAILED
    assert batch.error_message == "Stopped at row 8: database went away"  # rows 8-10 were chunk 3
    assert (batch.processed_rows, batch.last_row, batch.created_count) == (6, 7, 6)
    assert Customer.objects.filter(pool=pool).count() == 6
    assert [r.row for r in imports.report_preview(batch)] == [2, 3, 4, 5, 6, 7]

    monkeypatch.setattr(imports, "log_imported_customers", real_register)
    imports.resume_import(actor=admin_user, batch_id=batch.pk)
    batch = imports.run_import(batch_id=batch.pk)

    assert batch.status == ImportStatus.DONE
    assert (batch.total_rows, batch.processed_rows, batch.created_count, batch.duplicate_count) == (
        10,
        10,
        10,
        0,
    )
    assert Customer.objects.filter(pool=pool).count() == 10
    assert PoolEvent.objects.filter(kind=PoolEventKind.IMPORT).count() == 10
    assert [r.row for r in imports.report_preview(batch)] == list(range(2, 12))
    # Running it once more (a redelivered message) changes nothing.
    imports.run_import(batch_id=batch.pk)
    assert Customer.objects.filter(pool=pool).count() == 10


def test_imported_leads_are_scored_as_the_priority_formula_scores_them(admin_user, pool):
    from django.utils import timezone

    from public_pool.services import priority

    priority.update_priority_weights(
        actor=admin_user,
        pool_id=pool.pk,
        data=priority.WeightsData(industry_weight=50, size_weight=5, industry_scores={"finance": 77}),
    )
    rows = [
        ["Alpha", "finance", "large", "展会"],
        ["Beta", "software", "", ""],
        ["Gamma", "", "micro", "referral"],
    ]
    content = csv_bytes(["name", "industry", "size", "source"], rows)

    imports.import_customers(actor=admin_user, pool_id=pool.pk, file=io.BytesIO(content), file_name="s.csv")

    expected = priority.priority_expression(priority.weights_for(pool.pk), timezone.now())
    scored = (
        Customer.objects.filter(pool=pool)
        .annotate(expected=expected)
        .values_list("name", "priority_score", "expected")
    )
    assert len(scored) == 3
    assert [(name, score) for name, score, _expected in scored] == [
        (name, expected) for name, _score, expected in scored
    ]
    assert len({score for _name, score, _expected in scored}) == 3  # the weights made a difference
