from django.db import migrations

from crm_site.migration_ops import RunSQLOnPostgres

# The pool log is append-only (DESIGN.md, invariant 4): the database refuses UPDATE and DELETE
# of an event row, and TRUNCATE of the table, whoever asks. A DBA wiping a database on purpose
# (and the test suite's flush between transactional tests) sets the session or database setting
# ``crm.allow_event_truncate = on`` first; UPDATE and DELETE have no such way around.
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION public_pool_event_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' AND coalesce(current_setting('crm.allow_event_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'pool events are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER poolevent_append_only_rows
    BEFORE UPDATE OR DELETE ON public_pool_poolevent
    FOR EACH ROW EXECUTE FUNCTION public_pool_event_append_only();
CREATE TRIGGER poolevent_append_only_truncate
    BEFORE TRUNCATE ON public_pool_poolevent
    FOR EACH STATEMENT EXECUTE FUNCTION public_pool_event_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS poolevent_append_only_truncate ON public_pool_poolevent;
DROP TRIGGER IF EXISTS poolevent_append_only_rows ON public_pool_poolevent;
DROP FUNCTION IF EXISTS public_pool_event_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("public_pool", "0002_rules_events_notifications")]

    operations = [RunSQLOnPostgres(APPEND_ONLY, DROP)]
