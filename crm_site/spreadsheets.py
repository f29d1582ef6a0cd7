"""Every CSV the product writes goes through here, so every file is escaped the same way.

A cell that a spreadsheet would run as a formula is neutralised: text starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading apostrophe (the OWASP
"CSV injection" advice), which Excel, LibreOffice and WPS show as plain text. Numbers passed as
numbers (``int``, ``float``, ``Decimal``) are written as they are, so a negative amount stays
a number a spreadsheet can sum; a number that arrives as text is escaped like any text, so
callers pass numbers as numbers.

Files are UTF-8 with a byte-order mark (what makes Excel open Chinese text correctly) and CRLF
line ends (the csv module's default).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from django.http import HttpResponse, StreamingHttpResponse

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = Any  # str, a lazy translation, a number, None


def safe_cell(value: Cell) -> str | int | float | Decimal:
    """The value as a spreadsheet should store it: numbers unchanged, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(row: Iterable[Cell]) -> list[str | int | float | Decimal]:
    return [safe_cell(value) for value in row]


class SafeWriter:
    """``csv.writer`` that neutralises every cell; ``writerow`` returns what it wrote."""

    def __init__(self, stream: IO[str] | _Echo) -> None:
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Cell]) -> Any:
        return self._writer.writerow(safe_row(row))

    def writerows(self, rows: Iterable[Iterable[Cell]]) -> None:
        for row in rows:
            self.writerow(row)


class _Echo:
    """A file-like object whose ``write`` hands the line back, for streaming."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[Cell], rows: Iterable[Iterable[Cell]]) -> Iterator[str]:
    """The BOM, the header and the rows as CSV text lines, one at a time (bounded memory)."""
    writer = SafeWriter(_Echo())
    yield BOM
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


def _attachment(response: HttpResponse | StreamingHttpResponse, filename: str) -> None:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'


def csv_response(header: Sequence[Cell], rows: Iterable[Iterable[Cell]], *, filename: str) -> HttpResponse:
    """A small CSV download built in memory."""
    response = HttpResponse("".join(csv_lines(header, rows)), content_type="text/csv; charset=utf-8")
    _attachment(response, filename)
    return response


def streaming_csv_response(
    header: Sequence[Cell], rows: Iterable[Iterable[Cell]], *, filename: str
) -> StreamingHttpResponse:
    """A CSV download streamed row by row, for lists that may be long (the event log)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    _attachment(response, filename)
    return response
