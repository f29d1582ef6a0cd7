"""The import task on the embedded default's filesystem broker: no DATABASE_URL, no REDIS_URL,
SQLite in a temp folder, the broker's folders in a temp folder (``CELERY_BROKER_DIR``). An admin
uploads a CSV through the API (the web process publishes the task to the folders), a real
``celery worker`` started in a subprocess on the same folders takes it, and the API reports the
import ``done`` with every row created. Like tests/test_embedded_default.py, every step runs in a
subprocess with a fresh machine's environment."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROWS = 250

UPLOAD = f"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient
from customers.models import Role, User
from public_pool.models import Pool

admin = User.objects.create_user("boss", password="pw", role=Role.ADMIN)
pool = Pool.objects.create(name="East leads")
client = APIClient(HTTP_HOST="localhost")
client.force_authenticate(admin)
text = "客户名称,手机\\n" + "".join(f"Embedded {{i}} Ltd,1390000{{i:04d}}\\n" for i in range({ROWS}))
response = client.post(
    "/api/imports/",
    {{"file": SimpleUploadedFile("leads.csv", text.encode()), "pool": pool.pk}},
    format="multipart",
)
print(json.dumps({{"status": response.status_code, "body": response.json(), "broker": settings.CELERY_BROKER_URL,
                   "engine": settings.DATABASES["default"]["ENGINE"]}}))
"""

POLL = """
import json, os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from rest_framework.test import APIClient
from customers.models import Customer, User

client = APIClient(HTTP_HOST="localhost")
client.force_authenticate(User.objects.get(username="boss"))
body = client.get(f"/api/imports/{sys.argv[1]}/").json()
print(json.dumps({"status": body["status"], "processed": body.get("processed"), "customers": Customer.objects.count()}))
"""


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def test_an_import_runs_on_the_filesystem_broker_of_the_embedded_default(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SQLITE_PATH": str(tmp_path / "embedded.sqlite3"),
        "DJANGO_ENV_FILE": os.devnull,
        "CELERY_BROKER_DIR": str(tmp_path / "broker"),
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
    }
    run(env, "manage.py", "migrate", "--no-input", "-v", "0")
    uploaded = json.loads(run(env, "-c", UPLOAD).stdout.strip().splitlines()[-1])
    assert (uploaded["status"], uploaded["broker"]) == (202, "filesystem://")
    assert uploaded["engine"] == "django.db.backends.sqlite3"
    assert uploaded["body"]["status"] == "queued"
    batch_id = str(uploaded["body"]["id"])
    assert list((tmp_path / "broker" / "out").iterdir()), "the task message is in the broker's folder"

    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm_site", "worker", "--pool=solo", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        seen: list[dict] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen.append(json.loads(run(env, "-c", POLL, batch_id).stdout.strip().splitlines()[-1]))
            if seen[-1]["status"] in ("done", "failed"):
                break
            time.sleep(1)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=5)

    assert seen[-1] == {"status": "done", "processed": ROWS, "customers": ROWS}, (
        seen,
        log.read_text()[-3000:],
    )
    assert "public_pool.tasks.import_customers_task" in log.read_text()
    assert not list((tmp_path / "broker" / "out").iterdir()), "the message was consumed"
