"""Reading a long query a chunk at a time, with or without PgBouncer in front.

The streamed CSV exports (customers, the pool log, the audit log) may read a million rows. Their
memory stays bounded only if the rows come from a server-side cursor, ``chunk_size`` at a time.

Django's ``.iterator()`` opens one unless the connection has ``DISABLE_SERVER_SIDE_CURSORS``,
which a deployment behind PgBouncer in transaction mode must set (``DJANGO_DB_TRANSACTION_POOLING``,
docs/DEPLOY.md): outside a transaction Django declares the cursor ``WITH HOLD`` in one
transaction and fetches from it in the next, which PgBouncer may send to another server
connection. With the option on, ``.iterator()`` silently reads the whole result on the client
(psycopg2 keeps it all in libpq's buffer), so a 1,000,000-row export held every row in the web
process.

:func:`stream` keeps the cursor on the server in both cases. On PostgreSQL it opens a transaction
on the queryset's database for the length of the read and declares the cursor inside it
(``WITHOUT HOLD``, as Django does inside ``atomic()``): PgBouncer gives a client the same server
connection until its transaction ends, and the cursor ends with the transaction. This is what
Django's documentation recommends for transaction pooling ("wrap each QuerySet using
server-side cursors in an atomic() block"); since the connection option also turns
``.iterator()``'s cursor off inside ``atomic()``, the chunked iterable is built here with
``chunked_fetch`` on. The same path serves a direct connection, where ``.iterator()``'s
``WITH HOLD`` cursor would first materialise the whole result on the server. The transaction
also sets ``cursor_tuple_fraction`` to 1: PostgreSQL plans a cursor for its first 10 % by
default, and an export reads all of it (the admin's 1,000,000 customers: 54 s → 40 s,
``python -m bench.exports``). On SQLite (the embedded default) it is ``.iterator()``.

For reads only, and only where holding one pooled server connection for the whole read is
acceptable (an export: one per download). The periodic jobs do not use it: they commit as they
go, which a transaction around the read would prevent.
"""

from collections.abc import Generator, Iterable
from typing import Any, cast

from django.db import connections, transaction
from django.db.models import QuerySet


def stream(queryset: QuerySet[Any], *, chunk_size: int) -> Generator[Any]:
    """The rows of ``queryset`` (instances, dicts or tuples, as it yields them) read from a
    server-side cursor ``chunk_size`` rows at a time, also behind PgBouncer in transaction mode.

    Not for querysets with ``prefetch_related`` (a server-side cursor cannot prefetch per chunk
    here): join what the rows need with ``select_related`` or annotations instead.
    """
    if queryset._prefetch_related_lookups:  # type: ignore[attr-defined]
        raise ValueError("stream() does not prefetch: use select_related or annotations")
    alias = queryset.db
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield from queryset.iterator(chunk_size=chunk_size)
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            # Every row will be read: plan for the whole result, not the first 10 % of it.
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        # What QuerySet.iterator() builds, with the server-side cursor it would refuse here.
        rows = queryset._iterable_class(queryset, chunked_fetch=True, chunk_size=chunk_size)
        yield from cast(Iterable[Any], rows)
