from django.db import migrations

PREDICATE = "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"


class Migration(migrations.Migration):
    initial = True
    dependencies = [("finance", "0011_ledger_fail_closed")]

    operations = [
        migrations.RunSQL(
            sql=f"""
            CREATE TABLE finance.guardian_probe_notes (
              id uuid PRIMARY KEY, tenant_id uuid NOT NULL,
              created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
              remind_at timestamp
            );
            CREATE INDEX guardian_probe_notes_tenant ON finance.guardian_probe_notes (tenant_id, created_at);
            REVOKE ALL ON finance.guardian_probe_notes FROM PUBLIC;
            ALTER TABLE finance.guardian_probe_notes ENABLE ROW LEVEL SECURITY;
            ALTER TABLE finance.guardian_probe_notes FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON finance.guardian_probe_notes
              USING ({PREDICATE}) WITH CHECK ({PREDICATE});
            """,
            reverse_sql="DROP TABLE finance.guardian_probe_notes",
        ),
    ]
