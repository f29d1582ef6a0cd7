"""Import leads from a ``.csv`` or ``.xlsx`` file into a pool, in the background (API.md "Imports").

The steps, each one service:

1. :func:`create_import` checks the file (extension, size, encoding, header), stores it, and
   proposes a column mapping (``import_files.detect_mapping``). From the page it leaves a
   ``draft`` for the admin to confirm; from the API (or a page that confirms at once) it is
   ``queued`` and :func:`run_import` is enqueued once the batch commits.
2. :func:`set_mapping` / :func:`start_import`: the admin changes the mapping of a draft and
   starts it. :func:`preview_import` shows the first rows as they will be imported.
3. :func:`run_import` (the Celery task's service) imports the rows in chunks.
4. :func:`resume_import` queues a failed or stalled import again; it continues after its
   watermark.

Decisions:

- **Exactly once per row, resumable.** Each chunk is one transaction: the customers, their
  first contacts, their ``import`` events, the batch's counts, ``processed_rows`` and the
  watermark ``last_row`` (the last file row the chunk covered) all commit together. The report
  lines of the chunk are appended to the report file and fsync'ed *before* that commit, and
  their end offset (``report_bytes``) is committed with it; a run that starts again truncates
  the file to ``report_bytes`` and skips the rows up to ``last_row``. A run killed at any point
  (SIGKILL included) therefore leaves every row either fully imported and reported, or not
  imported at all; running it again repeats none. The watermark is the idempotency key of a
  row: (batch, row number) is imported at most once because its chunk's commit moves the
  watermark past it.
- **One run per batch.** A run holds a session advisory lock on the batch for its whole
  duration (PostgreSQL); a second run of the same batch (a redelivered message, "Resume"
  pressed twice) finds it taken and returns. A killed worker's connection drops, and its lock
  with it.
- **Speed.** Per chunk on PostgreSQL: one ``COPY`` of the accepted rows into a temporary
  staging table, one ``INSERT … SELECT`` into the customer table (the values every row shares
  written once as literals; the lead's priority score computed in Python and staged with it),
  one ``INSERT … SELECT unnest(ids)`` of the ``import`` events, one insert of the contacts, one
  UPDATE of the batch: every new row is written once. ``bulk_create`` elsewhere (SQLite).
- **Duplicates.** A row is a duplicate when its normalised company name, normalised phone or
  lower-cased e-mail equals an existing customer's, or an earlier row's. Earlier chunks are
  committed, so the database query finds their rows; the current chunk is checked in dicts. To
  say "row N of this file" rather than "customer #id", the created ids and their row numbers
  are kept in two ``array``s (16 bytes per created row), rebuilt from the report on resume.
- **Concurrency.** Each chunk's transaction starts with ``pg_advisory_xact_lock`` on one key
  for all imports: the chunks of two simultaneous imports run one after the other, each seeing
  what the previous committed, so overlapping files cannot both insert one company.
- **Bad rows never block good ones**; a file that cannot be read at all is refused before
  anything is written and leaves no batch. Blank rows are skipped and not counted; row numbers
  are those a spreadsheet shows (header = row 1).
- **A failure** (the database went away, a bug) marks the batch ``failed`` with the row its
  chunk started at; the rows before it stay imported and reported, the chunk's rows are not.
"""

import csv
import io
import os
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from typing import IO, Any, cast

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection, models, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm_site import spreadsheets
from customers.models import Contact, Customer, User
from public_pool import tasks
from public_pool.exceptions import ImportFileInvalid, ImportMappingInvalid, ImportNotResumable
from public_pool.models import ImportBatch, ImportStatus
from public_pool.services import import_files
from public_pool.services._common import ensure_admin, get_pool, without_jit
from public_pool.services.claims import log_imported_customers
from public_pool.services.import_files import CUSTOMER_FIELDS, FIELDS, Row
from public_pool.services.priority import new_customer_scorer, weights_for

CHUNK_SIZE = settings.PUBLIC_POOL_IMPORT_CHUNK_SIZE
PREVIEW_ROWS = 100
MAPPING_PREVIEW_ROWS = 5
MAX_FILE_BYTES = 256 * 1024 * 1024  # ~2,000,000 rows; read in the background, streamed
MAX_COLUMNS = import_files.MAX_COLUMNS
# A running import that has not committed a chunk for this long is taken for dead ("Resume").
STALLED_AFTER = timedelta(minutes=2)
# pg advisory lock key serialising the chunks of concurrent imports (any bigint unique to this).
IMPORT_LOCK_KEY = 7_346_201_905
# Class id of the per-batch session lock (two-int form: class, batch id).
RUN_LOCK_CLASS = 734_620

