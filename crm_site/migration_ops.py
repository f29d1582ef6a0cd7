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
