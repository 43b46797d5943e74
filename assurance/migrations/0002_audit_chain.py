"""Per-tenant hash chain of kernel.audit_events (placeholder: filled by the audit-chain work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("assurance", "0001_initial")]

    operations: list[migrations.operations.base.Operation] = []
