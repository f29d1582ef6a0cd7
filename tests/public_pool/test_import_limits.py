"""Imports refuse what would keep a worker busy for minutes: a sheet wider than
``import_files.MAX_COLUMNS`` is refused when its width is first seen, before its rows are read, and
nothing is imported (issue 10: 1,201 rows by 16,000 cells used to take about 170 s)."""

import io

import openpyxl
import pytest

from customers.models import Customer
from public_pool import exceptions
from public_pool.models import PoolEvent
from public_pool.services import import_files, imports

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _xlsx(rows, *, dimension=True):
    """A workbook with ``rows``; a normal workbook records its used range (Excel's <dimension>),
    a write-only one does not, so the reader must also check row by row."""
    workbook = openpyxl.Workbook(write_only=not dimension)
    sheet = workbook.active if dimension else workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _run(admin_user, pool, content):
    return imports.import_customers(
        actor=admin_user, pool_id=pool.pk, file=io.BytesIO(content), file_name="wide.xlsx"
    )


WIDE = 16_000


@pytest.mark.parametrize("dimension", [True, False], ids=["with-dimension", "without-dimension"])
def test_a_16000_column_sheet_is_refused_and_nothing_is_imported(admin_user, pool, dimension):
    header = ["name", "phone", *[f"extra {i}" for i in range(WIDE - 2)]]
    content = _xlsx([header, ["Acme Ltd", "13800000000"], ["Beta Ltd", "13900000000"]], dimension=dimension)

    with pytest.raises(exceptions.ImportFileInvalid) as caught:
        _run(admin_user, pool, content)

    assert "wider than 200 columns" in str(caught.value.message)
    assert Customer.objects.count() == 0
    assert PoolEvent.objects.count() == 0


def test_a_narrow_header_with_a_16000_cell_row_is_refused(admin_user, pool):
    content = _xlsx([["name", "phone"], ["Acme Ltd", "13800000000", *["x"] * WIDE]], dimension=False)

    with pytest.raises(exceptions.ImportFileInvalid):
        _run(admin_user, pool, content)

    assert Customer.objects.count() == 0
    assert PoolEvent.objects.count() == 0


def test_cells_beyond_the_header_are_not_read_as_columns(admin_user, pool):
    content = _xlsx([["name", "phone", None, None], ["Acme Ltd", "13800000000", "stray", "cells"]])

    result = _run(admin_user, pool, content)

    assert [(row.row, row.result) for row in result.preview] == [(2, "created")]
    assert Customer.objects.get().name == "Acme Ltd"


def test_a_200_column_sheet_is_still_imported(admin_user, pool):
    header = ["name", *[f"extra {i}" for i in range(import_files.MAX_COLUMNS - 1)]]
    content = _xlsx([header, ["Acme Ltd", *["x"] * (import_files.MAX_COLUMNS - 1)]])

    result = _run(admin_user, pool, content)

    assert [(row.row, row.result) for row in result.preview] == [(2, "created")]
