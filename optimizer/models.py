"""Recommendations of the Query Optimizer, and the approvals and applies of index ones.

A recommendation is about the schema and the workload, not about one tenant's rows: one row
serves the whole platform, so the table is global (no tenant_id, no RLS; docs/data-model.md).
It lives in the kernel schema and is written through the kernel role; every change is audited
by the database trigger, approvals included. The rules that make an approval mean something
are CHECK constraints, so they hold for any writer, not only for the service:

- the approver is never the requester;
- an index is applied in production only with an approval;
- only index recommendations are ever approved or applied: query rewrites, pagination and
  partitioning are changes to code, made by people.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q

from aibos.db.governance import TableGovernance
from aibos.db.models import GovernedModel
from aibos.db.roles import KERNEL_ROLE, READ, READONLY_ROLE

INDEX_RULE = "optimizer.missing_index"
REMOVE_RULE = "optimizer.unused_index"
STATUSES = ["open", "approved", "applied", "removal_proposed", "dismissed"]


class Recommendation(GovernedModel):
    class Status(models.TextChoices):
        OPEN = "open"
        APPROVED = "approved"
        APPLIED = "applied"
        # Applied, then unused for OPTIMIZER_UNUSED_DAYS: dropping it is proposed.
        REMOVAL_PROPOSED = "removal_proposed"
        DISMISSED = "dismissed"

    class Environment(models.TextChoices):
        DEVELOPMENT = "development"
        PRODUCTION = "production"

    rule = models.CharField(max_length=64)  # optimizer.missing_index, optimizer.n_plus_one, ...
    key = models.CharField(max_length=64, unique=True)  # the finding's stable identity
    level = models.CharField(max_length=16, default="warning")
    title = models.CharField(max_length=300)
    message = models.TextField()
    table_name = models.CharField(max_length=130, blank=True)
    location = models.CharField(max_length=300, blank=True)  # file:line in function
    ddl = models.TextField(blank=True)
    migration = models.TextField(blank=True)
    snippet = models.TextField(blank=True)
    index_name = models.CharField(max_length=63, blank=True)
    # Plans before and after, costs, workload weight, size: what the suggestion rests on.
    evidence = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    last_seen_at = models.DateTimeField()
    requested_by = models.CharField(max_length=200)  # actor label of the run that found it
    approved_by = models.CharField(max_length=200, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    applied_by = models.CharField(max_length=200, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    applied_in = models.CharField(max_length=16, choices=Environment.choices, blank=True)
    # pg_stat_user_indexes.idx_scan when applied and when last checked.
    idx_scan_at_apply = models.BigIntegerField(null=True, blank=True)
    idx_scan_last = models.BigIntegerField(null=True, blank=True)
    usage_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = 'kernel"."optimizer_recommendations'
        ordering = ["status", "-last_seen_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=STATUSES),
                name="optimizer_recommendation_status_valid",
            ),
            # Maker-checker: the approval of a change is someone else's.
            models.CheckConstraint(
                condition=Q(approved_by="") | ~Q(approved_by=F("requested_by")),
                name="optimizer_recommendation_approver_not_requester",
            ),
            models.CheckConstraint(
                condition=Q(approved_by="") | Q(approved_at__isnull=False),
                name="optimizer_recommendation_approval_dated",
            ),
            models.CheckConstraint(
                condition=~Q(applied_in="production") | ~Q(approved_by=""),
                name="optimizer_recommendation_production_needs_approval",
            ),
            models.CheckConstraint(
                condition=Q(rule=INDEX_RULE)
                | Q(status__in=["open", "dismissed", "removal_proposed"]),
                name="optimizer_recommendation_only_indexes_applied",
            ),
            TableGovernance(
                name="optimizer_recommendation",
                grants={KERNEL_ROLE: ("SELECT", "INSERT", "UPDATE"), READONLY_ROLE: READ},
                rls=None,
                audit="",
            ),
        ]
        indexes = [models.Index(fields=["status", "rule"], name="optimizer_rec_status_idx")]

    def __str__(self) -> str:
        return self.title
