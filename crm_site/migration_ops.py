"""Migration operations that only apply on PostgreSQL.

The embedded default runs on SQLite; search and constraint helpers that only
PostgreSQL has (pg_trgm, triggers) are created there and skipped elsewhere.
"""

from django.db import migrations


class RunSQLOnPostgres(migrations.RunSQL):
    """``RunSQL`` that does nothing on databases other than PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class AppendOnlyTable(RunSQLOnPostgres):
    """Make ``table`` append-only on PostgreSQL: UPDATE, DELETE and TRUNCATE raise.

    A trigger function ``function`` refuses each with ``what`` in its message (SQLSTATE
    restrict_violation). TRUNCATE only passes when the session or database setting
    ``crm.allow_event_truncate`` is ``on`` — what a DBA wiping a database on purpose, and the
    test suite's flush between transactional tests, set first; UPDATE and DELETE have no way
    around. Used by the pool log and the audit log.
    """

    def __init__(self, *, table: str, function: str, trigger_prefix: str, what: str) -> None:
        forwards = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND coalesce(current_setting('crm.allow_event_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION '{what} are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER {trigger_prefix}_append_only_rows
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
CREATE TRIGGER {trigger_prefix}_append_only_truncate
    BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION {function}();
"""
        backwards = f"""
DROP TRIGGER IF EXISTS {trigger_prefix}_append_only_truncate ON {table};
DROP TRIGGER IF EXISTS {trigger_prefix}_append_only_rows ON {table};
DROP FUNCTION IF EXISTS {function}();
"""
        super().__init__(forwards, backwards)
