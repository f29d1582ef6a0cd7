"""The read replica (crm_site/db_routers.py): report reads go there, claims and writes never do.

``replica`` is a second alias on the same server (settings_test: a test mirror of ``default``),
so its connection is a connection of its own, as a standby's would be: the tests capture the
statements of each connection and look at which one ran what. Transactional, because a second
connection does not see the rows of a test's open transaction.
"""

from contextlib import ExitStack
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from crm_site.db_routers import replica_alias, replica_reads
from customers.models import Customer
from public_pool.models import PoolEvent
from tests.factories import CustomerFactory, PoolFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def with_replica(settings):
    settings.READ_REPLICA_ALIAS = "replica"


class Captured:
    """The statements of each connection within the block."""

    def __init__(self) -> None:
        self.default = CaptureQueriesContext(connections["default"])
        self.replica = CaptureQueriesContext(connections["replica"])
        self._stack = ExitStack()

    def __enter__(self) -> "Captured":
        self._stack.enter_context(self.default)
        self._stack.enter_context(self.replica)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.__exit__(*exc)

    @staticmethod
    def sql(context: CaptureQueriesContext) -> list[str]:
        return [query["sql"] for query in context.captured_queries]


def _mentions(statements: list[str], table: str) -> bool:
    return any(f'"{table}"' in sql for sql in statements)


def test_dashboard_reads_its_figures_from_the_replica_and_the_user_from_the_primary(
    client, with_replica, manager, rep
):
    CustomerFactory(owner=rep)
    client.force_login(manager)

    with Captured() as captured:
        response = client.get(reverse("metrics:dashboard"))

    assert response.status_code == 200
    on_replica, on_default = Captured.sql(captured.replica), Captured.sql(captured.default)
    assert len(on_replica) > 10
    assert _mentions(on_replica, "customers_customer")
    assert _mentions(on_replica, "metrics_rollupday")
    # The primary answers the session and the signed-in user (read-your-writes: a sign-in that
    # has just happened), and no figure.
    assert _mentions(on_default, "django_session")
    assert not _mentions(on_default, "customers_customer")
    assert not any("metrics_" in sql for sql in on_default), [sql for sql in on_default if "metrics_" in sql]


def test_kpi_api_and_customer_export_read_from_the_replica(client, with_replica, manager, rep, team):
    CustomerFactory(owner=rep, name="Replica Export Ltd")
    client.force_login(manager)

    with Captured() as captured:
        kpis = client.get(f"/api/metrics/kpis/?from=2026-01-01&to=2026-01-31&scope=team&id={team.pk}")
        export = client.get(reverse("customers:export"))
        body = b"".join(export.streaming_content).decode("utf-8-sig")  # read while it streams

    assert kpis.status_code == 200
    assert export.status_code == 200
    assert "Replica Export Ltd" in body
    on_replica, on_default = Captured.sql(captured.replica), Captured.sql(captured.default)
    assert _mentions(on_replica, "customers_customer")
    assert not _mentions(on_default, "customers_customer")


def test_a_claim_never_touches_the_replica(with_replica, rep, team):
    pool = PoolFactory()
    pool.teams.add(team)
    lead = CustomerFactory(pooled=True, pool=pool, home_pool=pool)
    api = APIClient()
    api.force_authenticate(rep)

    with Captured() as captured:
        response = api.post(f"/api/customers/{lead.pk}/claim/")

    assert response.status_code == 200, response.content
    assert Captured.sql(captured.replica) == []
    # The claim's write (the function crm_claim: one UPDATE, in a CTE with the event's INSERT;
    # public_pool.services.lean) ran on the primary.
    on_default = Captured.sql(captured.default)
    assert any(sql.startswith("SELECT * FROM crm_claim(") for sql in on_default), on_default
    assert Customer.objects.get(pk=lead.pk).owner_id == rep.pk
    assert PoolEvent.objects.filter(customer=lead).count() == 1


def test_writes_inside_a_replica_block_still_go_to_the_primary(with_replica, rep):
    with Captured() as captured, replica_reads():
        customer = CustomerFactory(owner=rep)
        read_back = Customer.objects.filter(pk=customer.pk).exists()  # the replica's read

    assert read_back  # same server here; on a real standby it might lag (hence: never do this)
    assert any(sql.startswith("INSERT") for sql in Captured.sql(captured.default))
    assert not any(sql.startswith(("INSERT", "UPDATE", "DELETE")) for sql in Captured.sql(captured.replica))


def test_without_a_replica_everything_reads_from_default(client, manager, rep):
    CustomerFactory(owner=rep)
    client.force_login(manager)

    with Captured() as captured:
        response = client.get(reverse("metrics:dashboard"))

    assert replica_alias() == "default"
    assert response.status_code == 200
    assert Captured.sql(captured.replica) == []
    assert _mentions(Captured.sql(captured.default), "customers_customer")
