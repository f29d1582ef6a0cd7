"""The embedded default (SQLite) holds a small team: races against a real server, on a file.

``make demo`` runs ``manage.py runserver`` (one thread per request) on ``db.sqlite3``. Here the
same server runs in a subprocess with no environment but ``DJANGO_SQLITE_PATH`` (a temp file
migrated once per module and copied per test), and real threads send the requests at once.
Before ``transaction_mode: IMMEDIATE`` and the busy timeout, 6 reps claiming at once got 500
"database is locked" in 8 rounds of 8. The recycle races run as real processes and threads on
the same kind of file.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPS = 6
LEADS = 10

SETUP = """
import json, os, sys, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from rest_framework.authtoken.models import Token
from customers import services as customer_services
from customers.models import Role, Team, User
from public_pool import services
from public_pool.models import RecycleRule

spec = json.loads(sys.argv[1])
admin = User.objects.create(username="admin", role=Role.ADMIN, is_superuser=True)
team = Team.objects.create(name="T")
manager = User.objects.create(username="m", role=Role.MANAGER, team=team)
team.manager = manager
team.save()
reps = [User.objects.create(username=f"rep{n}", team=team) for n in range(spec["reps"])]
pool = services.create_pool(
    actor=admin,
    data=services.PoolData(name="P", team_ids=(team.pk,), max_held_per_rep=spec.get("max_held")),
)
leads = [
    services.create_pooled_customer(
        actor=admin, pool_id=pool.pk, data=customer_services.CustomerData(name=f"Lead {n}", industry="software")
    ).pk
    for n in range(spec["leads"])
]
if spec.get("recycle"):
    # Rows, not the service: the service would enqueue a task on the filesystem broker.
    RecycleRule.objects.create(pool=pool, name="idle", no_followup_days=10, no_deal_days=None, warn_days=3)
    for n, lead in enumerate(leads):
        services.claim_customer(rep=reps[n % len(reps)], customer_id=lead)
print(json.dumps({
    "pool": pool.pk,
    "leads": leads,
    "tokens": [Token.objects.create(user=rep).key for rep in reps],
    "reps": [rep.pk for rep in reps],
}))
"""

STATE = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from django.db.models import Count
from customers.models import Customer
from public_pool.models import PoolEvent
print(json.dumps({
    "owners": {str(pk): owner for pk, owner in Customer.objects.values_list("pk", "owner_id")},
    "events": list(PoolEvent.objects.exclude(kind="create").values_list("customer_id", "kind")),
}))
"""

RECYCLE_THREADS = """
import json, os, threading, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from public_pool import services

later = timezone.now() + timedelta(days=11)
barrier = threading.Barrier(2)
results, errors = [], []

def run():
    try:
        barrier.wait()
        # Not exclusive: both runs work at once and split the batches between them.
        results.append(services.recycle_stale_customers(as_of=later, batch_size=3, exclusive=False).recycled)
    except Exception as error:
        errors.append(repr(error))
    finally:
        connection.close()

threads = [threading.Thread(target=run) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(json.dumps({"recycled": results, "errors": errors}))
"""


def embedded_env(db_file: Path, home: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "DJANGO_SQLITE_PATH": str(db_file),
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }


