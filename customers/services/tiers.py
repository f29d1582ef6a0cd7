"""Value tiers written in bulk (the nightly tier job of ``metrics.services.tiers``)."""

from collections.abc import Sequence
from typing import Any

from django.db import connection, transaction

from customers.models import (
    Customer,
)


@transaction.atomic
def set_value_tiers(*, tiers_sql: str, params: Sequence[Any]) -> int:
    """Write computed value tiers (``ValueTier``) in one set-based UPDATE; return rows changed.

    ``tiers_sql`` is a SELECT yielding ``(customer_id, tier)`` — the metrics app computes it from
    lifetime value (``metrics.services.tiers``), so this app need not know how. Customers it leaves out
    get no tier (``""``). Only rows whose tier changes are written, so a re-run writes nothing.
    ``updated_at`` is left alone: a nightly recomputation is not an edit. A changed tier may
    change which recycle rule applies (rules can filter on ``value_tier``), so owned rows that
    change are marked ``recycle_policy_stale`` for the public pool to re-match.
    PostgreSQL and SQLite ≥ 3.33 (UPDATE … FROM).
    """
    table = connection.ops.quote_name(Customer._meta.db_table)
    sql = f"""
        UPDATE {table} SET value_tier = wanted.tier,
            recycle_policy_stale = ({table}.recycle_policy_stale OR {table}.owner_id IS NOT NULL)
        FROM (
            SELECT c.id, COALESCE(t.tier, '') AS tier
            FROM {table} c LEFT JOIN ({tiers_sql}) t ON t.customer_id = c.id
        ) wanted
        WHERE wanted.id = {table}.id AND {table}.value_tier <> wanted.tier
    """  # noqa: S608 -- the table name from model metadata; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
