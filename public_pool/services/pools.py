"""Creating and configuring pools (admins)."""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditArea
from customers.models import Customer, Team, User
from public_pool.exceptions import InvalidInput
from public_pool.models import MAX_EXTENSION_DAYS_CEILING, Pool, ReleaseReason
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


def pool_snapshot(pool: Pool) -> dict[str, object]:
    """A pool's settings as the audit log shows them (names, not ids)."""
    return {
        "name": pool.name,
        "description": pool.description,
        "teams": [team.name for team in pool.teams.all()],
        "owner": str(pool.owner) if pool.owner_id else None,
        "max_held_per_rep": pool.max_held_per_rep,
        "max_claims_per_day": pool.max_claims_per_day,
        "cooldown_days": pool.cooldown_days,
        "max_extension_days": pool.max_extension_days,
        "hide_contacts": pool.hide_contacts,
        "recycle_target": pool.recycle_target.name if pool.recycle_target else None,
        "is_default": pool.is_default,
    }


@transaction.atomic
def create_pool(*, actor: User, data: PoolData) -> Pool:
    ensure_admin(actor)
    _validate(data, None)
    pool = _save(Pool(), data)
    audit.record_change(
        actor=actor,
        area=AuditArea.POOL,
        object_id=pool.pk,
        label=pool.name,
        before=None,
        after=pool_snapshot(pool),
    )
    return pool


@transaction.atomic
def update_pool(*, actor: User, pool_id: int, data: PoolData) -> Pool:
    """Change a pool's settings. New limits apply to the next claim; nobody loses customers."""
    ensure_admin(actor)
    pool = Pool.objects.select_for_update().get(pk=get_pool(pool_id).pk)
    _validate(data, pool.pk)
    before = pool_snapshot(pool)
    saved = _save(pool, data)
    saved = Pool.objects.select_related("owner", "recycle_target").get(pk=saved.pk)
    audit.record_change(
        actor=actor,
        area=AuditArea.POOL,
        object_id=saved.pk,
        label=saved.name,
        before=before,
        after=pool_snapshot(saved),
    )
    return saved


REASON_FIELDS = ("code", "label", "label_zh", "order", "requires_note", "active")


@transaction.atomic
def save_release_reason(*, actor: User, reason_id: int | None, values: dict[str, object]) -> ReleaseReason:
    """Create or change a release reason (admins; the form has checked the values) and audit it."""
    ensure_admin(actor)
    reason = ReleaseReason.objects.select_for_update().get(pk=reason_id) if reason_id else ReleaseReason()
    before = {name: getattr(reason, name) for name in REASON_FIELDS} if reason_id else None
    for name, value in values.items():
        if name in REASON_FIELDS:
            setattr(reason, name, value)
    reason.save()
    audit.record_change(
        actor=actor,
        area=AuditArea.RELEASE_REASON,
        object_id=reason.pk,
        label=reason.label,
        before=before,
        after={name: getattr(reason, name) for name in REASON_FIELDS},
    )
    return reason