CREATED, DUPLICATE, ERROR = "created", "duplicate", "error"
REPORT_HEADER = (gettext_lazy("row"), gettext_lazy("result"), gettext_lazy("company name"),
                 gettext_lazy("customer id"), gettext_lazy("reason"))  # fmt: skip


@dataclass(frozen=True)
class ReportRow:
    row: int
    result: str  # CREATED, DUPLICATE or ERROR
    name: str
    customer_id: int | None  # the new customer, or the existing one a duplicate matches
    reason: str


@dataclass(frozen=True)
class ImportResult:
    batch: ImportBatch
    preview: tuple[ReportRow, ...]  # the first PREVIEW_ROWS rows of the report
    truncated: bool  # the report has more rows than ``preview``


@dataclass(frozen=True)
class PreviewRow:
    number: int
    values: list[str]  # per field of ``fields``
    errors: list[str]


@dataclass(frozen=True)
class MappingPreview:
    columns: list[tuple[str, str, list[str]]]  # header, field, the first values of the column
    unmapped: list[str]
    fields: list[str]  # the mapped fields, in FIELDS order
    rows: list[PreviewRow]

    @property
    def labels(self) -> list[str]:
        return [import_files.field_label(name).capitalize() for name in self.fields]


# --- creating, mapping, starting ------------------------------------------------------------------


def _open_source(batch: ImportBatch) -> IO[bytes]:
    return batch.source_file.open("rb")


def _read_header(file: IO[bytes], file_name: str) -> tuple[list[str], str]:
    extension = import_files.extension(file_name)
    encoding = import_files.detect_encoding(file) if extension == "csv" else ""
    records = import_files.records(file, file_name, encoding)
    try:
        header = next(records, None)
    finally:
        records.close()
    if header is None or not any(header):
        raise ImportFileInvalid(gettext_lazy("The file is empty."))
    while not header[-1]:
        header.pop()
    return header, encoding


def _mapping_from_headers(header: list[str], given: dict[str, str]) -> list[str]:
    """Apply ``{header: field}`` (API) over the detected mapping; a header not in the file is refused."""
    mapping = import_files.detect_mapping(header)
    for name in given:
        if name not in header:
            raise ImportMappingInvalid(_("The file has no column “%(name)s”.") % {"name": name})
    for index, cell in enumerate(header):
        if cell in given:
            mapping[index] = given[cell] or ""
    return mapping


def create_import(
    *,
    actor: User,
    pool_id: int,
    file: IO[bytes],
    file_name: str,
    mapping: dict[str, str] | None = None,
    start: bool = True,
) -> ImportBatch:
    """Check and store an uploaded file as a new import into ``pool_id``.

    Admins only. The file must be ``.csv``/``.xlsx``, at most :data:`MAX_FILE_BYTES`, readable,
    with a header row (else :class:`ImportFileInvalid`, nothing stored). ``mapping`` (header →
    field) overrides what the header suggests. With ``start`` the mapping must name a company
    column (else :class:`ImportMappingInvalid`, or ``ImportFileInvalid`` when the admin gave no
    mapping) and the run is enqueued once the caller's transaction commits; without, the batch
    is a ``draft`` waiting for :func:`start_import`.
    """
    batch = _create_batch(
        actor=actor, pool_id=pool_id, file=file, file_name=file_name, mapping=mapping, validate=start
    )
    if start:
        tasks.import_customers_task.delay_on_commit(batch_id=batch.pk)  # type: ignore[attr-defined]  # Celery 5.4+, not in celery-types
    return batch


