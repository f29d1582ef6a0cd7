"""The application through PgBouncer in transaction mode, as docker-compose.yml runs it.

A real ``pgbouncer`` (Debian's package; scripts/test.sh installs it) is started on a free port
in front of the test server with a pool of 3 server connections, and the test's database
connections are pointed at it with the settings docker-compose.yml sets
(``DJANGO_DB_TRANSACTION_POOLING``: ``CONN_MAX_AGE`` 0, no server-side cursors, the run lock of
the periodic jobs a row). Then 8 reps race for one lead over the REST API on real threads (more
clients than server connections: they share them transaction by transaction), 8 more race
claim-next, and the recycle job runs, twice at once. ``SHOW POOLS`` on PgBouncer's console
shows that the work went through its transaction pool. The streamed CSV exports read through a
server-side cursor inside one transaction (``crm_site/streaming.py``), not into memory.
"""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg2
import pytest
from django.db import connection, connections
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditArea
from audit.services import record_change
from crm_site.streaming import stream
from customers.models import Customer
from public_pool import services
from public_pool.models import PoolEvent, PoolEventKind
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory, UserFactory
from tests.public_pool.conftest import owned, pooled, run_at_once

POOL_SIZE = 3
CLIENTS = 8

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    if found is None:
        pytest.fail("pgbouncer is not installed: scripts/test.sh installs Debian's pgbouncer package")
    return found


