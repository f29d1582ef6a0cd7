"""No CSV the product writes lets a spreadsheet run a formula (OWASP "CSV injection").

Hostile text goes in everywhere a user or an uploaded file can put it — a customer named
``=1+2``, a rep called ``-Eve``, a pool renamed ``+Leads``, notes ``@SUM(A1)``, an imported
row named ``=HYPERLINK(...)`` — and then every CSV endpoint is downloaded and parsed: no cell
may start with ``= + - @``, a tab or a carriage return, and the hostile names must still be
there, neutralised with a leading apostrophe, where the file lists them. One test per
endpoint, so a failure names the file that leaks.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from crm_site.spreadsheets import FORMULA_STARTS
from customers.models import User
from public_pool import services
from public_pool.models import ImportBatch, PoolEvent, PoolEventKind
from public_pool.services import imports
from tests.factories import CustomerFactory, FollowUpFactory, PoolFactory

pytestmark = pytest.mark.django_db

HOSTILE_CUSTOMER = "=1+2"
HOSTILE_NOTE = "@SUM(A1)"
HOSTILE_IMPORT = '=HYPERLINK("http://x","y")'
HOSTILE_REP = "-Eve"
HOSTILE_POOL = "+Leads"
DASHBOARD_TABLES = [
    "kpis",
    "conversion_trend",
    "sales_trend",
    "followup_trend",
    "funnel",
    "pool",
    "pool_cohorts",
    "churn",
    "leaderboard",
    "stale_leads",
    "campaigns",
    "cac_by_channel",
]


@dataclass
class World:
    admin: User
    manager: User
    rep: User
    batch: ImportBatch


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(admin_user, manager, rep):
    rep.first_name = HOSTILE_REP
    rep.save(update_fields=["first_name"])
    pool = PoolFactory(name="East leads")
    # The audit log records the rename, with the hostile new name.
    services.update_pool(
        actor=admin_user,
        pool_id=pool.pk,
        data=services.PoolData(name=HOSTILE_POOL, cooldown_days=2, hide_contacts=False),
    )
    customer = CustomerFactory(name=HOSTILE_CUSTOMER, name_normalized="1+2", owner=rep)
    FollowUpFactory(customer=customer, note=HOSTILE_NOTE)
    PoolEvent.objects.create(
        customer=customer,
        kind=PoolEventKind.RELEASE,
        actor=rep,
        from_owner=rep,
        to_pool=pool,
        note=HOSTILE_NOTE,
        at=timezone.now(),
    )
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["name", "phone", "email", "note"])
    writer.writerow([HOSTILE_IMPORT, "", "", HOSTILE_NOTE])
    writer.writerow(["Plain Co", "not a phone", "-bad@", "+1"])
    imports.import_customers(
        actor=admin_user, pool_id=pool.pk, file=io.BytesIO(text.getvalue().encode()), file_name="leads.csv"
    )
    batch = ImportBatch.objects.get()
    return World(admin=admin_user, manager=manager, rep=rep, batch=batch)


def _body(response) -> str:
    assert response.status_code == 200, response.content[:500] if not response.streaming else ""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode("utf-8").removeprefix("\ufeff")


def _cells(response) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(_body(response))) for cell in row]


def _client_get(client, user, url, params=None):
    client.force_login(user)
    return client.get(url, params or {})


def _api_get(user, url):
    api = APIClient()
    api.force_authenticate(user)
    return api.get(url)


def _dashboard(table: str) -> Callable[[Any, World], Any]:
    return lambda c, w: _client_get(c, w.admin, "/metrics/", {"export": "csv", "table": table})


# name -> (how to download it, the hostile texts it must list)
ENDPOINTS: dict[str, tuple[Callable[[Any, World], Any], list[str]]] = {
    "customers export (admin)": (
        lambda c, w: _client_get(c, w.admin, reverse("customers:export")),
        [HOSTILE_CUSTOMER, HOSTILE_IMPORT, HOSTILE_POOL, HOSTILE_REP],
    ),
    "customers export (rep)": (
        lambda c, w: _client_get(c, w.rep, reverse("customers:export")),
        [HOSTILE_CUSTOMER, HOSTILE_REP],
    ),
    "pool events": (
        lambda c, w: _client_get(c, w.admin, reverse("pool_manage:events_csv")),
        [HOSTILE_CUSTOMER, HOSTILE_NOTE, HOSTILE_IMPORT],
    ),
    "import report": (
        lambda c, w: _client_get(c, w.admin, reverse("pool_imports:report", args=[w.batch.pk])),
        [HOSTILE_IMPORT],
    ),
    "import report API": (
        lambda c, w: _api_get(w.admin, reverse("api:import-report", args=[w.batch.pk])),
        [HOSTILE_IMPORT],
    ),
    "audit log": (
        lambda c, w: _client_get(c, w.admin, reverse("audit:csv")),
        [HOSTILE_POOL],
    ),
    "scorecard": (
        lambda c, w: _client_get(c, w.manager, reverse("scorecard:export"), {"scope": f"rep-{w.rep.pk}"}),
        [],
    ),
    "import template en": (
        lambda c, w: _client_get(c, w.admin, reverse("pool_imports:template", args=["en", "csv"])),
        [],
    ),
    "import template zh-hans": (
        lambda c, w: _client_get(c, w.admin, reverse("pool_imports:template", args=["zh-hans", "csv"])),
        [],
    ),
    **{
        f"dashboard {table}": (
            _dashboard(table),
            [],
        )
        for table in DASHBOARD_TABLES
    },
}


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_no_cell_starts_a_formula(client, world, endpoint):
    download, must_list = ENDPOINTS[endpoint]

    cells = _cells(download(client, world))

    assert cells, f"{endpoint}: empty file"
    leaking = [cell for cell in cells if cell.startswith(FORMULA_STARTS)]
    assert leaking == [], f"{endpoint}: cells a spreadsheet would run: {leaking}"
    for hostile in must_list:
        assert any(cell.startswith("'" + hostile) for cell in cells), f"{endpoint}: {hostile!r} missing"