def _create_batch(
    *,
    actor: User,
    pool_id: int,
    file: IO[bytes],
    file_name: str,
    mapping: dict[str, str] | None,
    validate: bool,
) -> ImportBatch:
    ensure_admin(actor)
    pool = get_pool(pool_id)
    file.seek(0, io.SEEK_END)
    size = file.tell()
    file.seek(0)
    if size == 0:
        raise ImportFileInvalid(gettext_lazy("The file is empty."))
    if size > MAX_FILE_BYTES:
        raise ImportFileInvalid(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)}
        )
    header, encoding = _read_header(file, file_name)
    columns = _mapping_from_headers(header, mapping) if mapping else import_files.detect_mapping(header)
    if validate:
        try:
            import_files.validate_mapping(columns, header)
        except ImportMappingInvalid as error:
            if mapping:
                raise
            raise ImportFileInvalid(error.message) from None
    batch = ImportBatch.objects.create(
        pool=pool,
        created_by=actor,
        file_name=file_name[:255],
        status=ImportStatus.QUEUED if validate else ImportStatus.DRAFT,
        encoding=encoding,
        header=header,
        mapping=columns,
    )
    file.seek(0)
    try:
        batch.source_file.save(
            f"import-{batch.pk}.{import_files.extension(file_name)}", File(file), save=False
        )
    except BaseException:
        batch.delete()
        raise
    batch.report.name = f"imports/reports/import-{batch.pk}.csv"
    ImportBatch.objects.filter(pk=batch.pk).update(
        source_file=batch.source_file.name, report=batch.report.name
    )
    return batch


def _draft(actor: User, batch_id: int) -> ImportBatch:
    ensure_admin(actor)
    batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status != ImportStatus.DRAFT:
        raise ImportNotResumable(gettext_lazy("This import has already started."))
    return batch


@transaction.atomic
def set_mapping(*, actor: User, batch_id: int, mapping: list[str]) -> ImportBatch:
    """Replace a draft's mapping (one field per column, "" = not imported); checks field names."""
    batch = _draft(actor, batch_id)
    if len(mapping) != len(batch.header) or any(name and name not in FIELDS for name in mapping):
        raise ImportMappingInvalid(gettext_lazy("The mapping does not match the file's columns."))
    batch.mapping = mapping
    batch.save(update_fields=["mapping"])
    return batch


@transaction.atomic
def start_import(*, actor: User, batch_id: int, mapping: list[str]) -> ImportBatch:
    """Confirm a draft's mapping and queue it (the task is enqueued on commit)."""
    batch = _draft(actor, batch_id)
    batch.mapping = import_files.validate_mapping(mapping, batch.header)
    batch.status = ImportStatus.QUEUED
    batch.save(update_fields=["mapping", "status"])
    tasks.import_customers_task.delay_on_commit(batch_id=batch.pk)  # type: ignore[attr-defined]  # Celery 5.4+, not in celery-types
    return batch


def is_stalled(batch: ImportBatch) -> bool:
    """Running, but no chunk committed for :data:`STALLED_AFTER` (its worker died)."""
    last = batch.heartbeat_at or batch.created_at
    return batch.status == ImportStatus.RUNNING and timezone.now() - last > STALLED_AFTER


@transaction.atomic
def resume_import(*, actor: User, batch_id: int) -> ImportBatch:
    """Queue a failed or stalled import again; it continues after its watermark."""
    ensure_admin(actor)
    batch = ImportBatch.objects.select_for_update().get(pk=batch_id)
    if not (batch.status in (ImportStatus.FAILED, ImportStatus.QUEUED) or is_stalled(batch)):
        raise ImportNotResumable(gettext_lazy("Only a failed or stalled import can be resumed."))
    batch.status, batch.error_message, batch.finished_at = ImportStatus.QUEUED, "", None
    batch.save(update_fields=["status", "error_message", "finished_at"])
    tasks.import_customers_task.delay_on_commit(batch_id=batch.pk)  # type: ignore[attr-defined]  # Celery 5.4+, not in celery-types
    return batch


def preview_import(
    batch: ImportBatch, mapping: list[str], limit: int = MAPPING_PREVIEW_ROWS
) -> MappingPreview:
    """The columns with their first values, the unmapped ones, and the first ``limit`` rows as
    the mapping would import them (normalised, with the reasons a row would be refused)."""
    samples: list[tuple[int, list[str]]] = []
    with _open_source(batch) as stream:
        records = import_files.records(stream, batch.file_name, batch.encoding)
        try:
            next(records, None)
            numbered = ((number, record) for number, record in enumerate(records, start=2) if any(record))
            samples = list(islice(numbered, limit))
        finally:
            records.close()
    columns = [
        (
            cell or import_files.column_letter(index),
            name,
            [record[index] if index < len(record) else "" for _number, record in samples],
        )
        for index, (cell, name) in enumerate(zip(batch.header, mapping, strict=True))
    ]
    fields = [name for name in FIELDS if name in mapping]
    rows = [
        import_files.check_row(number, import_files.row_values(record, mapping)) for number, record in samples
    ]
    return MappingPreview(
        columns=columns,
        unmapped=import_files.unmapped_columns(batch.header, mapping),
        fields=fields,
        rows=[PreviewRow(row.number, [row.values[name] for name in fields], row.errors) for row in rows],
    )


