from django.db import migrations

from crm_site.migration_ops import AppendOnlyTable

# The pool log is append-only, the history every KPI is read from: the database refuses
# UPDATE and DELETE of an event row, and TRUNCATE of the table, whoever asks (see
# AppendOnlyTable for the one way a deliberate wipe passes).


class Migration(migrations.Migration):
    dependencies = [("public_pool", "0002_rules_events_notifications")]

    operations = [
        AppendOnlyTable(
            table="public_pool_poolevent",
            function="public_pool_event_append_only",
            trigger_prefix="poolevent",
            what="pool events",
        )
    ]
