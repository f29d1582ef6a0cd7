"""Creating and configuring pools (admins)."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Customer, Team, User
from public_pool.exceptions import InvalidInput
from public_pool.models import MAX_EXTENSION_DAYS_CEILING, Pool
from public_pool.services._common import ensure_admin, get_pool


@dataclass(frozen=True)
class PoolData:
    """Pool settings; ``None`` limits mean "no limit"."""

    name: str
    description: str = ""
    team_ids: tuple[int, ...] = field(default_factory=tuple)
    owner_id: int | None = None
    max_held_per_rep: int | None = None
    max_claims_per_day: int | None = None
    cooldown_days: int = 0
    hide_contacts: bool = True
    max_extension_days: int = 14
    recycle_target_id: int | None = None
    is_default: bool = False


def _name_taken(name: str, pool_id: int | None) -> bool:
    """Another pool (not ``pool_id``, the one being edited) has ``name``."""
    others = Pool.objects.filter(name=name)
    if pool_id is not None:
        others = others.exclude(pk=pool_id)
    return others.exists()


def _validate(data: PoolData, pool_id: int | None) -> None:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("A pool needs a name.")
    elif _name_taken(data.name.strip(), pool_id):
        errors["name"] = _("Another pool has this name.")
    for name in ("max_held_per_rep", "max_claims_per_day"):
        value = getattr(data, name)
        if value is not None and value < 0:
            errors[name] = _("Give a number of 0 or more, or leave it empty for no limit.")
    if data.cooldown_days < 0:
        errors["cooldown_days"] = _("Give a number of 0 or more.")
    if not 1 <= data.max_extension_days <= MAX_EXTENSION_DAYS_CEILING:
        errors["max_extension_days"] = _("Give a number from 1 to %(max)d.") % {
            "max": MAX_EXTENSION_DAYS_CEILING
        }
    if len(set(data.team_ids)) != Team.objects.filter(pk__in=data.team_ids).count():
        errors["team_ids"] = _("Unknown team.")
    if data.owner_id is not None:
        owner = User.objects.filter(pk=data.owner_id).first()
        if owner is None or not (owner.is_admin or owner.is_manager):
            errors["owner_id"] = _("A pool's owner is a manager or an admin.")
    if data.recycle_target_id is not None and not Pool.objects.filter(pk=data.recycle_target_id).exists():
        errors["recycle_target_id"] = _("Unknown pool.")
    if errors:
        raise InvalidInput(errors)


def _save(pool: Pool, data: PoolData) -> Pool:
    was_default = pool.is_default
    for name in (
        "description",
        "owner_id",
        "max_held_per_rep",
        "max_claims_per_day",
        "cooldown_days",
        "hide_contacts",
        "max_extension_days",
        "recycle_target_id",
        "is_default",
    ):
        setattr(pool, name, getattr(data, name))
    pool.name = data.name.strip()
    pool.updated_at = timezone.now()
    if data.is_default:
        # One default pool: taking the flag moves it (the unique index backs this up).
        Pool.objects.filter(is_default=True).exclude(pk=pool.pk).update(is_default=False)
    try:
        with transaction.atomic():
            pool.save()
    except IntegrityError:
        raise InvalidInput({"name": _("Another pool has this name.")}) from None
    pool.teams.set(data.team_ids)
    if was_default != pool.is_default or data.is_default:
        # Customers that never were in a pool follow the default pool's rules: the recycle job
        # re-matches them (rare admin change; flagging is one UPDATE, re-matching is batched).
        Customer.objects.filter(home_pool__isnull=True, owner__isnull=False).update(recycle_policy_stale=True)
    return pool


@transaction.atomic
def create_pool(*, actor: User, data: PoolData) -> Pool:
    ensure_admin(actor)
    _validate(data, None)
    return _save(Pool(), data)


@transaction.atomic
def update_pool(*, actor: User, pool_id: int, data: PoolData) -> Pool:
    """Change a pool's settings. New limits apply to the next claim; nobody loses customers."""
    ensure_admin(actor)
    pool = Pool.objects.select_for_update().get(pk=get_pool(pool_id).pk)
    _validate(data, pool.pk)
    return _save(pool, data)
