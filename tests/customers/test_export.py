"""The customer list's CSV export: the list's visibility and filters, constant queries."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.models import DealStage, Level
from tests.factories import CustomerFactory, DealFactory

pytestmark = pytest.mark.django_db


def _rows(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def test_export_lists_only_what_the_user_may_see_with_the_list_filters(client, rep, other_rep):
    mine = CustomerFactory(owner=rep, name="Mine A", level=Level.A)
    CustomerFactory(owner=rep, name="Mine C", level=Level.C)
    CustomerFactory(owner=other_rep, name="Theirs A", level=Level.A)
    DealFactory(customer=mine, owner=rep, stage=DealStage.LEAD)
    client.force_login(rep)

    rows = _rows(client.get(reverse("customers:export"), {"level": Level.A}))

    assert rows[0] == [
        "Name",
        "Owner",
        "Pool",
        "Level",
        "Stage",
        "Source",
        "Region",
        "Phone",
        "Email",
        "Created",
    ]
    assert [row[0] for row in rows[1:]] == ["Mine A"]
    assert rows[1][1] == rep.get_full_name()
    assert rows[1][4] == str(DealStage.LEAD.label)


def test_export_queries_do_not_grow_with_rows(client, admin_user, rep, django_assert_num_queries):
    client.force_login(admin_user)
    CustomerFactory.create_batch(2, owner=rep)
    with CaptureQueriesContext(connection) as few:
        _rows(client.get(reverse("customers:export")))
    CustomerFactory.create_batch(20, owner=rep)
    with django_assert_num_queries(len(few.captured_queries)):
        rows = _rows(client.get(reverse("customers:export")))
    assert len(rows) == 23


def test_list_page_links_to_the_export_with_its_filters(client, rep):
    client.force_login(rep)

    page = client.get(reverse("customers:list"), {"level": Level.A})

    assert f'href="{reverse("customers:export")}?level=A"' in page.content.decode()