# --- running ----------------------------------------------------------------------------------


class _Report:
    """The report file: appended per chunk and fsync'ed before the chunk commits; its committed
    length is kept in the batch (``report_bytes``), and the file is cut back to it on open and
    on close, so it never shows a row the database does not have."""

    def __init__(self, batch: ImportBatch) -> None:
        self.path = default_storage.path(batch.report.name)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        resume = bool(batch.report_bytes) and os.path.exists(self.path)
        self.raw = open(self.path, "r+b" if resume else "w+b")  # noqa: SIM115 - closed by close()
        self.raw.truncate(batch.report_bytes if resume else 0)
        self.raw.seek(0, io.SEEK_END)
        self.text = io.TextIOWrapper(self.raw, encoding="utf-8", newline="", write_through=True)
        self.writer = spreadsheets.SafeWriter(self.text)
        if not resume:
            self.text.write(spreadsheets.BOM)
            self.writer.writerow(REPORT_HEADER)
            self.text.flush()
        self.committed = self.raw.tell()

    def created_rows(self) -> Iterator[tuple[int, int]]:
        """(customer id, row) of the rows this import created, from the committed report."""
        with open(self.path, encoding="utf-8-sig", newline="") as text:
            reader = csv.reader(text)
            next(reader, None)
            for record in reader:
                if record[1] == CREATED:
                    yield int(record[3]), int(record[0])

    def append(self, rows: list[Row]) -> int:
        for row in rows:
            self.writer.writerow(
                [row.number, row.result, row.values["name"], row.customer_id or "", row.reason]
            )
        self.text.flush()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        return self.raw.tell()

    def close(self) -> None:
        self.text.flush()
        self.raw.truncate(self.committed)
        self.text.detach()
        self.raw.close()