@pytest.fixture
def pgbouncer(transactional_db, settings):
    """A PgBouncer in transaction mode in front of the test server; the default connection
    (and every thread's) goes through it for the test, with the production settings for it."""
    binary = _pgbouncer_binary()
    server = connection.settings_dict
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="crm-pgbouncer-"))
    user = server["USER"] or "postgres"
    (workdir / "userlist.txt").write_text(f'"{user}" "{server["PASSWORD"] or ""}"\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={server["HOST"] or "127.0.0.1"} port={server["PORT"] or 5432}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = {"plain" if server["PASSWORD"] else "trust"}
auth_file = {workdir / "userlist.txt"}
admin_users = {user}
pool_mode = transaction
default_pool_size = {POOL_SIZE}
max_client_conn = 200
server_round_robin = 1
ignore_startup_parameters = extra_float_digits,options
logfile = {workdir / "pgbouncer.log"}
pidfile = {workdir / "pgbouncer.pid"}
"""
    )
    command = [binary, str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root: drop to postgres
        owner = pwd.getpwnam("postgres")
        for path in (workdir, *workdir.iterdir()):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def log() -> str:
        path = workdir / "pgbouncer.log"
        return path.read_text() if path.exists() else ""

    try:
        for _ in range(100):
            if process.poll() is not None:
                pytest.fail(f"pgbouncer exited: {process.stdout.read() if process.stdout else ''}{log()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        saved = {key: server[key] for key in ("PORT", "CONN_MAX_AGE", "DISABLE_SERVER_SIDE_CURSORS")}
        connection.close()
        # The same dict every thread's new connection is made from (connections.settings).
        server.update(PORT=str(port), CONN_MAX_AGE=0, DISABLE_SERVER_SIDE_CURSORS=True)
        settings.DB_TRANSACTION_POOLING = True
        try:
            yield port
        finally:
            connections.close_all()
            server.update(saved)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        shutil.rmtree(workdir, ignore_errors=True)


def _pools(port: int) -> list[dict]:
    """``SHOW POOLS`` on PgBouncer's admin console."""
    admin = psycopg2.connect(
        host="127.0.0.1", port=port, dbname="pgbouncer", user=connection.settings_dict["USER"] or "postgres"
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SHOW POOLS")
            columns = [column.name for column in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    finally:
        admin.close()


def _test_database_pool(port: int) -> dict:
    (row,) = [row for row in _pools(port) if row["database"] == connection.settings_dict["NAME"]]
    return row


def test_a_claim_race_over_the_api_through_pgbouncer_has_one_winner(pgbouncer, team):
    with connection.cursor() as cursor:  # this connection really is PgBouncer's
        cursor.execute("SELECT 1")
    assert connection.settings_dict["PORT"] == str(pgbouncer)
    pool = PoolFactory(name="Through PgBouncer")
    pool.teams.add(team)
    lead = pooled(pool)
    reps = [UserFactory(team=team) for _ in range(CLIENTS)]

    def claim(i: int) -> int:
        client = APIClient()
        client.force_authenticate(reps[i])
        return client.post(f"/api/customers/{lead.pk}/claim/").status_code

    answers = run_at_once(CLIENTS, claim)

    assert [kind for kind, _ in answers] == ["ok"] * CLIENTS, answers
    assert Counter(status for _, status in answers) == {200: 1, 409: CLIENTS - 1}
    lead.refresh_from_db()
    assert lead.owner_id in {rep.pk for rep in reps}
    assert PoolEvent.objects.filter(customer=lead, kind=PoolEventKind.CLAIM).count() == 1
    stats = _test_database_pool(pgbouncer)
    assert stats["pool_mode"] == "transaction"
    assert (
        1 <= stats["sv_active"] + stats["sv_idle"] + stats["sv_used"] <= POOL_SIZE
    )  # 8 clients, ≤ 3 servers


def test_claims_through_pgbouncer_reuse_the_claim_functions_cached_plans(pgbouncer, team):
    """The claims run ``crm_claim``/``crm_claim_next`` (``public_pool.services.lean``), whose plans
    each server connection caches: more calls than PgBouncer has server connections, so every
    server connection runs each function several times, past PostgreSQL's first five custom plans."""
    pool = PoolFactory(name="Cached plans through PgBouncer")
    pool.teams.add(team)
    rep = UserFactory(team=team)
    leads = [pooled(pool) for _ in range(24)]
    client = APIClient()
    client.force_authenticate(rep)

    claimed = [client.post(f"/api/customers/{lead.pk}/claim/") for lead in leads[:12]]
    nexts = [client.post(f"/api/pools/{pool.pk}/claim-next/") for _ in range(12)]

    assert [response.status_code for response in claimed + nexts] == [200] * 24
    assert sorted(response.json()["id"] for response in claimed + nexts) == sorted(lead.pk for lead in leads)
    assert Customer.objects.filter(pk__in=[lead.pk for lead in leads], owner=rep).count() == 24
    assert PoolEvent.objects.filter(customer__in=leads, kind=PoolEventKind.CLAIM).count() == 24
    assert client.post(f"/api/pools/{pool.pk}/claim-next/").json()["code"] == "pool_empty"


def test_claim_next_race_through_pgbouncer_gives_each_lead_once(pgbouncer, team):
    pool = PoolFactory(name="Claim next through PgBouncer")
    pool.teams.add(team)
    leads = {pooled(pool).pk for _ in range(5)}
    reps = [UserFactory(team=team) for _ in range(CLIENTS)]

    def claim_next(i: int) -> int | None:
        client = APIClient()
        client.force_authenticate(reps[i])
        response = client.post(f"/api/pools/{pool.pk}/claim-next/")
        return response.json()["id"] if response.status_code == 200 else None

    answers = run_at_once(CLIENTS, claim_next)

    won = [value for kind, value in answers if kind == "ok" and value is not None]
    assert sorted(won) == sorted(leads)  # every lead once, nobody got one twice
    assert not Customer.objects.filter(pk__in=leads, owner__isnull=True).exists()
    assert PoolEvent.objects.filter(customer_id__in=leads, kind=PoolEventKind.CLAIM).count() == 5


def test_the_recycle_job_runs_through_pgbouncer_once_when_started_twice(pgbouncer, team):
    pool = PoolFactory(name="Recycle through PgBouncer")
    pool.teams.add(team)
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    stale = {owned(rep, pool, claimed_days_ago=20).pk for _ in range(6)}
    fresh = owned(rep, pool, claimed_days_ago=2)

    answers = run_at_once(2, lambda i: services.recycle_stale_customers(batch_size=2))

    assert [kind for kind, _ in answers] == ["ok", "ok"], answers
    results = [value for _, value in answers]
    # The run lock is a row behind transaction pooling: one run recycles, the other skips (or,
    # if it started after the first finished, finds nothing left).
    assert sum(result.recycled for result in results) == 6
    assert set(Customer.objects.filter(pool=pool).values_list("pk", flat=True)) == stale
    events = PoolEvent.objects.filter(kind=PoolEventKind.RECYCLE)
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(stale)  # each once
    fresh.refresh_from_db()
    assert fresh.owner == rep
    assert _test_database_pool(pgbouncer)["pool_mode"] == "transaction"


def _open_cursors() -> int:
    """Server-side cursors of the server connection this statement lands on (``pg_cursors``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        return cursor.fetchone()[0]


def test_a_streamed_read_keeps_its_rows_on_the_server_behind_pgbouncer(pgbouncer, rep):
    CustomerFactory.create_batch(25, owner=rep)
    ids = Customer.objects.order_by("pk").values_list("pk", flat=True)
    expected = list(ids)

    # Why stream() exists: with server-side cursors off, .iterator() has no cursor on the
    # server; the whole result already sits in the client after the first row.
    plain = ids.iterator(chunk_size=10)
    assert next(plain) == expected[0]
    assert _open_cursors() == 0
    list(plain)

    rows = stream(ids, chunk_size=10)
    first = next(rows)
    assert connection.in_atomic_block
    assert _open_cursors() == 1  # the read's own transaction, so the same server connection
    with connection.cursor() as cursor:
        cursor.execute("SHOW cursor_tuple_fraction")  # planned for every row, not the first 10 %
        assert cursor.fetchone()[0] == "1"
    assert [first, *rows] == expected
    assert not connection.in_atomic_block

    # A download the browser drops half-way: the transaction ends with it, cursor and all.
    rows = stream(ids, chunk_size=10)
    next(rows)
    rows.close()
    assert not connection.in_atomic_block
    assert _open_cursors() == 0


def test_the_csv_exports_stream_through_pgbouncer(pgbouncer, client, team, rep, admin_user):
    pool = PoolFactory(name="Exported pool")
    pool.teams.add(team)
    CustomerFactory.create_batch(30, owner=rep)
    for _ in range(3):
        services.claim_customer(rep=rep, customer_id=pooled(pool).pk)
    record_change(
        actor=admin_user, area=AuditArea.POOL, object_id=pool.pk, label=pool.name, before={"name": "Old"},
        after={"name": pool.name},
    )  # fmt: skip
    client.force_login(admin_user)

    def lines(url: str) -> list[str]:
        response = client.get(url)
        assert response.status_code == 200
        return b"".join(response.streaming_content).decode("utf-8-sig").splitlines()

    assert len(lines(reverse("customers:export"))) == 1 + 33
    assert len(lines(reverse("pool_manage:events_csv"))) == 1 + 3
    assert len(lines(reverse("audit:csv"))) == 1 + 1
    assert not connection.in_atomic_block
