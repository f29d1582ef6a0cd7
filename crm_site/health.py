"""Liveness and readiness for load balancers, container health checks and uptime probes.

``GET /healthz`` answers ``{"status": "ok"}`` (200) when the database answers a query, or
``{"status": "unavailable", "checks": {"database": "error"}}`` (503) when it does not. It needs
no login and says nothing about the failure beyond which check failed: details go to the log.

Probes usually come by IP address (``Host: 10.0.3.7:8000``), which ``ALLOWED_HOSTS`` rightly
rejects for every other page. ``HealthCheckMiddleware`` therefore answers ``/healthz`` before
any middleware that validates the host; the answer contains no URL, so the host header does not
matter to it. The URL pattern in ``crm_site/urls.py`` serves the same view for set-ups that
leave the middleware out.

``GET /readyz`` is readiness: may this process take traffic (the proxy, an orchestrator's
readiness probe, a deploy script waiting for a new machine)? It answers 200 with
``{"status": "ready", "checks": {...}}`` when every check passes and 503 with
``{"status": "unavailable", "checks": {...}}`` naming each check ``ok`` or ``error``:

- ``database``: ``SELECT 1`` on ``default`` (and ``replica`` when a read replica is configured);
- ``broker``: a connection to the Celery broker opens within two seconds (imports and the
  periodic jobs need it);
- ``migrations``: Django's ``MigrationExecutor`` has nothing left to apply for this code's
  migrations — ``error`` while a deploy's ``migrate`` has not finished, so a new release's web
  processes take traffic only once their schema is there.

Liveness (``/healthz``) stays the cheap database check: a broker outage must not make an
orchestrator restart every web process. Both answer before host validation and need no login.

``python -m crm_site.health [--broker]`` runs the same database check (and optionally a broker
connection check) from a shell and exits 0 or 1: the health check of the Celery beat container,
which serves no HTTP.
"""

import logging
import os
import sys
from collections.abc import Callable

import django
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from crm_site.celery import app as celery_app

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
BROKER_TIMEOUT_SECONDS = 2


def database_is_up(alias: str = "default") -> bool:
    """True when the database answers ``SELECT 1`` on a usable connection."""
    try:
        connection = connections[alias]
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.exception("health check: database %r is not answering", alias)
        return False
    return True


def broker_is_up(timeout: int = 5) -> bool:
    """True when a connection to the Celery broker can be opened within ``timeout`` seconds."""
    try:
        with celery_app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.exception("health check: the Celery broker is not answering")
        return False
    return True


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    if database_is_up():
        return JsonResponse({"status": "ok"})
    return JsonResponse({"status": "unavailable", "checks": {"database": "error"}}, status=503)


def migrations_applied(alias: str = DEFAULT_DB_ALIAS) -> bool:
    """True when every migration of the code is recorded as applied on ``alias``."""
    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:  # any failure means "not ready"; the reason goes to the log
        logger.exception("readiness check: could not read the migration state of %r", alias)
        return False
    if plan:
        logger.warning("readiness check: %d migration(s) not applied, first %s", len(plan), plan[0][0])
    return not plan


def readiness_checks() -> dict[str, bool]:
    """Each readiness check by name, True when it passed (a failed database skips migrations)."""
    database = database_is_up()
    replica = getattr(settings, "READ_REPLICA_ALIAS", None)
    if replica:
        database = database_is_up(replica) and database
    return {
        "database": database,
        "broker": broker_is_up(timeout=BROKER_TIMEOUT_SECONDS),
        "migrations": database and migrations_applied(),
    }


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    checks = readiness_checks()
    ready = all(checks.values())
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "checks": {name: "ok" if passed else "error" for name, passed in checks.items()},
        },
        status=200 if ready else 503,
    )


class HealthCheckMiddleware:
    """Answer ``/healthz`` and ``/readyz`` before host validation, sessions or locale run (put it first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == HEALTH_PATH:
            return healthz(request)
        if request.path_info == READY_PATH:
            return readyz(request)
        return self.get_response(request)


def main(argv: list[str] | None = None) -> int:
    """Exit 0 when the database (and with ``--broker`` the Celery broker) answers, else 1."""
    args = sys.argv[1:] if argv is None else argv
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_site.settings")
    django.setup()
    healthy = database_is_up()
    if healthy and "--broker" in args:
        healthy = broker_is_up()
    print("ok" if healthy else "unavailable")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
