"""The tables of the dashboards, built once and both rendered and exported.

A ``Table`` is columns and rows of ``Cell``s; the page renders it with
``templates/metrics/_table.html`` and ``?export=csv&table=<name>`` writes the very same
columns and rows as CSV, so the export cannot drift from what the page shows.

Decisions:
- A cell has the text the page shows (grouped digits, units, "No data") and the value the CSV
  writes: the plain number (dot decimal, no grouping, no unit) so that Excel can sum it; "no
  data" is written as the same words as on the page, never as 0 or an empty cell. Each table
  cell carries its CSV value in ``data-csv`` so a reader (and the browser test) can compare.
- The CSV is UTF-8 with a byte-order mark, which is what makes Excel open Chinese text
  correctly, with CRLF line ends (the csv module's default).
- The CSV is written by ``crm_site.spreadsheets`` like every other export: a text cell that
  starts with a formula character (a company name typed by anyone) is neutralised; numbers
  are kept as ``Decimal`` in ``Cell.csv`` so they are written as numbers, never escaped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse
from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from crm_site import spreadsheets
from metrics.kpis import Comparison, KpiDef, KpiValue, Unit

Number = Decimal | float | int


def no_data_text() -> str:
    return _("No data")


def not_applicable_text() -> str:
    return _("Not applicable")


# --- number formatting -------------------------------------------------------------------------

DECIMALS = {
    Unit.PERCENT: 1,
    Unit.COUNT: 0,
    Unit.MONEY: 2,
    Unit.DAYS: 1,
    Unit.HOURS: 1,
    Unit.SCORE: 1,
}


def _decimal(value: Number) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def plain_number(value: Number | None, decimals: int) -> str:
    """The CSV form: rounded, dot decimal, no grouping."""
    if value is None:
        return no_data_text()
    quantum = Decimal(1).scaleb(-decimals)
    return str(_decimal(value).quantize(quantum))


def shown_number(value: Number | None, decimals: int) -> str:
    """The page's form: localised, grouped."""
    if value is None:
        return no_data_text()
    quantum = Decimal(1).scaleb(-decimals)
    return number_format(
        _decimal(value).quantize(quantum), decimal_pos=decimals, use_l10n=True, force_grouping=True
    )


def unit_suffix(unit: Unit) -> str:
    return {
        Unit.PERCENT: " %",
        Unit.DAYS: " " + pgettext("unit of days", "d"),
        Unit.HOURS: " " + pgettext("unit of hours", "h"),
    }.get(unit, "")


# --- tables ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    numeric: bool = False
    csv_only: bool = False  # exported, not shown (a machine code such as the KPI's)


@dataclass(frozen=True)
class Cell:
    text: str
    csv: str | Decimal  # what the CSV writes: text, or a number kept as a number
    numeric: bool = False
    css: str = ""
    link: str = ""
    note: str = ""  # a small hint under the text (not exported)
    help: str = ""  # a definition one click away (a popover; not exported)

    @classmethod
    def label(cls, text: str | Promise, *, link: str = "", css: str = "", help: str | Promise = "") -> Cell:
        return cls(text=str(text), csv=str(text), link=link, css=css, help=str(help))

    @classmethod
    def number(cls, value: Number | None, *, decimals: int = 0, suffix: str = "", css: str = "") -> Cell:
        if value is None:
            return cls(
                text=no_data_text(),
                csv=no_data_text(),
                numeric=True,
                css=f"text-body-secondary {css}".strip(),
            )
        return cls(
            text=shown_number(value, decimals) + suffix,
            csv=Decimal(plain_number(value, decimals)),
            numeric=True,
            css=css,
        )

    @classmethod
    def not_applicable(cls, reason: str | Promise = "") -> Cell:
        """Answer "not applicable" (the KPI does not apply to the scope), with the reason as a note."""
        return cls(
            text=not_applicable_text(),
            csv=not_applicable_text(),
            numeric=True,
            css="text-body-secondary fst-italic",
            note=str(reason),
        )

    @classmethod
    def kpi(cls, value: KpiValue | Number | None, unit: Unit) -> Cell:
        if isinstance(value, KpiValue) and not value.applicable:
            return cls.not_applicable(value.reason)
        raw = value.value if isinstance(value, KpiValue) else value
        return cls.number(raw, decimals=DECIMALS[unit], suffix=unit_suffix(unit))

    @classmethod
    def date(cls, value: dt.date | dt.datetime | None) -> Cell:
        if value is None:
            return cls(text="", csv="")
        text = value.strftime("%Y-%m-%d %H:%M") if isinstance(value, dt.datetime) else value.isoformat()
        return cls(text=text, csv=text)