class _Importer:
    """State of one run: counts, report, created ids → row numbers."""

    def __init__(self, *, batch: ImportBatch, report: _Report) -> None:
        self.batch, self.report = batch, report
        self.actor = batch.created_by
        self.score = new_customer_scorer(weights_for(batch.pool_id))  # once: the nightly re-score catches up
        self.counts = {
            CREATED: batch.created_count,
            DUPLICATE: batch.duplicate_count,
            ERROR: batch.error_count,
        }
        self.processed = batch.processed_rows
        self.created_ids = array("q")
        self.created_rows = array("q")
        if batch.processed_rows:  # resumed: who created what so far (ids ascend in the report)
            for customer_id, number in sorted(report.created_rows()):
                self.created_ids.append(customer_id)
                self.created_rows.append(number)

    def row_of(self, customer_id: int) -> int | None:
        """The row of this file that created ``customer_id``, if it did (ids ascend)."""
        index = bisect_left(self.created_ids, customer_id)
        if index < len(self.created_ids) and self.created_ids[index] == customer_id:
            return self.created_rows[index]
        return None

    def duplicate_reason(self, what: str, customer_id: int | None, row_number: int | None) -> str:
        if row_number is not None:
            return _("Same %(what)s as row %(row)d of this file.") % {"what": what, "row": row_number}
        return _("Same %(what)s as existing customer #%(id)d.") % {"what": what, "id": customer_id}

    def import_chunk(self, rows: list[Row], last_row: int) -> None:
        """Decide and write one chunk in one transaction (see the module docstring)."""
        valid = [row for row in rows if not row.errors]
        for row in rows:
            if row.errors:
                row.result, row.reason = ERROR, " ".join(row.errors)
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
                without_jit()
            existing = self._existing(valid)
            accepted = self._accept(valid, existing)
            now = timezone.now()
            pool_id = self.batch.pool_id
            ids = _insert_customers(
                rows=accepted,
                score=self.score,
                constant={
                    "pool_id": pool_id,
                    "home_pool_id": pool_id,
                    "pooled_at": now,
                    "created_by_id": self.actor.pk,
                    "created_at": now,
                    "updated_at": now,
                    "recycle_policy_stale": False,
                },
            )
            log_imported_customers(
                actor=self.actor, pool_id=pool_id, customer_ids=ids, note=self.batch.file_name[:200]
            )
            for row, customer_id in zip(accepted, ids, strict=True):
                row.result, row.customer_id = CREATED, customer_id
            _insert_contacts([row for row in accepted if row.has_contact], now)
            for row in rows:
                if row.duplicate_of is not None:
                    row.customer_id = row.duplicate_of.customer_id
            chunk_counts = Counter(row.result for row in rows)
            report_bytes = self.report.append(rows)
            ImportBatch.objects.filter(pk=self.batch.pk).update(
                processed_rows=self.processed + len(rows),
                last_row=last_row,
                report_bytes=report_bytes,
                heartbeat_at=now,
                created_count=self.counts[CREATED] + chunk_counts[CREATED],
                duplicate_count=self.counts[DUPLICATE] + chunk_counts[DUPLICATE],
                error_count=self.counts[ERROR] + chunk_counts[ERROR],
            )
        # Committed: now the in-memory state (ids ascend across chunks).
        self.report.committed = report_bytes
        self.processed += len(rows)
        for kind in self.counts:
            self.counts[kind] += chunk_counts[kind]
        for customer_id, number in sorted(zip(ids, (row.number for row in accepted), strict=True)):
            self.created_ids.append(customer_id)
            self.created_rows.append(number)

    def _existing(self, rows: list[Row]) -> dict[str, dict[str, int]]:
        """Existing customers with one of the rows' names, phones or e-mails (three lookups)."""
        keys = {
            "name": list({row.name_key for row in rows}),
            "phone": list({row.values["phone"] for row in rows if row.values["phone"]}),
            "email": list({row.values["email"] for row in rows if row.values["email"]}),
        }
        found: dict[str, dict[str, int]] = {"name": {}, "phone": {}, "email": {}}
        if connection.vendor == "postgresql":
            # ``= ANY(array)``: one parameter instead of thousands (the ORM's IN list cost more
            # to build and plan than to run).
            table = Customer._meta.db_table
            expressions = {"name": "name_normalized", "phone": "phone", "email": "lower(email)"}
            with connection.cursor() as cursor:
                for kind, expression in expressions.items():
                    if keys[kind]:
                        cursor.execute(
                            f"SELECT {expression}, id FROM {table} WHERE {expression} = ANY(%s)",  # noqa: S608 - fixed names
                            [keys[kind]],
                        )
                        found[kind] = dict(cursor.fetchall())
            return found
        if keys["name"]:
            found["name"] = dict(
                Customer.objects.filter(name_normalized__in=keys["name"]).values_list("name_normalized", "pk")
            )
        if keys["phone"]:
            found["phone"] = dict(Customer.objects.filter(phone__in=keys["phone"]).values_list("phone", "pk"))
        if keys["email"]:
            found["email"] = dict(
                Customer.objects.annotate(email_lower=Lower("email"))
                .filter(email_lower__in=keys["email"])
                .values_list("email_lower", "pk")
            )
        return found

    def _accept(self, rows: list[Row], existing: dict[str, dict[str, int]]) -> list[Row]:
        """The rows to insert; the others are recorded as duplicates (first matching key wins)."""
        seen: dict[str, dict[str, Row]] = {"name": {}, "phone": {}, "email": {}}
        what = {"name": _("company name"), "phone": _("phone"), "email": _("e-mail")}
        accepted = []
        for row in rows:
            keys = {"name": row.name_key, "phone": row.values["phone"], "email": row.values["email"]}
            reason, match_id = "", None
            for kind, key in keys.items():
                if not key:
                    continue
                if key in existing[kind]:
                    match_id = existing[kind][key]
                    reason = self.duplicate_reason(what[kind], match_id, self.row_of(match_id))
                    break
                if key in seen[kind]:
                    row.duplicate_of = seen[kind][key]
                    reason = self.duplicate_reason(what[kind], None, row.duplicate_of.number)
                    break
            if reason:
                row.result, row.customer_id, row.reason = DUPLICATE, match_id, reason
                continue
            for kind, key in keys.items():
                if key:
                    seen[kind][key] = row
            accepted.append(row)
        return accepted


