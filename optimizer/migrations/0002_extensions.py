"""HypoPG (what-if indexes) and pg_stat_statements, created where the server offers them.

Neither is required: without HypoPG the optimizer proves no index and says so; without
pg_stat_statements it reads the in-process capture only. So this migration creates each
extension only when it can (HypoPG when pg_available_extensions lists it, pg_stat_statements
when it is also in shared_preload_libraries, without which it cannot be queried) and never
drops them on the way back: other tools may use them too. `optimizer_report` says what is
missing and how to get it.
"""

from __future__ import annotations

from django.db import migrations

CREATE_IF_AVAILABLE = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg') THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS hypopg;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'hypopg is available but % may not create it; ask a superuser', current_user;
    END;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_stat_statements')
     AND 'pg_stat_statements' = ANY(string_to_array(
           replace(current_setting('shared_preload_libraries'), ' ', ''), ',')) THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE WARNING 'pg_stat_statements is loaded but % may not create it', current_user;
    END;
  END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("optimizer", "0001_initial")]

    operations = [migrations.RunSQL(CREATE_IF_AVAILABLE, reverse_sql=migrations.RunSQL.noop)]