def run_python(script: str, env: dict[str, str], *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sqlite-template")
    db_file = folder / "template.sqlite3"
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=embedded_env(db_file, folder),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return db_file


@pytest.fixture
def sqlite_site(migrated_template, tmp_path):
    """``(env, setup)``: a fresh copy of the migrated file; ``setup(spec)`` fills it."""
    db_file = tmp_path / "crm.sqlite3"
    shutil.copyfile(migrated_template, db_file)
    env = embedded_env(db_file, tmp_path)

    def setup(**spec) -> dict:
        return run_python(SETUP, env, json.dumps(spec))

    return env, setup


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def live_server_on(tmp_path):
    """``start(env)`` → base URL of ``manage.py runserver`` (threaded, as ``make demo`` runs it)."""
    processes = []

    def start(env: dict[str, str]) -> str:
        port = free_port()
        log = (tmp_path / "server.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:  # noqa: S310
                    if answer.status == 200:
                        return base
            except OSError:
                time.sleep(0.3)
        raise AssertionError((tmp_path / "server.log").read_text()[-3000:])

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def live_server_log(env: dict[str, str]) -> str:
    return (Path(env["HOME"]) / "server.log").read_text()


def post_all_at_once(requests: list[tuple[str, str]]) -> list[tuple[int, dict]]:
    """POST every ``(url, token)`` from its own thread, released together; ``(status, body)`` each."""
    barrier = threading.Barrier(len(requests))
    answers: list[tuple[int, dict] | None] = [None] * len(requests)

    def send(index: int, url: str, token: str) -> None:
        request = urllib.request.Request(  # noqa: S310 -- our own server on 127.0.0.1
            url,
            data=b"{}",
            method="POST",
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        barrier.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
                answers[index] = (answer.status, json.loads(answer.read() or b"{}"))
        except urllib.error.HTTPError as error:
            body = error.read()
            try:
                answers[index] = (error.code, json.loads(body))
            except ValueError:
                answers[index] = (error.code, {"raw": body[:300].decode(errors="replace")})

    threads = [threading.Thread(target=send, args=(n, url, token)) for n, (url, token) in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(answer is not None for answer in answers)
    return [answer for answer in answers if answer is not None]


def test_sqlite_settings_queue_writers_instead_of_failing(sqlite_site):
    env, _setup = sqlite_site
    script = (
        "import json, django; django.setup(); from django.db import connection; "
        "from django.conf import settings; c = connection.cursor(); "
        "print(json.dumps([settings.DATABASES['default']['OPTIONS'], "
        "c.execute('PRAGMA journal_mode').fetchone()[0], c.execute('PRAGMA synchronous').fetchone()[0], "
        "c.execute('PRAGMA busy_timeout').fetchone()[0]]))"
    )

    options, journal, synchronous, busy_timeout = run_python(
        script, {**env, "DJANGO_SETTINGS_MODULE": "crm_site.settings"}
    )

    assert options["transaction_mode"] == "IMMEDIATE"
    assert (journal, synchronous, busy_timeout) == ("wal", 1, 20000)  # 1 = NORMAL


def test_six_reps_claiming_ten_leads_at_once_one_winner_each_no_5xx(sqlite_site, live_server_on):
    env, setup = sqlite_site
    data = setup(reps=REPS, leads=LEADS)
    base = live_server_on(env)
    winners, answers = {}, []

    # Round by round, as the rounds of 6: every rep clicks "Claim" on the same lead at
    # once (runserver's listen queue holds 10 connections, so not all 60 in one go).
    for lead in data["leads"]:
        round_answers = post_all_at_once(
            [(f"{base}/api/customers/{lead}/claim/", token) for token in data["tokens"]]
        )
        answers += round_answers
        won = [n for n, (status, _body) in enumerate(round_answers) if status == 200]
        assert len(won) == 1, round_answers
        winners[lead] = data["reps"][won[0]]

    assert not [a for a in answers if a[0] >= 500], answers
    assert Counter(status for status, _body in answers) == {200: LEADS, 409: LEADS * (REPS - 1)}
    assert {body["code"] for status, body in answers if status == 409} == {"already_claimed"}
    state = run_python(STATE, env)
    assert {int(pk): owner for pk, owner in state["owners"].items()} == winners
    claims = Counter(customer for customer, kind in state["events"] if kind == "claim")
    assert claims == dict.fromkeys(data["leads"], 1)
    assert "database is locked" not in live_server_log(env)


def test_the_limit_holds_when_one_rep_claims_many_at_once(sqlite_site, live_server_on):
    env, setup = sqlite_site
    data = setup(reps=2, leads=8, max_held=3)
    base = live_server_on(env)
    rep_token = data["tokens"][0]
    requests = [(f"{base}/api/customers/{lead}/claim/", rep_token) for lead in data["leads"]]

    answers = post_all_at_once(requests)

    assert not [a for a in answers if a[0] >= 500], answers
    assert Counter(status for status, _body in answers) == {200: 3, 409: 5}
    assert {body["code"] for status, body in answers if status == 409} == {"limit_reached"}
    state = run_python(STATE, env)
    held = [pk for pk, owner in state["owners"].items() if owner == data["reps"][0]]
    assert len(held) == 3
    assert Counter(kind for _customer, kind in state["events"]) == {"claim": 3}
    assert "database is locked" not in live_server_log(env)


def test_two_recycle_runs_at_once_on_sqlite_one_event_per_moved_customer(sqlite_site):
    env, setup = sqlite_site
    data = setup(reps=3, leads=LEADS, recycle=True)
    command = [sys.executable, "manage.py", "recycle_pool", "--as-of", "2999-01-01", "--batch-size", "2"]

    runs = [
        subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=180) for run in runs]

    assert [run.returncode for run in runs] == [0, 0], outputs
    state = run_python(STATE, env)
    recycled = Counter(customer for customer, kind in state["events"] if kind == "recycle")
    assert recycled == dict.fromkeys(data["leads"], 1)
    assert all(owner is None for owner in state["owners"].values())
    said = " ".join(out for out, _err in outputs)
    # Either the runs overlapped (one stood aside) or they did not (the second found nothing).
    assert f"recycled {LEADS} customers" in said
    assert "Another recycle run is in progress" in said or "recycled 0 customers" in said


def test_two_recycle_runs_sharing_the_work_on_sqlite_write_one_event_per_moved_customer(sqlite_site):
    env, setup = sqlite_site
    data = setup(reps=3, leads=LEADS, recycle=True)

    result = run_python(RECYCLE_THREADS, env)

    assert result["errors"] == []
    assert sum(result["recycled"]) == LEADS
    state = run_python(STATE, env)
    recycled = Counter(customer for customer, kind in state["events"] if kind == "recycle")
    assert recycled == dict.fromkeys(data["leads"], 1)


def test_the_sqlite_run_lock_admits_one_run_and_frees_on_exit(sqlite_site):
    env, _setup = sqlite_site
    script = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from datetime import timedelta
from public_pool.models import JobLock
from public_pool.services.run_lock import job_lock

seen = []
with job_lock("job", advisory_key=1) as (first, _renew):
    with job_lock("job", advisory_key=1) as (second, _renew2):
        seen.append([first, second])
with job_lock("job", advisory_key=1) as (again, _renew):
    seen.append(again)
# A run that died holding the lock: it frees itself once expired.
from django.utils import timezone
JobLock.objects.filter(name="job").update(holder="dead", expires_at=timezone.now() + timedelta(minutes=5))
with job_lock("job", advisory_key=1) as (while_held, _renew):
    seen.append(while_held)
JobLock.objects.filter(name="job").update(expires_at=timezone.now() - timedelta(seconds=1))
with job_lock("job", advisory_key=1) as (after_expiry, _renew):
    seen.append(after_expiry)
print(json.dumps(seen))
"""

    assert run_python(script, env) == [[True, False], True, False, True]