STAGING_TABLE = "import_staging"
STAGING_COLUMNS = (*CUSTOMER_FIELDS, "name_normalized", "priority_score")
LEVEL_DEFAULT = str(Customer._meta.get_field("level").get_default())


def create_staging_table(cursor: Any) -> None:
    """The session's temporary staging table (emptied at each commit)."""
    columns = ", ".join(
        f"{name} {'integer' if name == 'priority_score' else 'text'}" for name in STAGING_COLUMNS
    )
    cursor.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGING_TABLE} (ord integer, {columns}) ON COMMIT DELETE ROWS"
    )


def copy_to_staging(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    """``COPY`` ``rows`` (values of :data:`STAGING_COLUMNS`) into the staging table, numbered."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)  # quoted "" is '' (not NULL) for COPY
    for ord_, values in enumerate(rows):
        writer.writerow((ord_, *values))
    buffer.seek(0)
    cursor.copy_expert(f"COPY {STAGING_TABLE} FROM STDIN WITH (FORMAT csv)", buffer)


def insert_from_staging_sql(cursor: Any, constant: dict[str, Any]) -> str:
    """``INSERT INTO customer … SELECT … FROM staging ORDER BY ord RETURNING id, name_normalized``.

    Every column not staged gets ``constant``'s value or the model field's default (as
    ``bulk_create`` would), written once as a typed literal.
    """
    fields = [f for f in Customer._meta.concrete_fields if not f.primary_key]
    staged = set(STAGING_COLUMNS)
    literals = []
    for f in fields:
        if f.attname in staged:
            continue
        value = (
            constant[f.attname] if f.attname in constant else f.get_db_prep_save(f.get_default(), connection)
        )
        literal = cursor.mogrify("%s", [value]).decode()
        literals.append((f.column, f"CAST({literal} AS {f.db_type(connection)})"))
    quote = connection.ops.quote_name
    columns = [quote(cast(models.Field, Customer._meta.get_field(name)).column) for name in STAGING_COLUMNS]
    column_sql = ", ".join([*columns, *(quote(column) for column, _literal in literals)])
    select_sql = ", ".join(
        [*(f"s.{name}" for name in STAGING_COLUMNS), *(literal for _column, literal in literals)]
    )
    return (
        f"INSERT INTO {Customer._meta.db_table} ({column_sql}) "  # noqa: S608 - names from the model
        f"SELECT {select_sql} FROM {STAGING_TABLE} s ORDER BY s.ord RETURNING id, name_normalized"
    ).replace("%", "%%")


def _score(score: Any, row: Row) -> int:
    values = row.values
    return int(score(values["industry"], values["size"], values["source"], LEVEL_DEFAULT))


def _insert_customers(*, rows: list[Row], score: Any, constant: dict[str, Any]) -> list[int]:
    """Insert pooled, scored customers; their ids in the order of ``rows`` (names are unique
    among them)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = Customer.objects.bulk_create(
            Customer(
                **{name: row.values[name] for name in CUSTOMER_FIELDS},
                name_normalized=row.name_key,
                priority_score=_score(score, row),
                **constant,
            )
            for row in rows
        )
        return [customer.pk for customer in created]
    with connection.cursor() as cursor:
        create_staging_table(cursor)
        copy_to_staging(
            cursor,
            [(*(row.values[n] for n in CUSTOMER_FIELDS), row.name_key, _score(score, row)) for row in rows],
        )
        cursor.execute(insert_from_staging_sql(cursor, constant))
        by_name = {name_key: pk for pk, name_key in cursor.fetchall()}
        # Emptied at commit too; this is for callers that run several chunks in one transaction.
        cursor.execute(f"TRUNCATE {STAGING_TABLE}")
    return [by_name[row.name_key] for row in rows]


def _insert_contacts(rows: list[Row], now: Any) -> None:
    Contact.objects.bulk_create(
        Contact(
            customer_id=cast(int, row.customer_id),
            name=row.values["contact_name"],
            title=row.values["contact_title"],
            phone=row.values["contact_phone"],
            email=row.values["contact_email"],
            is_primary=True,
            created_at=now,
        )
        for row in rows
    )


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _run_lock(batch_id: int, *, acquire: bool) -> bool:
    if connection.vendor != "postgresql":
        return True
    function = "pg_try_advisory_lock" if acquire else "pg_advisory_unlock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [RUN_LOCK_CLASS, batch_id])
        return bool(cursor.fetchone()[0])


def run_import(*, batch_id: int) -> ImportBatch:
    """Import a queued (or interrupted) batch, continuing after its watermark.

    Exactly once per row (module docstring), safe to run twice at once (the second returns at
    once). A draft, done or failed batch is left alone. On an exception the batch is ``failed``
    with the row where its chunk began, and the exception is re-raised.
    """
    if not _run_lock(batch_id, acquire=True):
        return ImportBatch.objects.get(pk=batch_id)
    try:
        started = ImportBatch.objects.filter(
            pk=batch_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
        ).update(status=ImportStatus.RUNNING, heartbeat_at=timezone.now())
        batch = ImportBatch.objects.select_related("created_by").get(pk=batch_id)
        if started:
            _run(batch)
            batch.refresh_from_db()
        return batch
    finally:
        _run_lock(batch_id, acquire=False)


def _run(batch: ImportBatch) -> None:
    first_row = batch.last_row + 1
    try:
        if not batch.total_rows:
            with _open_source(batch) as stream:
                records = import_files.records(stream, batch.file_name, batch.encoding)
                next(records, None)
                total = import_files.count_rows(records)
            ImportBatch.objects.filter(pk=batch.pk).update(total_rows=total)
        report = _Report(batch)
        try:
            importer = _Importer(batch=batch, report=report)
            with _open_source(batch) as stream:
                records = import_files.records(stream, batch.file_name, batch.encoding)
                try:
                    next(records, None)
                    rows = import_files.rows(records, batch.mapping, after_row=batch.last_row)
                    for chunk in _chunks(rows, CHUNK_SIZE):
                        first_row = chunk[0].number
                        importer.import_chunk(chunk, last_row=chunk[-1].number)
                finally:
                    records.close()
        finally:
            report.close()
    except BaseException as error:
        message = _("Stopped at row %(row)d: %(error)s") % {"row": first_row, "error": error}
        ImportBatch.objects.filter(pk=batch.pk).update(
            status=ImportStatus.FAILED, finished_at=timezone.now(), error_message=message[:2000]
        )
        raise
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportStatus.DONE, finished_at=timezone.now())


