"""Named actors shared by every test: a team with a manager and two reps, a second team, an admin."""

import pytest

from customers.models import Role
from tests.factories import TeamFactory, UserFactory


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
