"""The two writers of demo rows: ``COPY`` on PostgreSQL, ``bulk_create`` elsewhere.

Generators produce plain tuples, one per row, in the field order of a :class:`Table`.
Timestamps in those tuples are whole minutes since the Unix epoch (UTC) and dates are days
since the epoch: integers are cheap to generate, compare and take the maximum of, and each
writer turns them into what its database wants (text for ``COPY``, ``datetime`` for the ORM).

:class:`CopyWriter` (PostgreSQL) loads a set of tables in bulk inside the caller's
transaction, the fastest way PostgreSQL offers:

1. ``TRUNCATE`` the tables (they are empty: the seed refuses to run over data, or flushed it),
   which lets ``COPY ... WITH (FREEZE)`` write rows already frozen and marked all-visible,
   so no later vacuum has to rewrite them and index-only scans work at once;
2. drop their secondary indexes and foreign keys (remembering their definitions from the
   catalogue, so indexes other apps add are handled too), because building an index once
   over sorted data is far faster than maintaining it row by row, and one validating join
   per foreign key is far faster than one trigger call per row;
3. stream the rows with ``COPY`` from a background thread, so that Python generates the
   next chunk on one core while PostgreSQL ingests the previous one on the other;
4. recreate the indexes and foreign keys (validated) and set the id sequences.

Everything happens in one transaction: a failure leaves the database as it was.
:class:`OrmWriter` uses ``bulk_create`` in batches, for SQLite (the embedded demo) and as a
cross-check of the generators in tests.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, cast

from django.core.management.color import no_style
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

logger = logging.getLogger(__name__)

MINUTES_PER_DAY = 24 * 60
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)

Row = tuple[Any, ...]


def minute_of(moment: datetime) -> int:
    """A datetime as whole minutes since the epoch (the generators' timestamp unit)."""
    return int((moment - _EPOCH).total_seconds() // 60)


def datetime_of(minute: int) -> datetime:
    return _EPOCH + timedelta(minutes=minute)


def date_of(day: int) -> date:
    return _EPOCH_DATE + timedelta(days=day)


class Table:
    """A model and the fields (attnames) a generator fills, in row order.

    Concrete fields not listed get their model default, so a field another app adds later
    (with a default) does not break the seed.
    """

    def __init__(self, model: type[models.Model], fields: Sequence[str]) -> None:
        self.model = model
        self.fields = tuple(fields)
        self.db_table = model._meta.db_table
        # Named concrete columns: get_field's other answers (relations' reverse sides) never come.
        self.model_fields = [cast(models.Field, model._meta.get_field(name)) for name in self.fields]
        listed = {field.attname for field in self.model_fields}
        # Fields with only a database default are left out, so the database fills them.
        self.defaulted_fields = [
            f
            for f in model._meta.concrete_fields
            if f.attname not in listed and (f.has_default() or f.db_default is models.NOT_PROVIDED)
        ]

    def __repr__(self) -> str:
        return f"Table({self.db_table})"


class Loader(Protocol):
    def write(self, table: Table, rows: list[Row]) -> None: ...


class Writer(Protocol):
    """Loads tables in bulk (``bulk_load``), then tidies up after the transaction commits."""

    name: str
    timings: dict[str, float]

    def bulk_load(self, tables: Sequence[Table]) -> AbstractContextManager[Loader]: ...

    def after_commit(self) -> None: ...


def writer_for(connection: BaseDatabaseWrapper, kind: str = "auto") -> Writer:
    """``copy`` on PostgreSQL unless ``kind`` asks for ``orm``."""
    if kind == "copy" or (kind == "auto" and connection.vendor == "postgresql"):
        if connection.vendor != "postgresql":
            raise ValueError("The COPY writer needs PostgreSQL.")
        return CopyWriter(connection)
    return OrmWriter(connection)


# --- PostgreSQL ------------------------------------------------------------------------------

_NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_TIMES_OF_DAY = [f" {h:02d}:{m:02d}+00" for h in range(24) for m in range(60)]
_DAY_TEXT: dict[int, str] = {}


def _copy_plain(value: Any) -> str:
    return _NULL if value is None else str(value)


def _copy_text(value: Any) -> str:
    if value is None:
        return _NULL
    value = str(value)
    # Four substring scans are much cheaper than translate() on text that needs no escaping.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


def _day_text(day: int) -> str:
    text = _DAY_TEXT.get(day)
    if text is None:
        text = _DAY_TEXT[day] = date_of(day).isoformat()
    return text


def _copy_minute(value: int | None) -> str:
    if value is None:
        return _NULL
    day, minute = divmod(value, MINUTES_PER_DAY)
    return _day_text(day) + _TIMES_OF_DAY[minute]


def _copy_day(value: int | None) -> str:
    return _NULL if value is None else _day_text(value)


def _copy_converter(field: models.Field) -> Callable[[Any], str]:
    if isinstance(field, models.DateTimeField):
        return _copy_minute
    if isinstance(field, models.DateField):
        return _copy_day
    if isinstance(field, models.CharField | models.TextField):
        return _copy_text
    return _copy_plain


def _copy_default(field: models.Field) -> str:
    value = field.get_default()
    if isinstance(value, datetime):
        return value.isoformat()
    return _copy_text(value)


class _CopyTable:
    """How one table's rows become ``COPY`` text.

    Fast path: only the columns that need it (timestamps, dates, nullable columns) go through
    a converter; the rest are ``str()``-ed in C by ``map``. The chunk is then checked with
    substring counts (C speed): exactly one tab per column gap, one newline per row, no
    carriage return, and no backslash other than one per NULL (``\\N``). A chunk that fails the
    check — some value holds a tab, newline or backslash — is formatted again with escaping.
    """

    def __init__(self, table: Table, quote: Callable[[str], str]) -> None:
        fields = [*table.model_fields, *table.defaulted_fields]
        columns = ", ".join(quote(field.column) for field in fields)
        self.sql = f"COPY {quote(table.db_table)} ({columns}) FROM STDIN WITH (FREEZE)"
        self.converters = [_copy_converter(field) for field in table.model_fields]
        self.special = [
            (index, _copy_converter(field))
            for index, field in enumerate(table.model_fields)
            if field.null or isinstance(field, models.DateField)
        ]
        tail = [_copy_default(field) for field in table.defaulted_fields]
        self.tail = "".join("\t" + value for value in tail) + "\n"
        self.tabs_per_row = len(fields) - 1
        self.tail_backslashes = self.tail.count("\\")

    def text(self, rows: list[Row]) -> str:
        special, tail = self.special, self.tail
        lines: list[str] = []
        append = lines.append
        nulls = 0
        for row in rows:
            nulls += row.count(None)
            if special:
                values = list(row)
                for index, convert in special:
                    values[index] = convert(values[index])
                append("\t".join(map(str, values)) + tail)
            else:
                append("\t".join(map(str, row)) + tail)
        text = "".join(lines)
        count = len(rows)
        if (
            text.count("\t") == count * self.tabs_per_row
            and text.count("\n") == count
            and "\r" not in text
            and text.count("\\") == nulls + count * self.tail_backslashes
        ):
            return text
        return self.escaped_text(rows)

    def escaped_text(self, rows: list[Row]) -> str:
        converters, tail = self.converters, self.tail
        return "".join(
            [
                "\t".join([convert(value) for convert, value in zip(converters, row, strict=False)]) + tail
                for row in rows
            ]
        )


class _CopyLoader:
    """Streams rows to ``COPY`` from one background thread.

    The thread uses the raw psycopg2 connection of the caller's transaction; the caller's
    thread must not touch the database until :meth:`close`. psycopg2 releases the GIL while
    it sends, so generation (caller) and ingestion (server) overlap.
    """

    def __init__(self, connection: BaseDatabaseWrapper, tables: Sequence[Table]) -> None:
        quote = connection.ops.quote_name
        self._tables = {id(table): _CopyTable(table, quote) for table in tables}
        self._raw = connection.connection
        self._queue: queue.Queue[tuple[str, str] | None] = queue.Queue(maxsize=12)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="seed-copy", daemon=True)
        self._thread.start()

    def write(self, table: Table, rows: list[Row]) -> None:
        if not rows:
            return
        if id(table) not in self._tables:
            raise ValueError(f"{table} is not part of this bulk load.")
        # Formatting here, in the caller's thread, keeps the Python work in one thread; the
        # COPY thread then mostly waits on the socket with the GIL released.
        copy = self._tables[id(table)]
        item = (copy.sql, copy.text(rows))
        while True:
            if self._error is not None:
                raise RuntimeError("COPY failed") from self._error
            try:
                self._queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        cursor = self._raw.cursor()
        try:
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # drain after a failure so that the producer never blocks
                sql, text = item
                cursor.copy_expert(sql, io.StringIO(text), size=1 << 20)
        except BaseException as error:  # re-raised in the caller's thread
            self._error = error
            while self._queue.get() is not None:
                pass
        finally:
            cursor.close()

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise RuntimeError("COPY failed") from self._error


class CopyWriter:
    name = "copy"

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.timings: dict[str, float] = {}
        self.loaded: list[Table] = []

    @contextmanager
    def bulk_load(self, tables: Sequence[Table]) -> Iterator[Loader]:
        """Empty ``tables``, stream rows into them, then rebuild their indexes and keys.

        Must run inside a transaction (``transaction.atomic``) with no savepoint opened
        between this call and the writes, because ``COPY FREEZE`` needs the tables to have
        been truncated in the current (sub)transaction.
        """
        self.loaded.extend(tables)
        names = list(dict.fromkeys(table.db_table for table in tables))
        with self.connection.cursor() as cursor:
            # Session settings for this transaction only: room to sort index builds in memory,
            # parallel B-tree builds on both cores, and hash joins for the key validation.
            cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
            cursor.execute("SET LOCAL work_mem = '256MB'")
            cursor.execute("SET LOCAL max_parallel_maintenance_workers = 2")
            cursor.execute("SET LOCAL synchronous_commit = off")
            # Deferred foreign-key checks of earlier steps' rows must fire before tables they
            # touch can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._truncate_empty(cursor, names)
            indexes, foreign_keys = self._drop_secondary(cursor, names)
        loader = _CopyLoader(self.connection, tables)
        started = time.monotonic()
        try:
            yield loader
        finally:
            loader.close()
        self.timings["copy"] = time.monotonic() - started
        started = time.monotonic()
        with self.connection.cursor() as cursor:
            for sql in indexes:
                cursor.execute(sql)
            self.timings["indexes"] = time.monotonic() - started
            started = time.monotonic()
            for sql in foreign_keys:
                cursor.execute(sql)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's default
            self.timings["foreign keys"] = time.monotonic() - started
            models_ = list(dict.fromkeys(table.model for table in tables))
            for sql in self.connection.ops.sequence_reset_sql(no_style(), models_):
                cursor.execute(sql)

    def _truncate_empty(self, cursor: Any, names: list[str]) -> None:
        """``TRUNCATE`` the tables (and the tables referring to them), which must all be empty.

        Truncating is only for ``COPY FREEZE``; it must never lose data, so every table is
        checked first. The pool event log refuses ``TRUNCATE`` unless
        ``crm.allow_event_truncate`` is on (public_pool migration 0003); it is empty here.
        """
        quote = self.connection.ops.quote_name
        tables = list(names)
        while True:
            cursor.execute(
                "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
                "WHERE contype = 'f' AND confrelid = ANY(%s::regclass[])",
                [tables],
            )
            more = [row[0] for row in cursor.fetchall() if row[0].strip('"') not in tables]
            if not more:
                break
            tables += [name.strip('"') for name in more]
        for name in tables:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(name)})")  # noqa: S608 - names from the catalogue
            if cursor.fetchone()[0]:
                raise RuntimeError(f"Bulk loading would empty {name}, which has rows.")
        cursor.execute("SET LOCAL crm.allow_event_truncate = on")
        cursor.execute(f"TRUNCATE {', '.join(quote(name) for name in tables)}")

    @staticmethod
    def _drop_secondary(cursor: Any, names: list[str]) -> tuple[list[str], list[str]]:
        """Drop the tables' secondary indexes and foreign keys; return the SQL to recreate them.

        Primary keys stay (ids arrive in ascending order, which B-trees append cheaply), and
        so do unique constraints (they must hold while loading) and check constraints (cheap).
        """
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (
                SELECT 1 FROM pg_constraint c
                WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')
              )
            ORDER BY i.indrelid, i.indexrelid
            """,
            [names],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
            ORDER BY conrelid, conname
            """,
            [names],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
        return (
            [definition for _name, definition in indexes],
            [
                f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"
                for table, name, definition in foreign_keys
            ],
        )

    def after_commit(self) -> None:
        """Fresh planner statistics; ``VACUUM`` the customers so visibility maps are complete.

        ``VACUUM`` cannot run inside a transaction (a test's, say); then only ``ANALYZE`` runs.
        Then ``ANALYZE`` of the whole database (it samples, a second or two at a million
        customers): the seed also writes through the ORM (users, teams, pools), and a users table
        left without statistics made the planner nest a loop over the day's pool events in the
        current-period KPIs.
        """
        quote = self.connection.ops.quote_name
        started = time.monotonic()
        with self.connection.cursor() as cursor:
            if not self.connection.in_atomic_block and any(
                table.db_table == "customers_customer" for table in self.loaded
            ):
                cursor.execute(f"VACUUM (ANALYZE) {quote('customers_customer')}")
            cursor.execute("ANALYZE")
        self.timings["analyze"] = time.monotonic() - started


