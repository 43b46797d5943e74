"""Security events of blocked attempts: kernel.security_events (tenant-scoped, forced RLS,
append-only; the kernel role may INSERT and SELECT, the readonly role SELECT; every insert is
audited). Written by the Trust Test in a transaction of its own, so it survives the rolled-back
attempt it records."""

import uuid

import django.contrib.postgres.functions
from django.db import migrations, models

import aibos.db.governance


class Migration(migrations.Migration):
    dependencies = [("assurance", "0003_governance_views")]

    operations = [
        migrations.CreateModel(
            name="SecurityEvent",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        db_default=django.contrib.postgres.functions.RandomUUID(),
                        default=uuid.uuid4,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        db_default=django.contrib.postgres.functions.TransactionNow(),
                        editable=False,
                    ),
                ),
                (
                    "updated_at",
                    models.DateTimeField(
                        db_default=django.contrib.postgres.functions.TransactionNow(),
                        editable=False,
                    ),
                ),
                ("tenant_id", models.UUIDField(editable=False)),
                ("kind", models.CharField(max_length=32)),
                ("source", models.CharField(max_length=64)),
                ("name", models.CharField(max_length=120)),
                ("layer", models.CharField(max_length=32)),
                ("db_role", models.CharField(blank=True, max_length=63)),
                ("expected", models.CharField(max_length=120)),
                ("outcome", models.CharField(max_length=200)),
                ("sqlstate", models.CharField(blank=True, max_length=5)),
                ("http_status", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("rule", models.CharField(blank=True, max_length=120)),
                ("detail", models.TextField(blank=True)),
                ("tsc", models.JSONField(default=list)),
                ("actor", models.CharField(max_length=200)),
                ("correlation_id", models.CharField(max_length=64)),
            ],
            options={
                "db_table": 'kernel"."security_events',
                "abstract": False,
                "base_manager_name": "objects",
                "default_manager_name": "objects",
                "indexes": [
                    models.Index(
                        fields=["tenant_id", "correlation_id"], name="kernel_secevent_run_idx"
                    ),
                    models.Index(
                        fields=["tenant_id", "-created_at"], name="kernel_secevent_recent_idx"
                    ),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("tenant_id", "id"), name="kernel_securityevent_tenant_key"
                    ),
                    aibos.db.governance.TenantRegistryKey(name="kernel_securityevent_tenant_fk"),
                    aibos.db.governance.TableGovernance(
                        append_only=True,
                        audit="tenant_id",
                        grants={
                            "aibos_kernel_role": ["SELECT", "INSERT"],
                            "aibos_readonly": ["SELECT"],
                        },
                        name="kernel_securityevent",
                        predicate=(
                            "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), "
                            "'')::uuid)"
                        ),
                        rls="tenant",
                        touch=False,
                    ),
                ],
            },
        ),
    ]
