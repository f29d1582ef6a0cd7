"""Every KPI of KPI.md as one function over a period and a scope, and the registry the
dashboards, the API and the scorecard read them from.

A KPI function takes ``(period, scope)`` keyword-only and returns a ``KpiValue``; it computes
with SQL aggregation in the database (never a per-row Python loop) and answers "no data"
(``value=None``) where its denominator is zero. Register it with ``@kpi(...)`` in one of the
modules of this package; ``compute`` and ``compare`` run the registered ones.

Modules: ``sales`` (conversion, growth, retention, churn, new customers, acquisition, CAC,
CLV, repurchase, win rate, sales cycle, first response, activity), ``feedback`` (NPS, CSAT),
``pool`` (pool conversion, time to claim, claim rate, stale stock, recycle rate).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils.functional import Promise

from metrics import figures_cache
from metrics.periods import Period, Scope, ScopeKind


class Unit(StrEnum):
    PERCENT = "percent"  # value 12.5 means 12.5 %
    COUNT = "count"
    MONEY = "money"
    DAYS = "days"
    HOURS = "hours"
    SCORE = "score"  # NPS -100…100, CSAT mean 1…5


@dataclass(frozen=True, slots=True)
class KpiValue:
    """One figure: ``value`` is None for "no data" (a zero denominator); ``numerator`` and
    ``denominator`` show how it was reached where the KPI is a ratio; ``detail`` carries
    extra figures (a p90 beside a median, counts per kind, the open part of a cohort)."""

    value: Decimal | float | int | None
    numerator: Decimal | float | int | None = None
    denominator: Decimal | float | int | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    # False when the KPI does not apply to the scope (CAC for one rep): "not applicable", which
    # is not "no data" (a zero denominator); ``reason`` says why, in the user's language.
    applicable: bool = True
    reason: str | Promise = ""

    @property
    def has_data(self) -> bool:
        return self.value is not None


NO_DATA = KpiValue(None)

KpiFunction = Callable[..., KpiValue]


@dataclass(frozen=True, slots=True)
class KpiDef:
    code: str
    label: str | Promise
    unit: Unit
    higher_is_better: bool
    scopes: frozenset[ScopeKind]
    function: KpiFunction
    description: str | Promise = ""
    not_applicable: str | Promise = ""

    def applies_to(self, scope: Scope) -> bool:
        return scope.kind in self.scopes

    def __call__(self, *, period: Period, scope: Scope) -> KpiValue:
        if not self.applies_to(scope):
            return KpiValue(None, applicable=False, reason=self.not_applicable)
        return _evaluate(code=self.code, period=period, scope=scope)


REGISTRY: dict[str, KpiDef] = {}


@figures_cache.cached_for_closed_period
def _evaluate(*, code: str, period: Period, scope: Scope) -> KpiValue:
    """One KPI's figure; a closed period's comes from the cache (``metrics.figures_cache``)."""
    return REGISTRY[code].function(period=period, scope=scope)


ALL_SCOPES = frozenset(ScopeKind)


def kpi(
    *,
    code: str,
    label: str | Promise,
    unit: Unit,
    higher_is_better: bool = True,
    scopes: frozenset[ScopeKind] = ALL_SCOPES,
    description: str | Promise = "",
    not_applicable: str | Promise = "",
) -> Callable[[KpiFunction], KpiFunction]:
    """Register a KPI function under ``code`` (the API and CSV name; never renamed). A scope
    kind outside ``scopes`` answers "not applicable" with ``not_applicable`` as the reason."""

    def register(function: KpiFunction) -> KpiFunction:
        if code in REGISTRY:
            raise ValueError(f"KPI {code} registered twice")
        REGISTRY[code] = KpiDef(
            code, label, unit, higher_is_better, scopes, function, description, not_applicable
        )
        return function

    return register


_MODULES = ("sales", "feedback", "pool")


def load() -> dict[str, KpiDef]:
    """Import the KPI modules (once) and return the registry in registration order."""
    for name in _MODULES:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{__name__}.{name}":
                raise
    return REGISTRY


@dataclass(frozen=True, slots=True)
class Comparison:
    definition: KpiDef
    current: KpiValue
    previous: KpiValue

    @property
    def change(self) -> Decimal | float | None:
        """Percentage points for a percent KPI, otherwise the relative change in %; None when
        either side has no data (or the previous value is 0 for a relative change)."""
        if not (self.current.has_data and self.previous.has_data):
            return None
        current, previous = Decimal(str(self.current.value)), Decimal(str(self.previous.value))
        if self.definition.unit in (Unit.PERCENT, Unit.SCORE):
            return current - previous
        if previous == 0:
            return None
        return (current - previous) / abs(previous) * 100


def compute(*, period: Period, scope: Scope, codes: list[str] | None = None) -> dict[str, KpiValue]:
    registry = load()
    return {code: registry[code](period=period, scope=scope) for code in codes or registry}


def compare(*, period: Period, scope: Scope, codes: list[str] | None = None) -> list[Comparison]:
    """Each KPI for the period and the previous period (``Period.previous``)."""
    registry = load()
    previous = period.previous()
    wanted = [code for code in codes or registry if registry[code].applies_to(scope)]
    figures_cache.prefetch(
        _evaluate,
        [{"code": code, "period": when, "scope": scope} for code in wanted for when in (period, previous)],
    )
    return [
        Comparison(
            registry[code],
            registry[code](period=period, scope=scope),
            registry[code](period=previous, scope=scope),
        )
        for code in codes or registry
    ]