# --- reading the report -----------------------------------------------------------------------


class _CommittedPart(io.RawIOBase):
    """The first ``length`` bytes of a file: the report as its last committed chunk left it.

    A worker killed after a chunk's lines were written but before its commit leaves them in the
    file until the next run cuts it back; readers stop at ``report_bytes`` so they never show
    rows that are not imported. Not seekable and nameless, so a ``FileResponse`` takes its
    length from the caller, not from the file on disk."""

    def __init__(self, raw: IO[bytes], length: int) -> None:
        self._raw, self._left = raw, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)[: self._left]
        count = self._raw.readinto(view) if view.nbytes else 0  # type: ignore[attr-defined]
        self._left -= count
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_report(batch: ImportBatch) -> IO[bytes]:
    """The committed part of the batch's report, to stream (``report_bytes`` long)."""
    return io.BufferedReader(_CommittedPart(batch.report.open("rb"), batch.report_bytes))


def report_preview(batch: ImportBatch, limit: int = PREVIEW_ROWS) -> list[ReportRow]:
    """The first ``limit`` committed rows of the report (streamed)."""
    if not batch.report or not batch.report_bytes:
        return []
    rows: list[ReportRow] = []
    with open_report(batch) as raw:
        reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
        next(reader, None)
        for record in islice(reader, limit):
            number, result, name, customer, reason = record
            rows.append(ReportRow(int(number), result, name, int(customer) if customer else None, reason))
    return rows


def import_customers(*, actor: User, pool_id: int, file: IO[bytes], file_name: str) -> ImportResult:
    """Create and run an import in this process (tests, benchmarks, a shell); the pages and the
    API queue it instead. Same checks and result as :func:`create_import` + :func:`run_import`."""
    batch = _create_batch(
        actor=actor, pool_id=pool_id, file=file, file_name=file_name, mapping=None, validate=True
    )
    batch = run_import(batch_id=batch.pk)
    preview = report_preview(batch)
    return ImportResult(batch=batch, preview=tuple(preview), truncated=batch.processed_rows > len(preview))
