"""Assurance tables. They live in the kernel schema (routed to the kernel alias)."""

from __future__ import annotations

from django.db import models

from aibos.db.governance import TableGovernance
from aibos.db.models import TenantScopedModel
from aibos.db.roles import KERNEL_ROLE, READ, READONLY_ROLE
from kernel.models import tenant_keys


class SecurityEvent(TenantScopedModel):
    """An attempt the platform refused (a blocked write, read or switch-off), one row each.

    Written in a transaction of its own, on a connection of its own (the refused attempt's
    transaction rolls back, and would take the record with it). The kernel role may INSERT and
    SELECT its own tenant's events (RLS) and nothing else; an append-only trigger refuses UPDATE
    and DELETE for every role, and no role has TRUNCATE. Each insert is also audited.
    """

    kind = models.CharField(max_length=32)  # "blocked_attempt"
    source = models.CharField(max_length=64)  # what saw the attempt: "trust_test"
    name = models.CharField(max_length=120)  # the attempt's name, e.g. "ledger.modify_posted"
    layer = models.CharField(max_length=32)  # what stopped it: RLS, privilege, guard trigger...
    db_role = models.CharField(max_length=63, blank=True)  # the role the attempt ran as
    expected = models.CharField(max_length=120)
    outcome = models.CharField(max_length=200)  # what the database or the API answered
    sqlstate = models.CharField(max_length=5, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    rule = models.CharField(max_length=120, blank=True)  # the constraint or guard rule named
    detail = models.TextField(blank=True)
    tsc = models.JSONField(default=list)  # SOC 2 Trust Services Criteria ids
    actor = models.CharField(max_length=200)
    correlation_id = models.CharField(max_length=64)  # the run

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."security_events'
        constraints = [
            *tenant_keys("kernel_securityevent"),
            TableGovernance(
                name="kernel_securityevent",
                grants={KERNEL_ROLE: ("SELECT", "INSERT"), READONLY_ROLE: READ},
                append_only=True,
                touch=False,
            ),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "correlation_id"], name="kernel_secevent_run_idx"),
            models.Index(fields=["tenant_id", "-created_at"], name="kernel_secevent_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.outcome})"
