"""Customer feedback KPIs of KPI.md: NPS and CSAT, from the roll-ups only.

Answers count on the day they were given (``Feedback.at``, company time zone) and belong to
the customer's owner, that owner's team, the customer's pool (else home pool) and channel
(``metrics.selectors.rollups``). A feedback row may carry an NPS score, a CSAT score or both; each KPI
counts the rows with its own score.
"""

# ruff: noqa: RUF001, RUF002
# RUF001, RUF002: the formulas of KPI.md are written with their own signs (times, divided by, minus).

from __future__ import annotations

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from metrics.kpis import KpiValue, Unit, kpi
from metrics.kpis.sales import ratio, rounded
from metrics.periods import Period, Scope
from metrics.selectors import rollups

NPS_MEASURES = ["nps_answers", "nps_promoters", "nps_detractors"]
CSAT_MEASURES = ["csat_answers", "csat_satisfied", "csat_sum"]


@kpi(
    code="nps",
    label=_("Net promoter score"),
    unit=Unit.SCORE,
    description=_(
        "The share of promoters (9–10) minus the share of detractors (0–6) among the answers in the period, from −100 to 100."
    ),
)
def nps(*, period: Period, scope: Scope) -> KpiValue:
    """% promoters (9–10) − % detractors (0–6) of the NPS answers in the period, −100 … 100;
    "no data" without answers. Numerator: promoters − detractors; denominator: answers."""
    figures = rollups.totals(period=period, scope=scope, measures=NPS_MEASURES)
    promoters, detractors = figures["nps_promoters"], figures["nps_detractors"]
    result = ratio(promoters - detractors, figures["nps_answers"])
    return KpiValue(
        result.value,
        numerator=result.numerator,
        denominator=result.denominator,
        detail={"promoters": promoters, "detractors": detractors},
    )


@kpi(
    code="csat",
    label=_("Customer satisfaction"),
    unit=Unit.PERCENT,
    description=_("Share of answers of 4–5 on the 1–5 scale in the period; the mean beside it."),
)
def csat(*, period: Period, scope: Scope) -> KpiValue:
    """Share of CSAT answers of 4–5 on the 1–5 scale in the period × 100 %; the mean score in
    ``detail["mean"]``; "no data" without answers."""
    figures = rollups.totals(period=period, scope=scope, measures=CSAT_MEASURES)
    answers = figures["csat_answers"]
    result = ratio(figures["csat_satisfied"], answers)
    mean = rounded(Decimal(figures["csat_sum"]) / answers) if answers else None
    return KpiValue(
        result.value, numerator=result.numerator, denominator=result.denominator, detail={"mean": mean}
    )
