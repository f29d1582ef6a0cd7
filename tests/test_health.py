"""``/healthz``: what load balancers and the container health checks probe."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_healthz_answers_ok_without_login_after_querying_the_database(client):
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert [query["sql"] for query in queries] == ["SELECT 1"]
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_probes_that_come_by_ip_address(client, settings):
    settings.ALLOWED_HOSTS = ["crm.example.com"]

    probe = client.get("/healthz", headers={"host": "10.0.3.7:8000"})
    page = client.get("/admin/login/", headers={"host": "10.0.3.7:8000"})

    assert probe.status_code == 200
    assert page.status_code == 400  # every other page still refuses an unknown host


@pytest.mark.django_db
def test_healthz_answers_plain_http_probes_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True

    probe = client.get("/healthz")
    page = client.get("/accounts/login/")

    assert probe.status_code == 200
    assert page.status_code == 301  # every other page goes to HTTPS


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "checks": {"database": "error"}}


@pytest.mark.django_db
def test_healthz_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def _reachable_database_url() -> str:
    """The server the tests use, with its always-present ``postgres`` database."""
    return (
        os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm").rsplit("/", 1)[0]
        + "/postgres"
    )


def _run_health_command(database_url: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
    env = {
        **extra_env,
        "PATH": os.environ["PATH"],
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "crm_site.settings",
        "DJANGO_ENV_FILE": os.devnull,
    }
    return subprocess.run(
        [sys.executable, "-m", "crm_site.health", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_health_command_exits_zero_when_the_database_answers():
    result = _run_health_command(_reachable_database_url())

    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_health_command_checks_the_broker_when_asked():
    result = _run_health_command(_reachable_database_url(), "--broker")

    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


def test_health_command_exits_one_when_the_broker_is_unreachable():
    result = _run_health_command(_reachable_database_url(), "--broker", REDIS_URL="redis://127.0.0.1:9/0")

    assert (result.returncode, result.stdout.strip()) == (1, "unavailable")


def test_health_command_exits_one_when_the_database_is_unreachable():
    # Port 9 (discard) on loopback: nothing listens, so the connection is refused at once.
    result = _run_health_command("postgres://postgres@127.0.0.1:9/crm")

    assert (result.returncode, result.stdout.strip()) == (1, "unavailable")


# --- /readyz ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_answers_ready_when_database_broker_and_migrations_are(client):
    response = client.get("/readyz", headers={"host": "10.0.3.7:8000"})  # probes come by address

    assert response.status_code == 200
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "migrations": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_migrations_while_one_is_not_applied(client):
    from django.db.migrations.executor import MigrationExecutor
    from django.db.migrations.recorder import MigrationRecorder

    # The database as it is before a deploy's migrate: the newest migration of the public pool
    # not recorded (the test's transaction puts the row back).
    executor = MigrationExecutor(connection)
    newest = max(key for key in executor.loader.graph.leaf_nodes() if key[0] == "public_pool")
    MigrationRecorder.Migration.objects.filter(app=newest[0], name=newest[1]).delete()
    fresh = MigrationExecutor(connection)
    assert fresh.migration_plan(fresh.loader.graph.leaf_nodes()) == [
        (fresh.loader.graph.nodes[newest], False)
    ]

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "ok", "migrations": "error"},
    }
    assert client.get("/healthz").status_code == 200  # liveness does not care


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_broker_when_it_does_not_answer(client, monkeypatch):
    from crm_site.celery import app as celery_app

    # A real connection attempt to a port nothing listens on.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    monkeypatch.setattr(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port}/0")

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "broker": "error", "migrations": "ok"},
    }


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_database_when_it_does_not_answer(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(connection, "ensure_connection", refuse)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error", "broker": "ok", "migrations": "error"}