@dataclass
class Table:
    """Columns and rows the page shows and the CSV export writes (``name`` is the
    ``?table=`` value)."""

    name: str
    title: str | Promise
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    empty_text: str | Promise = field(default_factory=lambda: gettext_lazy("Nothing in this period."))

    @property
    def page_columns(self) -> list[Column]:
        """The columns the page shows (every column but the CSV-only ones)."""
        return [column for column in self.columns if not column.csv_only]

    @property
    def page_rows(self) -> list[list[tuple[Column, Cell]]]:
        """Each row's shown cells with their column (the column's label heads a cell on a
        phone, where the table becomes cards)."""
        shown = [index for index, column in enumerate(self.columns) if not column.csv_only]
        return [[(self.columns[index], row[index]) for index in shown] for row in self.rows]

    def csv_rows(self) -> Iterable[list[str | Decimal]]:
        yield [str(column.label) for column in self.columns]
        for row in self.rows:
            yield [cell.csv for cell in row]


def csv_response(table: Table, *, filename: str) -> HttpResponse:
    """The table as an Excel-friendly CSV download (UTF-8 with BOM)."""
    header, *rows = table.csv_rows()
    return spreadsheets.csv_response(header, rows, filename=filename)


# --- KPI overview ------------------------------------------------------------------------------


def change_cell(comparison: Comparison) -> Cell:
    """The change: percentage points for percent and score KPIs, a relative % otherwise, with
    an arrow (up/down/flat) coloured by whether the move is good for this KPI."""
    change = comparison.change
    if not comparison.current.applicable:
        return Cell.not_applicable()
    if change is None:
        return Cell.number(None)
    change = _decimal(change)
    definition: KpiDef = comparison.definition
    points = definition.unit in (Unit.PERCENT, Unit.SCORE)
    suffix = " " + pgettext("percentage points", "pp") if points else " %"
    if change > 0:
        arrow, good = "↑", definition.higher_is_better
    elif change < 0:
        arrow, good = "↓", not definition.higher_is_better
    else:
        arrow, good = "→", None
    css = "" if good is None else ("text-success" if good else "text-danger")
    sign = "+" if change > 0 else ""
    return Cell(
        text=f"{arrow} {sign}{shown_number(change, 1)}{suffix}",
        csv=Decimal(plain_number(change, 1)),
        numeric=True,
        css=css,
    )


def kpi_table(
    *,
    name: str,
    title: str | Promise,
    comparisons: list[Comparison],
    targets: dict[str, Decimal] | None = None,
) -> Table:
    """One row per KPI: value, previous value, change (and target and attainment when
    ``targets`` is given). Attainment is actual ÷ target, or target ÷ actual for a KPI where
    lower is better, as the scorecard computes it (uncapped here)."""
    columns = [
        Column("kpi", _("KPI")),
        Column("code", _("Code"), csv_only=True),
        Column("value", _("This period"), numeric=True),
        Column("previous", _("Previous period"), numeric=True),
        Column("change", pgettext("difference between two periods", "Change"), numeric=True),
    ]
    if targets is not None:
        columns += [
            Column("target", _("Target"), numeric=True),
            Column("attainment", _("Of target"), numeric=True),
        ]
    table = Table(name=name, title=title, columns=columns)
    for comparison in comparisons:
        definition = comparison.definition
        row = [
            Cell.label(definition.label, help=definition.description),
            Cell.label(definition.code),
            Cell.kpi(comparison.current, definition.unit),
            Cell.kpi(comparison.previous, definition.unit)
            if comparison.previous.applicable
            else Cell.not_applicable(),  # the reason is given once, beside this period's
            change_cell(comparison),
        ]
        if targets is not None:
            target = targets.get(definition.code)
            row.append(Cell.kpi(target, definition.unit) if target is not None else Cell.label("–"))
            row.append(
                Cell.number(attainment(comparison.current, target, definition), decimals=1, suffix=" %")
            )
        table.rows.append(row)
    return table


def attainment(current: KpiValue, target: Number | None, definition: KpiDef) -> Decimal | None:
    if target is None or current.value is None:  # no target, or no data
        return None
    actual, goal = _decimal(current.value), _decimal(target)
    if definition.higher_is_better:
        return actual / goal * 100 if goal else None
    return goal / actual * 100 if actual else None
