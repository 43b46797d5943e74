from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("finance", "0011_ledger_fail_closed")]

    operations = [
        migrations.CreateModel(
            name="ProbeTag",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("tenant_id", models.UUIDField()),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("code", models.CharField(max_length=20)),
            ],
            options={
                "db_table": 'finance"."guardian_probe_tags',
                "unique_together": {("tenant_id", "code")},
            },
        ),
    ]
