# Running balances widened to NUMERIC(38,4) so that no sequence of accepted postings can
# overflow them (finance/limits.py).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("finance", "0003_approval_proofs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="accountbalance",
            name=field,
            field=models.DecimalField(decimal_places=4, default=0, max_digits=38),
        )
        for field in ("credit_total", "debit_total", "txn_balance")
    ]
