"""Security events of blocked attempts (placeholder: filled by the Trust Test work)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("assurance", "0003_governance_views")]

    operations: list[migrations.operations.base.Operation] = []
