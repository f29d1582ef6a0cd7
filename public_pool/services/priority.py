"""Priority scores of pooled leads: the order of the pool list and of "claim next best".

The formula is on ``PriorityWeights``. Scores are computed set-based in SQL: for the
customers that just entered a pool (release, recycle, import, creation, move), for a whole
pool when its weights change, and nightly for every pool because recency decays with time.
Only pooled customers are scored; an owned customer keeps its last score, unused.
"""

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    IntegerField,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Least
from django.db.models.lookups import GreaterThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import services as audit
from audit.models import AuditArea
from customers.models import CompanySize, Customer, Deal, DealStage, FollowUp, Industry, Level, Source, User
from public_pool import tasks
from public_pool.exceptions import InvalidInput
from public_pool.models import Pool, PriorityWeights
from public_pool.services._common import ensure_admin, get_pool, without_jit

# Per-value scores (0–100) used where a pool's weights do not name a value.
DEFAULT_INDUSTRY_SCORES: dict[str, int] = {
    Industry.SOFTWARE: 90,
    Industry.FINANCE: 85,
    Industry.MANUFACTURING: 80,
    Industry.HEALTHCARE: 75,
    Industry.ENERGY: 70,
    Industry.LOGISTICS: 60,
    Industry.CONSTRUCTION: 60,
    Industry.RETAIL: 55,
    Industry.EDUCATION: 50,
    Industry.MEDIA: 50,
    Industry.OTHER: 30,
}
DEFAULT_SIZE_SCORES: dict[str, int] = {
    CompanySize.ENTERPRISE: 100,
    CompanySize.LARGE: 85,
    CompanySize.MEDIUM: 65,
    CompanySize.SMALL: 45,
    CompanySize.MICRO: 25,
}
DEFAULT_SOURCE_SCORES: dict[str, int] = {
    Source.REFERRAL: 100,
    Source.PARTNER: 85,
    Source.WEBSITE: 75,
    Source.TRADE_SHOW: 70,
    Source.ADVERTISING: 55,
    Source.SOCIAL: 50,
    Source.COLD_CALL: 35,
    Source.IMPORT: 30,
    Source.OTHER: 20,
}
DEFAULT_LEVEL_SCORES: dict[str, int] = {Level.A: 100, Level.B: 60, Level.C: 30}

# Engagement points: per earlier follow-up, per earlier deal, extra per won deal; capped at 100.
FOLLOWUP_POINTS, DEAL_POINTS, WON_POINTS = 10, 25, 35
RECENCY_STEPS = 10


def weights_for(pool_id: int) -> PriorityWeights:
    """The pool's weights, or the defaults (unsaved) when an admin never set any."""
    return PriorityWeights.objects.filter(pool_id=pool_id).first() or PriorityWeights(pool_id=pool_id)


def category_scores(defaults: dict[str, int], overrides: dict[str, int]) -> dict[str, int]:
    """Score per value: the defaults, with the pool's own scores over them."""
    return {str(k): int(v) for k, v in defaults.items()} | {str(k): int(v) for k, v in overrides.items()}


