"""``make backup`` / ``make restore`` (crm_site/backup.py) with the real pg_dump and pg_restore.

A site with customers, claims, follow-ups, a won deal, rolled-up KPIs and an uploaded file is
backed up, the backup restored into a fresh database and a fresh media folder, and both sites
are asked the same questions over HTTP (a Django test client in a process of its own per
database): the customer list, the pool event log and the KPIs must answer the same.
"""

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from customers.models import FollowUpKind
from metrics.services.rollups import rollup_days
from public_pool import services
from tests.factories import CustomerFactory, DealFactory, FollowUpFactory, PoolFactory, UserFactory

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)

# What the restored site is asked, as an admin: every customer, every pool event, the KPIs.
ASK = """
import json, os, sys
import django
django.setup()
from django.test.utils import setup_test_environment
setup_test_environment()
from django.test import Client
from customers.models import User
client = Client()
client.force_login(User.objects.get(username=sys.argv[1]))
answers = {}
for path in sys.argv[2:]:
    response = client.get(path)
    answers[path] = [response.status_code, response.json()]
print(json.dumps(answers, sort_keys=True))
"""


def _url(name: str) -> str:
    server = connection.settings_dict
    credentials = server["USER"] or "postgres"
    if server["PASSWORD"]:
        credentials += f":{quote(server['PASSWORD'], safe='')}"
    return f"postgres://{credentials}@{server['HOST'] or '127.0.0.1'}:{server['PORT'] or 5432}/{name}"


def _env(database_url: str, media: Path) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": database_url,
        "DJANGO_MEDIA_ROOT": str(media),
        "DJANGO_SETTINGS_MODULE": "crm_site.settings_test",
    }


def _backup(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "crm_site.backup", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _ask(database_url: str, media: Path, username: str, paths: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", ASK, username, *paths],
        cwd=ROOT,
        env=_env(database_url, media),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def site(team, manager, admin_user, tmp_path, settings):
    """Customers, claims (pool events), follow-ups, a won deal, two rolled-up months, an uploaded file."""
    media = tmp_path / "media"
    (media / "imports").mkdir(parents=True)
    upload = media / "imports" / "leads-客户.csv"
    upload.write_bytes("客户名称,电话\n华鑫精密,13900000000\n".encode())
    settings.MEDIA_ROOT = media
    pool = PoolFactory(name="Backup pool")
    pool.teams.add(team)
    reps = [UserFactory(team=team) for _ in range(3)]
    leads = [CustomerFactory(pooled=True, pool=pool, home_pool=pool) for _ in range(6)]
    for rep, lead in zip(reps * 2, leads, strict=True):
        services.claim_customer(rep=rep, customer_id=lead.pk)
    owned = [CustomerFactory(owner=rep) for rep in reps]
    for customer in owned:
        FollowUpFactory(customer=customer, by=customer.owner, kind=FollowUpKind.CALL)
    DealFactory(customer=owned[0], won=True, amount=120_000)
    today = timezone.localdate()
    rollup_days(since=today - dt.timedelta(days=60), until=today - dt.timedelta(days=1))
    return {"media": media, "upload": upload, "pool": pool, "admin": admin_user, "today": today}


def test_a_backup_restored_into_a_fresh_database_answers_the_same(site, tmp_path):
    source_url = _url(connection.settings_dict["NAME"])
    restored_name = f"crm_restore_{uuid.uuid4().hex[:8]}"
    restored_url, restored_media = _url(restored_name), tmp_path / "restored-media"
    backup_dir = tmp_path / "backup"
    today = site["today"]
    start = (today - dt.timedelta(days=60)).isoformat()
    paths = [
        "/api/customers/?page_size=200",
        "/api/pool-events/?page_size=200",
        f"/api/metrics/kpis/?from={start}&to={today.isoformat()}&scope=company",
    ]
    try:
        made = _backup("create", "--into", str(backup_dir), env=_env(source_url, site["media"]))
        assert made.returncode == 0, made.stderr
        manifest = json.loads((backup_dir / "manifest.json").read_text())
        assert manifest["format"] == 1
        assert manifest["app_version"]
        assert dt.datetime.fromisoformat(manifest["created_at"]) <= dt.datetime.now(dt.UTC)
        assert manifest["database"]["name"] == connection.settings_dict["NAME"]
        assert manifest["migrations"]["public_pool"].startswith("00")
        for entry in manifest["files"]:
            data = (backup_dir / entry["name"]).read_bytes()
            assert entry["bytes"] == len(data)
            assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert (backup_dir / "database.dump").read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format

        restored = _backup("restore", str(backup_dir), env=_env(restored_url, restored_media))
        assert restored.returncode == 0, restored.stderr
        assert "restored the backup of" in restored.stdout

        original = _ask(source_url, site["media"], site["admin"].username, paths)
        copy = _ask(restored_url, restored_media, site["admin"].username, paths)
        assert copy == original
        assert all(status == 200 for status, _ in original.values())
        assert original[paths[0]][1]["count"] == 9  # the six leads and three owned customers
        assert original[paths[1]][1]["count"] == 6  # six claims
        kpis = original[paths[2]][1]
        assert any(figure["value"] not in (None, 0, "0", "0.00") for figure in kpis["kpis"].values()), kpis
        restored_upload = restored_media / "imports" / site["upload"].name
        assert restored_upload.read_bytes() == site["upload"].read_bytes()

        # A second restore into the now non-empty database is refused, naming it.
        again = _backup("restore", str(backup_dir), env=_env(restored_url, tmp_path / "again"))
        assert again.returncode == 1
        assert f"database '{restored_name}' already has" in again.stderr
    finally:
        _drop(restored_name)


def test_restore_refuses_a_backup_whose_file_does_not_match_its_checksum(site, tmp_path):
    source_url = _url(connection.settings_dict["NAME"])
    target_name = f"crm_restore_{uuid.uuid4().hex[:8]}"
    backup_dir = tmp_path / "backup"
    made = _backup("create", "--into", str(backup_dir), env=_env(source_url, site["media"]))
    assert made.returncode == 0, made.stderr
    dump = backup_dir / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    dump.write_bytes(bytes(data))

    try:
        refused = _backup(
            "restore", str(backup_dir), env=_env(_url(target_name), tmp_path / "restored-media")
        )

        assert refused.returncode == 1
        assert "database.dump: checksum mismatch" in refused.stderr
        with connection.cursor() as cursor:  # nothing was touched: the database was never created
            cursor.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [target_name])
            assert cursor.fetchone()[0] == 0
        assert not (tmp_path / "restored-media").exists()
    finally:
        _drop(target_name)
