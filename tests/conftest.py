"""Named actors shared by every test: a team with a manager and two reps, a second team, an admin."""

import pytest
from django.utils import translation
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from customers.models import Role
from tests.celery_workers import celery_workers  # noqa: F401 - the shared worker fixture
from tests.factories import TeamFactory, UserFactory


@pytest.fixture(autouse=True)
def _default_language_after_each_test():
    """A request in Chinese leaves its thread in Chinese (LocaleMiddleware activates the language
    and nothing switches back): start every test in the default language."""
    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The pool log refuses TRUNCATE (public_pool migration 0003) unless the database allows it;
    the test database does, so that flushing between transactional tests still works."""
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                name = connection.ops.quote_name(connection.settings_dict["NAME"])
                cursor.execute(f"ALTER DATABASE {name} SET crm.allow_event_truncate = 'on'")
                cursor.execute("SET crm.allow_event_truncate = 'on'")


@pytest.fixture
def team(db):
    return TeamFactory(name="East")


@pytest.fixture
def manager(team):
    user = UserFactory(username="manager", role=Role.MANAGER, team=team)
    team.manager = user
    team.save(update_fields=["manager"])
    return user


@pytest.fixture
def rep(team, manager):
    return UserFactory(username="rep", team=team)


@pytest.fixture
def other_rep(team, manager):
    """A colleague in the same team."""
    return UserFactory(username="other_rep", team=team)


@pytest.fixture
def other_team_rep(db):
    other = TeamFactory(name="West")
    boss = UserFactory(username="west_manager", role=Role.MANAGER, team=other)
    other.manager = boss
    other.save(update_fields=["manager"])
    return UserFactory(username="west_rep", team=other)


@pytest.fixture
def admin_user(db):
    return UserFactory(username="boss", admin=True)


@pytest.fixture
def api_client():
    """An anonymous DRF test client."""
    return APIClient()


@pytest.fixture
def token_client(db):
    """``token_client(user)``: a DRF test client that sends ``user``'s API token, as integrations do."""

    def client_for(user):
        token, _created = Token.objects.get_or_create(user=user)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client

    return client_for
