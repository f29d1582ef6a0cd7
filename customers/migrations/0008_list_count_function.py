from django.db import migrations

from crm_site.migration_ops import RunSQLOnPostgres

# One round trip for a list's count (customers.pagination): the planner's estimate of the
# query's rows; an exact count when that is at most ``exact_up_to``, else the estimate.
LIST_COUNT = """
CREATE OR REPLACE FUNCTION crm_list_count(query text, exact_up_to bigint, OUT total bigint, OUT estimated boolean)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  plan json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || query INTO plan;
  total := (plan -> 0 -> 'Plan' ->> 'Plan Rows')::bigint;
  estimated := total > exact_up_to;
  IF NOT estimated THEN
    EXECUTE 'SELECT count(*) FROM (' || query || ') AS counted' INTO total;
  END IF;
END
$$
"""


class Migration(migrations.Migration):
    """``crm_list_count(query, exact_up_to)``: see ``customers.pagination`` (PostgreSQL only)."""

    dependencies = [("customers", "0007_rule_recycle_due_index")]

    operations = [
        RunSQLOnPostgres(LIST_COUNT, "DROP FUNCTION IF EXISTS crm_list_count(text, bigint)"),
    ]
