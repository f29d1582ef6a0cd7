from django.db import migrations

from crm_site.migration_ops import RunSQLOnPostgres

FOLLOWUP_SORT_INDEXES = {
    "cust_owner_followup": "owner_id, last_followup_at ASC NULLS FIRST, id",
    "cust_team_followup": "team_id, last_followup_at ASC NULLS FIRST, id",
    "cust_followup": "last_followup_at ASC NULLS FIRST, id",
}


class Migration(migrations.Migration):
    """PostgreSQL-only indexes.

    - Trigram GIN on ``UPPER(name)``: Django compiles ``name__icontains`` to
      ``UPPER(name) LIKE UPPER('%q%')``, which this index serves at a million rows.
    - "Longest without a follow-up first" per scope: NULLS FIRST, which SQLite cannot index.
    """

    dependencies = [("customers", "0002_initial")]

    operations = [
        RunSQLOnPostgres("CREATE EXTENSION IF NOT EXISTS pg_trgm", migrations.RunSQL.noop),
        RunSQLOnPostgres(
            "CREATE INDEX IF NOT EXISTS cust_name_trgm ON customers_customer USING gin (UPPER(name) gin_trgm_ops)",
            "DROP INDEX IF EXISTS cust_name_trgm",
        ),
        *(
            RunSQLOnPostgres(
                f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer ({columns})",
                f"DROP INDEX IF EXISTS {name}",
            )
            for name, columns in FOLLOWUP_SORT_INDEXES.items()
        ),
    ]