# --- any database (SQLite for the embedded demo) ---------------------------------------------


def _orm_converter(field: models.Field) -> Callable[[Any], Any]:
    if isinstance(field, models.DateTimeField):
        return lambda value: None if value is None else datetime_of(value)
    if isinstance(field, models.DateField):
        return lambda value: None if value is None else date_of(value)
    return lambda value: value


class _OrmLoader:
    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size

    def write(self, table: Table, rows: list[Row]) -> None:
        converters = [_orm_converter(field) for field in table.model_fields]
        attnames = [field.attname for field in table.model_fields]
        objects = [
            table.model(
                **{
                    name: convert(value)
                    for name, convert, value in zip(attnames, converters, row, strict=True)
                }
            )
            for row in rows
        ]
        table.model._default_manager.bulk_create(objects, batch_size=self.batch_size)


class OrmWriter:
    name = "orm"

    def __init__(self, connection: BaseDatabaseWrapper, batch_size: int = 500) -> None:
        self.connection = connection
        self.batch_size = batch_size
        self.timings: dict[str, float] = {}
        self.loaded: list[Table] = []

    @contextmanager
    def bulk_load(self, tables: Sequence[Table]) -> Iterator[Loader]:
        self.loaded.extend(tables)
        started = time.monotonic()
        yield _OrmLoader(self.batch_size)
        self.timings["copy"] = time.monotonic() - started
        models_ = list(dict.fromkeys(table.model for table in tables))
        sequence_sql = self.connection.ops.sequence_reset_sql(no_style(), models_)
        if sequence_sql:  # ids were given explicitly; PostgreSQL's sequences must catch up
            with self.connection.cursor() as cursor:
                for sql in sequence_sql:
                    cursor.execute(sql)

    def after_commit(self) -> None:
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                for name in dict.fromkeys(table.db_table for table in self.loaded):
                    cursor.execute(f"ANALYZE {self.connection.ops.quote_name(name)}")
