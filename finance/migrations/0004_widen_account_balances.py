# Running balances widened to NUMERIC(38,4) so that no sequence of accepted postings can
# overflow them (finance/limits.py). Depends on 0002 only: 0003 is being written in parallel
# and the dependency is rewired when both land.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0002_ledger_payments"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accountbalance",
            name=field,
            field=models.DecimalField(decimal_places=4, default=0, max_digits=38),
        )
        for field in ("credit_total", "debit_total", "txn_balance")
    ]
