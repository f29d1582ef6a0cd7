"""The one percentile of the metrics app: interpolated, as PostgreSQL's ``percentile_cont``.

KPI.md: "Medians and percentiles are interpolated (``percentile_cont``) everywhere." Every
median and p90 of a KPI (time to claim, sales cycle, first response — for a scope or per rep on
the leaderboard) goes through :func:`summarise` or :func:`summarise_by`, never through its own
helper.

The caller gives a ``SELECT`` whose column ``v`` holds the values (NULL = not measured, left
out) and, for the grouped form, whose column ``k`` holds the group. On PostgreSQL the
aggregation is one statement (``percentile_cont(ARRAY[...]) WITHIN GROUP (ORDER BY v)``); on
SQLite (the embedded demo, a few hundred rows) the values are read and interpolated the same
way in Python (:func:`interpolate`). The interpolation: with the ``n`` values sorted, the
fraction ``p`` lies at position ``p·(n-1)``; between two values it is the straight line between
them (the median of an even count is the mean of the two middle values).
"""

# ruff: noqa: S608
# S608: the caller's SQL is built from table names and fixed fragments; values are parameters.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection

from crm_site.db_routers import read_connection

FRACTIONS = (0.5, 0.9)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Summary:
    """``rows`` of the query, ``count`` non-null values, and one interpolated value per
    fraction (None without values), rounded to two decimals."""

    rows: int
    count: int
    values: tuple[Decimal | None, ...]

    @property
    def median(self) -> Decimal | None:
        return self.values[0]

    @property
    def p90(self) -> Decimal | None:
        return self.values[1] if len(self.values) > 1 else None


def interpolate(data: Sequence[float], fraction: float) -> float | None:
    """``percentile_cont(fraction)`` of ``data`` (sorted ascending), or None when empty."""
    if not data:
        return None
    position = fraction * (len(data) - 1)
    low = int(position)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (position - low)


def _rounded(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def _array(fractions: Sequence[float]) -> str:
    return "ARRAY[" + ", ".join(repr(float(f)) for f in fractions) + "]::float8[]"


def summarise(sql: str, params: Any, fractions: Sequence[float] = FRACTIONS) -> Summary:
    """The rows, the non-null count and the interpolated percentiles of column ``v`` of ``sql``
    (one statement on PostgreSQL). ``params`` are the query's own (a dict or a list)."""
    with read_connection().cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT COUNT(*), COUNT(t.v), percentile_cont({_array(fractions)}) "
                f"WITHIN GROUP (ORDER BY t.v) FROM ({sql}) t",
                params,
            )
            rows, count, values = cursor.fetchone()
            values = values or [None] * len(fractions)
        else:
            cursor.execute(f"SELECT t.v FROM ({sql}) t", params)
            every = [row[0] for row in cursor.fetchall()]
            data = sorted(float(v) for v in every if v is not None)
            rows, count = len(every), len(data)
            values = [interpolate(data, fraction) for fraction in fractions]
    return Summary(int(rows or 0), int(count or 0), tuple(_rounded(v) for v in values))


def summarise_by(sql: str, params: Any, fractions: Sequence[float] = FRACTIONS) -> dict[Any, Summary]:
    """:func:`summarise` per group ``k`` of ``sql``, in one statement on PostgreSQL."""
    groups: dict[Any, Summary] = {}
    with read_connection().cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT t.k, COUNT(*), COUNT(t.v), percentile_cont({_array(fractions)}) "
                f"WITHIN GROUP (ORDER BY t.v) FROM ({sql}) t GROUP BY t.k",
                params,
            )
            for key, rows, count, values in cursor.fetchall():
                values = values or [None] * len(fractions)
                groups[key] = Summary(int(rows), int(count), tuple(_rounded(v) for v in values))
            return groups
        cursor.execute(f"SELECT t.k, t.v FROM ({sql}) t", params)
        collected: dict[Any, list[float | None]] = {}
        for key, value in cursor.fetchall():
            collected.setdefault(key, []).append(value)
    for key, every in collected.items():
        data = sorted(float(v) for v in every if v is not None)
        values = [interpolate(data, fraction) for fraction in fractions]
        groups[key] = Summary(len(every), len(data), tuple(_rounded(v) for v in values))
    return groups


def summarise_values(values: Sequence[float | None], fractions: Sequence[float] = FRACTIONS) -> Summary:
    """:func:`summarise` of values already read (NULLs as None): the same interpolation, for
    the current period's per-day inputs (``metrics.figures_cache.inputs_by_day``)."""
    data = sorted(float(v) for v in values if v is not None)
    return Summary(len(values), len(data), tuple(_rounded(interpolate(data, f)) for f in fractions))