def _category_score(field: str, defaults: dict[str, int], overrides: dict[str, int]) -> Case:
    scores = category_scores(defaults, overrides)
    return Case(
        *(When(**{field: value}, then=Value(score)) for value, score in scores.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def _recency_score(horizon_days: int, now: datetime) -> Case:
    """100 for activity today, down in ten even steps to 0 at the horizon (no date arithmetic in SQL)."""
    activity = Coalesce("last_followup_at", "created_at")
    step = timedelta(days=horizon_days) / RECENCY_STEPS
    return Case(
        *(
            When(
                GreaterThanOrEqual(activity, Value(now - step * (i + 1))),
                then=Value(100 - i * (100 // RECENCY_STEPS)),
            )
            for i in range(RECENCY_STEPS)
        ),
        default=Value(0),
        output_field=IntegerField(),
    )


def _count(model: type[Model], **filters: object) -> Coalesce:
    rows = (
        model._default_manager.filter(customer_id=OuterRef("pk"), **filters).order_by().values("customer_id")
    )
    # COUNT(*), not COUNT(id): the subquery then reads only ``customer_id`` (and the stage), so
    # PostgreSQL answers it from the index alone instead of visiting every follow-up's row —
    # five random heap reads per customer the recycle job scores (bench/README.md).
    return Coalesce(Subquery(rows.annotate(n=Count("*")).values("n")[:1]), Value(0))


def _engagement_score() -> Least:
    points = (
        _count(FollowUp) * Value(FOLLOWUP_POINTS)
        + _count(Deal) * Value(DEAL_POINTS)
        + _count(Deal, stage=DealStage.WON) * Value(WON_POINTS)
    )
    return Least(points, Value(100), output_field=IntegerField())


def new_customer_scorer(weights: PriorityWeights) -> Callable[[str, str, str, str], int]:
    """``score(industry, size, source, level)``: what :func:`priority_expression` gives a customer
    created now, with no follow-up or deal yet (recency 100, engagement 0). Computed in Python,
    the score tables built once, so the importer writes the score with the row instead of
    scoring the row again in a second statement."""
    tables = [
        (weights.industry_weight, category_scores(DEFAULT_INDUSTRY_SCORES, weights.industry_scores)),
        (weights.size_weight, category_scores(DEFAULT_SIZE_SCORES, weights.size_scores)),
        (weights.source_weight, category_scores(DEFAULT_SOURCE_SCORES, weights.source_scores)),
        (weights.level_weight, category_scores(DEFAULT_LEVEL_SCORES, weights.level_scores)),
    ]
    total = sum(weight for weight, _table in tables) + weights.recency_weight + weights.engagement_weight
    recency = weights.recency_weight * 100

    def score(industry: str, size: str, source: str, level: str) -> int:
        if total == 0:
            return 0
        weighted = recency
        for (weight, table), value in zip(tables, (industry, size, source, level), strict=True):
            weighted += weight * table.get(value, 0)
        return weighted * 10 // total

    return score


def priority_expression(weights: PriorityWeights, now: datetime) -> ExpressionWrapper | Value:
    """The 0–1000 score of a customer row under ``weights`` at ``now``, as a SQL expression."""
    terms = [
        (
            weights.industry_weight,
            _category_score("industry", DEFAULT_INDUSTRY_SCORES, weights.industry_scores),
        ),
        (weights.size_weight, _category_score("size", DEFAULT_SIZE_SCORES, weights.size_scores)),
        (weights.source_weight, _category_score("source", DEFAULT_SOURCE_SCORES, weights.source_scores)),
        (weights.level_weight, _category_score("level", DEFAULT_LEVEL_SCORES, weights.level_scores)),
        (weights.recency_weight, _recency_score(weights.recency_horizon_days, now)),
        (weights.engagement_weight, _engagement_score()),
    ]
    total = sum(weight for weight, _term in terms)
    if total == 0:
        return Value(0, output_field=IntegerField())
    weighted = sum((term * Value(weight) for weight, term in terms if weight), Value(0))
    return ExpressionWrapper(weighted * Value(10) / Value(total), output_field=IntegerField())


def recompute_priorities(*, customers: QuerySet[Customer], now: datetime | None = None) -> int:
    """Score the pooled ``customers`` with their pool's weights: one UPDATE per pool involved."""
    now = now or timezone.now()
    pooled = customers.filter(pool__isnull=False)
    written = 0
    for pool_id in pooled.order_by().values_list("pool_id", flat=True).distinct():
        expression = priority_expression(weights_for(pool_id), now)
        written += pooled.filter(pool_id=pool_id).update(priority_score=expression)
    return written


def recompute_pool_priorities(*, pool_id: int | None = None, batch_size: int = 5000) -> int:
    """Re-score every lead of one pool (or all pools) in id-ordered batches, each its own transaction.

    Idempotent; safe to run while reps claim (a batch touches only rows still pooled).
    """
    pool_ids = [pool_id] if pool_id is not None else list(Pool.objects.values_list("pk", flat=True))
    now = timezone.now()
    total = 0
    for pid in pool_ids:
        last_id = 0
        while True:
            ids = list(
                Customer.objects.filter(pool_id=pid, pk__gt=last_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            with transaction.atomic():
                without_jit()
                total += recompute_priorities(customers=Customer.objects.filter(pk__in=ids), now=now)
            last_id = ids[-1]
    return total


@dataclass(frozen=True)
class WeightsData:
    industry_weight: int = 20
    size_weight: int = 20
    source_weight: int = 15
    level_weight: int = 10
    recency_weight: int = 20
    engagement_weight: int = 15
    industry_scores: dict[str, int] | None = None
    size_scores: dict[str, int] | None = None
    source_scores: dict[str, int] | None = None
    level_scores: dict[str, int] | None = None
    recency_horizon_days: int = 180


def _validate_weights(data: WeightsData) -> None:
    errors: dict[str, str] = {}
    for f in fields(WeightsData):
        value = getattr(data, f.name)
        if f.name.endswith("_weight") and not 0 <= value <= 100:
            errors[f.name] = _("A weight is a number from 0 to 100.")
        if f.name.endswith("_scores") and value is not None:
            known = {
                "industry_scores": Industry.values,
                "size_scores": CompanySize.values,
                "source_scores": Source.values,
                "level_scores": Level.values,
            }[f.name]
            if any(k not in known or not isinstance(v, int) or not 0 <= v <= 100 for k, v in value.items()):
                errors[f.name] = _("Scores are numbers from 0 to 100 for known values.")
    if not 1 <= data.recency_horizon_days <= 3650:
        errors["recency_horizon_days"] = _("Give a number of days from 1 to 3650.")
    if errors:
        raise InvalidInput(errors)


@transaction.atomic
def update_priority_weights(*, actor: User, pool_id: int, data: WeightsData) -> PriorityWeights:
    """Set a pool's weights (admins) and re-score its leads after commit, in the background."""
    ensure_admin(actor)
    pool = get_pool(pool_id)
    _validate_weights(data)
    values = {f.name: getattr(data, f.name) for f in fields(WeightsData)}
    for name in ("industry_scores", "size_scores", "source_scores", "level_scores"):
        values[name] = values[name] or {}
    current = PriorityWeights.objects.select_for_update().filter(pool=pool).first()
    before = {name: getattr(current, name) for name in values} if current else None
    weights, _created = PriorityWeights.objects.update_or_create(
        pool=pool, defaults={**values, "updated_at": timezone.now()}
    )
    audit.record_change(
        actor=actor,
        area=AuditArea.PRIORITY_WEIGHTS,
        object_id=pool.pk,
        label=pool.name,
        before=before,
        after=values,
    )
    tasks.recompute_pool_priorities_task.delay_on_commit(pool_id=pool.pk)  # a RecordedTask, a DjangoTask
    return weights
