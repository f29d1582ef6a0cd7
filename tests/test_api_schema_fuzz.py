"""The API answers what its schema says (API.md, "Answers"): schemathesis generates requests for
every operation of ``/api/schema/`` and sends them to the WSGI app, as a rep and as an admin.

Every answer must pass schemathesis's checks ``not_a_server_error`` (no 5xx),
``status_code_conformance`` (no status the operation does not document),
``content_type_conformance`` and ``response_schema_conformance`` (the body matches the
documented shape). Generation is derandomised (the same examples every run) and bounded, so the
whole run stays around a minute on a small machine; the examples touch every operation.

Throttles and lockouts are switched off for the run (a dummy cache; django-axes, when installed,
disabled): a fuzzer sends far more requests than a person, and a 429 would hide real answers.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from crm_site.wsgi import application
from tests.factories import CustomerFactory, PoolFactory, RecycleRuleFactory

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 6  # per operation and role: every operation is reached, the run stays near a minute


@pytest.fixture
def quiet_limits(settings):
    """No throttling or lockout during the fuzz run (see the module docstring)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    settings.AXES_ENABLED = False


@pytest.fixture
def keep_test_connection():
    """The WSGI app closes the database connection after each request (``close_old_connections``
    on ``request_finished``), which would end the test's transaction: keep it open, as Django's
    own test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(team, rep, other_rep, manager, admin_user):
    """Something to find behind every id the fuzzer may try (small ids exist)."""
    pool = PoolFactory(name="Fuzz pool")
    pool.teams.add(team)
    RecycleRuleFactory(pool=pool, no_followup_days=30)
    CustomerFactory(owner=rep, team=team, home_pool=pool)
    CustomerFactory(pooled=True, pool=pool, home_pool=pool)
    return pool


def _operations():
    """The schema as the app serves it, loaded through the WSGI app (no network)."""
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


def _fuzz(operation, headers, called):
    """Failures of one operation, as text (empty when all its examples passed); adds the
    operation to ``called`` once a request was sent."""
    failures: list[str] = []

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        called.add(operation.label)
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except BaseException as error:  # schemathesis groups its failures in one exception
            failures.append(f"{operation.label}: {str(error)[:1500]}")
            raise

    try:
        run()
    except BaseException as error:  # hypothesis re-raises the failure; report it below
        if isinstance(error, KeyboardInterrupt):
            raise
    return failures[:1]


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["rep", "admin_user"])
def test_every_operation_answers_as_documented(request, quiet_limits, keep_test_connection, world, who):
    user = request.getfixturevalue(who)
    token, _created = Token.objects.get_or_create(user=user)
    headers = {"Authorization": f"Token {token.key}"}

    operations = _operations()
    called: set[str] = set()
    failures = [failure for operation in operations for failure in _fuzz(operation, headers, called)]

    assert len(operations) >= 30
    assert called == {operation.label for operation in operations}  # every operation was tried
    assert not failures, "\n\n".join(failures)
