"""The audit sealer walks kernel.audit_events in (txid, id) order (assurance.chain.sealer)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kernel", "0006_audit_record"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(fields=["txid", "id"], name="kernel_auditevent_seal_idx"),
        ),
    ]
