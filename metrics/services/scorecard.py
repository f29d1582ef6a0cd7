"""Scorecard settings: weights and cap (``update_scorecard``) and KPI targets
(``set_kpi_targets``), admins only; reading them and the scorecard itself is
``metrics.selectors.scorecard``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit import services as audit
from audit.models import AuditArea
from customers.models import Team, User
from metrics import kpis
from metrics.exceptions import ScorecardInvalid, ScorecardNotAllowed
from metrics.models import KpiTarget, ScorecardSettings, ScorecardWeight
from metrics.selectors.scorecard import (
    HUNDRED,
    POINT_PLACES,
    RATIO_PLACES,
    ScorecardConfig,
    TargetScope,
    current_config,
    is_quarter_start,
    quarter_label,
    quarter_of,
    stored_targets,
)


def _lock_settings() -> ScorecardSettings:
    ScorecardSettings.objects.get_or_create(pk=1)
    return ScorecardSettings.objects.select_for_update().get(pk=1)


def _ensure_admin(actor: User) -> None:
    if not actor.is_admin:
        raise ScorecardNotAllowed(_("Only admins may change scorecard settings and targets."))


def _as_decimal(value: Decimal | int | str) -> Decimal | None:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


@transaction.atomic
def update_scorecard(*, actor: User, weights: dict[str, Decimal | None], cap: Decimal) -> ScorecardConfig:
    """Replace the chosen KPIs and their weights, and set the cap; admins only.

    ``weights`` maps KPI codes to a weight in percent, None or 0 meaning "not on the scorecard".
    Refused, with nothing saved, unless each weight is within 0–100 with at most two decimals,
    the weights sum to exactly 100, every code is a registered KPI and the cap is at least 100 %.
    """
    _ensure_admin(actor)
    registry = kpis.load()
    errors: dict[str, str] = {}
    chosen: dict[str, Decimal] = {}
    for code, raw in weights.items():
        if raw is None:
            continue
        weight = _as_decimal(raw)
        if weight is None or weight < 0 or weight > HUNDRED or weight != weight.quantize(POINT_PLACES):
            errors[code] = str(_("A weight is a percentage from 0 to 100 with at most two decimals."))
            continue
        if weight == 0:
            continue
        if code not in registry:
            errors[code] = str(_("“%(code)s” is not a KPI.") % {"code": code})
            continue
        chosen[code] = weight
    total = sum(chosen.values(), Decimal(0))
    if not errors and total != HUNDRED:
        errors["weights"] = str(
            _("The weights must add up to 100 %%; they add up to %(total)s %%.") % {"total": _plain(total)}
        )
    cap_value = _as_decimal(cap)
    if cap_value is None or cap_value < HUNDRED or cap_value > Decimal(1000):
        errors["cap"] = str(
            _("The cap must be between %(low)s %% and %(high)s %%.") % {"low": 100, "high": 1000}
        )
    elif cap_value != cap_value.quantize(POINT_PLACES):
        errors["cap"] = str(_("The cap has at most two decimals."))
    if errors or cap_value is None:  # a missing cap has its error
        raise ScorecardInvalid(errors)

    settings_row = _lock_settings()
    before = _scorecard_snapshot(current_config())
    settings_row.cap = cap_value
    settings_row.updated_at = timezone.now()
    settings_row.save(update_fields=["cap", "updated_at"])
    ScorecardWeight.objects.exclude(kpi__in=list(chosen)).delete()
    for code, weight in chosen.items():
        ScorecardWeight.objects.update_or_create(kpi=code, defaults={"weight": weight})
    after = current_config()
    audit.record_change(
        actor=actor,
        area=AuditArea.SCORECARD_WEIGHTS,
        object_id="scorecard",
        label=str(_("Scorecard")),
        before=before,
        after=_scorecard_snapshot(after),
    )
    return after


def _scorecard_snapshot(config: ScorecardConfig) -> dict[str, object]:
    """The audit log's view: ``weight:<kpi>`` per chosen KPI (the KPI's name on the page) and the cap."""
    snapshot: dict[str, object] = {"cap": config.cap}
    snapshot.update({f"weight:{code}": weight for code, weight in config.weights.items()})
    return snapshot


def _target_label(*, quarter: dt.date, target_scope: TargetScope) -> tuple[str, str]:
    """The audit entry's object id and label: ``2025-Q1 · East`` (team), a person, or everyone."""
    if target_scope.rep_id is not None:
        key, whom = f"rep-{target_scope.rep_id}", str(User.objects.get(pk=target_scope.rep_id))
    elif target_scope.team_id is not None:
        key, whom = f"team-{target_scope.team_id}", str(Team.objects.get(pk=target_scope.team_id))
    else:
        key, whom = "everyone", str(_("Everyone"))
    period = quarter_label(quarter_of(quarter))
    return f"{period}/{key}", f"{period} · {whom}"


