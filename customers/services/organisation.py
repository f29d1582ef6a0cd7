"""The sales organisation: moving people between teams."""

from django.db import transaction
from django.utils import timezone

from customers.models import (
    Customer,
    User,
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
