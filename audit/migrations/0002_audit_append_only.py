from django.db import migrations

from crm_site.migration_ops import RunSQLOnPostgres

# Append-only like the pool event log (public_pool 0003): UPDATE and DELETE of an entry are
# refused whoever asks; TRUNCATE only when the session says it is deliberate (the same setting
# ``crm.allow_event_truncate`` a DBA or the test suite's flush uses for the pool log).
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND coalesce(current_setting('crm.allow_event_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit entries are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER auditentry_append_only_rows
    BEFORE UPDATE OR DELETE ON audit_auditentry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only();
CREATE TRIGGER auditentry_append_only_truncate
    BEFORE TRUNCATE ON audit_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS auditentry_append_only_truncate ON audit_auditentry;
DROP TRIGGER IF EXISTS auditentry_append_only_rows ON audit_auditentry;
DROP FUNCTION IF EXISTS audit_entry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_entry")]

    operations = [RunSQLOnPostgres(APPEND_ONLY, DROP)]