def _plain(number: Decimal) -> str:
    """100.00 → "100", 99.50 → "99.5": how people write percentages."""
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@transaction.atomic
def set_kpi_targets(
    *, actor: User, quarter: dt.date, target_scope: TargetScope, targets: dict[str, Decimal | None]
) -> dict[str, Decimal]:
    """Set the given KPIs' targets for one scope and quarter (None removes a target); admins only.

    Codes not in ``targets`` keep their targets. Refused, with nothing saved, when the quarter
    does not start a quarter, a code is not a registered KPI, a target is not a positive number,
    or the rep or team does not exist. Returns the scope's stored targets afterwards.
    """
    _ensure_admin(actor)
    errors: dict[str, str] = {}
    if not is_quarter_start(quarter):
        errors["quarter"] = str(_("A quarter starts on 1 January, April, July or October."))
    if target_scope.rep_id is not None and not User.objects.filter(pk=target_scope.rep_id).exists():
        errors["rep"] = str(_("No such person."))
    if target_scope.team_id is not None and not Team.objects.filter(pk=target_scope.team_id).exists():
        errors["team"] = str(_("No such team."))
    registry = kpis.load()
    cleaned: dict[str, Decimal | None] = {}
    for code, raw in targets.items():
        if code not in registry:
            errors[code] = str(_("“%(code)s” is not a KPI.") % {"code": code})
            continue
        if raw is None:
            cleaned[code] = None
            continue
        value = _as_decimal(raw)
        if value is None or value <= 0 or value >= Decimal(10) ** 14:
            errors[code] = str(_("A target is a number greater than 0."))
        elif value != value.quantize(RATIO_PLACES):
            errors[code] = str(_("A target has at most four decimals."))
        else:
            cleaned[code] = value
    if errors:
        raise ScorecardInvalid(errors)

    _lock_settings()
    stored_before = stored_targets(target_scope=target_scope, quarter=quarter)
    KpiTarget.objects.filter(target_scope.rows(), quarter=quarter, kpi__in=list(cleaned)).delete()
    now = timezone.now()
    KpiTarget.objects.bulk_create(
        KpiTarget(
            kpi=code,
            quarter=quarter,
            rep_id=target_scope.rep_id,
            team_id=target_scope.team_id,
            target=value,
            updated_at=now,
            updated_by=actor,
        )
        for code, value in cleaned.items()
        if value is not None
    )
    stored_after = stored_targets(target_scope=target_scope, quarter=quarter)
    # One entry per save: the KPIs of this scope and quarter whose target changed
    # (``target:<kpi>``; a created or removed target reads "—" on one side).
    object_id, label = _target_label(quarter=quarter, target_scope=target_scope)
    audit.record_change(
        actor=actor,
        area=AuditArea.KPI_TARGET,
        object_id=object_id,
        label=label,
        before={f"target:{code}": stored_before.get(code) for code in cleaned},
        after={f"target:{code}": stored_after.get(code) for code in cleaned},
    )
    return stored_after
