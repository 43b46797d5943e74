from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True
    dependencies = [("finance", "0011_ledger_fail_closed")]

    operations = [
        migrations.CreateModel(
            name="ProbeInvoice",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
                ("amount", models.DecimalField(max_digits=19, decimal_places=4)),
            ],
            options={"db_table": 'finance"."guardian_probe_invoices'},
        ),
    ]
