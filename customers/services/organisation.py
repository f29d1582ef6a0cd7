"""The sales organisation: people's roles and teams, teams and their managers.

Every change of a role, a team membership or a team's manager goes through :func:`save_user`,
:func:`save_team` or their delete counterparts (the Django admin is the door; there is no page
or API that changes them), which write one audit entry each (``audit``, area "User role or
team") with before and after, inside the change's transaction.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditArea
from customers.models import (
    Customer,
    Team,
    User,
)


def user_snapshot(user: User) -> dict[str, object]:
    """What the audit log keeps of a person: role (its code; the page says it in words), team, superuser."""
    return {
        "role": user.role,
        "team": user.team.name if user.team_id and user.team else None,
        "is_superuser": user.is_superuser,
    }


def team_snapshot(team: Team) -> dict[str, object]:
    return {
        "name": team.name,
        "manager": str(team.manager) if team.manager_id else None,
        "region": team.region,
    }


@transaction.atomic
def save_user(*, actor: Any, user: User) -> User:
    """Save a person as edited (a new one when ``user.pk`` is None); a new team takes their
    customers along (:func:`change_user_team`); audit role and team changes."""
    old = (
        User.objects.select_related("team").select_for_update(of=("self",)).filter(pk=user.pk).first()
        if user.pk
        else None
    )
    before = user_snapshot(old) if old is not None else None
    user.save()
    if old is not None and old.team_id != user.team_id:
        change_user_team(user=user, team_id=user.team_id)
    saved = User.objects.select_related("team").get(pk=user.pk)
    audit.record_change(
        actor=actor,
        area=AuditArea.USER,
        object_id=saved.pk,
        label=saved.get_username(),
        before=before,
        after=user_snapshot(saved),
    )
    return saved


@transaction.atomic
def delete_user(*, actor: Any, user: User) -> None:
    before = user_snapshot(user)
    object_id, label = user.pk, user.get_username()
    user.delete()
    audit.record_change(
        actor=actor, area=AuditArea.USER, object_id=object_id, label=label, before=before, after=None
    )


@transaction.atomic
def save_team(*, actor: Any, team: Team) -> Team:
    """Save a team as edited (new when ``team.pk`` is None) and audit its name, manager and region."""
    old = (
        Team.objects.select_related("manager").select_for_update(of=("self",)).filter(pk=team.pk).first()
        if team.pk
        else None
    )
    before = team_snapshot(old) if old is not None else None
    team.save()
    saved = Team.objects.select_related("manager").get(pk=team.pk)
    audit.record_change(
        actor=actor,
        area=AuditArea.USER,
        object_id=f"team-{saved.pk}",
        label=saved.name,
        before=before,
        after=team_snapshot(saved),
    )
    return saved


@transaction.atomic
def delete_team(*, actor: Any, team: Team) -> None:
    """Delete a team; its members are left without a team (each member's change is audited too)."""
    before = team_snapshot(team)
    object_id, label = f"team-{team.pk}", team.name
    for member in User.objects.select_related("team").filter(team=team):
        member.team = None
        save_user(actor=actor, user=member)
    team.delete()
    audit.record_change(
        actor=actor, area=AuditArea.USER, object_id=object_id, label=label, before=before, after=None
    )


@transaction.atomic
def change_user_team(*, user: User, team_id: int | None) -> None:
    """Move a person to another team, taking their customers along.

    ``Customer.team`` is the owner's team kept on the row (a manager's list is one index
    scan on it), so it must follow the owner: one set-based UPDATE in the same transaction.
    """
    User.objects.filter(pk=user.pk).update(team_id=team_id)
    Customer.objects.filter(owner_id=user.pk).exclude(team=team_id).update(
        # A recycle rule may name the team: the public pool re-matches flagged rows.
        team_id=team_id,
        updated_at=timezone.now(),
        recycle_policy_stale=True,
    )
    user.team_id = team_id
