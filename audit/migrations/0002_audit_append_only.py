from django.db import migrations

from crm_site.migration_ops import AppendOnlyTable

# Append-only like the pool event log (public_pool 0003), by the same operation.


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_audit_entry")]

    operations = [
        AppendOnlyTable(
            table="audit_auditentry",
            function="audit_entry_append_only",
            trigger_prefix="auditentry",
            what="audit entries",
        )
    ]
