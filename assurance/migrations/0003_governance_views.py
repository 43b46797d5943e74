"""Governance views and the monitor role's grants (placeholder: filled by the views work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("assurance", "0002_audit_chain")]

    operations: list[migrations.operations.base.Operation] = []
