"""Reads that may come from a read replica, and nothing else.

With ``DATABASE_REPLICA_URL`` set (``settings.READ_REPLICA_ALIAS``), the reads of dashboards,
reports and CSV exports go to the ``replica`` alias, a streaming standby of the primary. A
replica lags its primary by a fraction of a second to a few seconds, so the choice is explicit,
per block of code, never per model:

- ``with replica_reads():`` (or ``@replica_reads()`` on a view, *under* ``login_required``, so
  that the session and the user are read from the primary first) routes every read inside the
  block to the replica. The dashboard page and its CSV tables, the KPI API, the scorecard page
  and its CSV use it: figures of closed days and of the day so far, where a second's lag does
  not matter.
- ``queryset.using(replica_alias())`` pins one queryset: the streamed CSV exports (customers,
  audit log) use it, because their rows are read while the response streams, after the view
  (and any ``with`` block) has returned.
- raw SQL bypasses routers: the KPI and roll-up selectors take their cursor from
  ``read_connection()``, which follows the block.

Everything else reads from ``default``: claims, releases, assignments, imports, forms and their
redirects, sign-in and sessions, and whatever a request reads after writing. Writes always go
to ``default`` (a standby refuses them anyway), and migrations run there only.

Without a replica ``replica_alias()`` is ``"default"`` and the block changes nothing.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)


def replica_alias() -> str:
    """The alias report reads use: the replica when one is configured, else ``default``."""
    return getattr(settings, "READ_REPLICA_ALIAS", None) or DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    """Route the reads inside the block to the replica (a no-op without one). Works as a
    decorator too (``ContextDecorator``). Never wrap code that writes and reads back."""
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


class ReplicaRouter:
    """``db_for_read``: the replica inside :func:`replica_reads`, else no opinion (``default``,
    or the instance's own database for related objects). Writes and migrations: ``default``."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if _replica_reads.get():
            return replica_alias()
        return None

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True  # the replica holds the same rows as the primary

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection a raw-SQL read uses (a cursor bypasses the router): the replica inside
    :func:`replica_reads`, else ``default``. For reads only: KPI and roll-up selectors."""
    return connections[replica_alias() if _replica_reads.get() else DEFAULT_DB_ALIAS]
