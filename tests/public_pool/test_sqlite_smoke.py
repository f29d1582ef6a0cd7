"""The pool's services on the embedded default (SQLite), in a subprocess with no environment.

Everything else runs on PostgreSQL; the demo's web process and beat run these same services on
SQLite, where durations, GREATEST/LEAST and row locks behave differently.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
django.setup()
from datetime import timedelta
from django.core.management import call_command
from django.utils import timezone
call_command("migrate", verbosity=0)
from customers import services as customer_services
from customers.models import Customer, Role, Team, User
from public_pool import services
from public_pool.models import PoolEvent, RecycleRule

admin = User.objects.create(username="admin", role=Role.ADMIN, is_superuser=True)
team = Team.objects.create(name="T")
manager = User.objects.create(username="m", role=Role.MANAGER, team=team, email="m@example.com")
team.manager = manager
team.save()
rep = User.objects.create(username="r", team=team, email="r@example.com")
pool = services.create_pool(actor=admin, data=services.PoolData(name="P", team_ids=(team.pk,), max_held_per_rep=5))
# Rows, not the service: the service would enqueue a task on the filesystem broker.
RecycleRule.objects.create(pool=pool, name="r", no_followup_days=10, no_deal_days=30, warn_days=20)
lead = services.create_pooled_customer(
    actor=admin, pool_id=pool.pk, data=customer_services.CustomerData(name="Acme", industry="software")
)
claimed = services.claim_customer(rep=rep, customer_id=lead.pk)
due_at_claim = claimed.recycle_due_at
customer_services.log_followup(actor=rep, customer=claimed, kind="call")
claimed.refresh_from_db()
later = timezone.now() + timedelta(days=11)
result = {
    "priority": lead.priority_score,
    "due_moved": claimed.recycle_due_at > due_at_claim,
    "warned": services.warn_recycle().warned,
    "dry_run": services.recycle_stale_customers(as_of=later, dry_run=True).recycled,
    "recycled": services.recycle_stale_customers(as_of=later).recycled,
    "kinds": list(PoolEvent.objects.order_by("pk").values_list("kind", flat=True)),
    "in_pool": Customer.objects.filter(pool=pool).count(),
}
# Creating an owned customer (no advisory lock on SQLite) logs its event; a second spelling of
# the same company is a duplicate.
beta = services.create_owned_customer(actor=rep, data=customer_services.CustomerData(name="Beta Ltd"))
try:
    services.create_owned_customer(actor=rep, data=customer_services.CustomerData(name="BETA Limited"))
    result["duplicate"] = "created"
except Exception as error:
    result["duplicate"] = getattr(error, "code", repr(error))
result["beta_events"] = list(PoolEvent.objects.filter(customer=beta).values_list("kind", flat=True))
print(json.dumps(result))
"""


def test_pool_services_run_on_the_embedded_sqlite_default(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SQLITE_PATH": str(tmp_path / "pool.sqlite3"),
        "DJANGO_ENV_FILE": os.devnull,
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }

    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["priority"] > 0
    assert result["due_moved"] is True
    assert (result["warned"], result["dry_run"], result["recycled"], result["in_pool"]) == (1, 1, 1, 1)
    assert result["kinds"] == ["create", "claim", "recycle"]
    assert result["duplicate"] == "duplicate"
    assert result["beta_events"] == ["create"]
