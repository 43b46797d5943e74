"""Anchor of the assurance app's migrations: its objects live in the kernel and finance schemas."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("kernel", "0006_audit_record"), ("finance", "0011_ledger_fail_closed")]

    operations: list[migrations.operations.base.Operation] = []
