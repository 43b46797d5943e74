"""The double-entry ledger: entries, lines and the per-company posting counter."""

from __future__ import annotations

import pgtrigger
from django.db import models

from aibos.db.governance import TableGovernance, TenantForeignKey
from aibos.db.models import TenantScopedModel, same_tenant_fk
from aibos.db.triggers import GuardTrigger
from finance import triggers
from finance.models.companies import Account, Company, FxRate
from finance.models.fields import CURRENCY_FORMAT, MONEY, RATE, currency_field, finance_grants


class JournalEntryStatus(models.TextChoices):
    """A draft may change and be unbalanced; a posted entry is balanced, numbered and final."""

    DRAFT = "DRAFT"
    POSTED = "POSTED"


# The columns of a journal entry the finance role may UPDATE (column privileges).
ENTRY_UPDATABLE = ("status", "entry_date", "reference", "memo")


class JournalEntry(TenantScopedModel):
    """DRAFT (editable, may be unbalanced) -> POSTED (balanced, numbered, final).

    An entry is posted either by inserting it as POSTED together with its lines in one statement
    (``finance.journal_entry_create``) or by an UPDATE of a draft's ``status``; either way the
    database checks balance, lock date, accounts, FX and reversal exactness, assigns
    ``posting_seq``, ``posted_at`` and ``posted_by``, and updates the account balances
    (``finance/triggers/``). ``line_count`` is the number of lines, kept by the database.
    """

    Status = JournalEntryStatus

    company = same_tenant_fk(Company, related_name="journal_entries", on_delete=models.PROTECT)
    entry_date = models.DateField()
    reference = models.CharField(max_length=100, blank=True)
    memo = models.TextField(blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    posting_seq = models.BigIntegerField(null=True, blank=True, editable=False)
    posted_at = models.DateTimeField(null=True, blank=True, editable=False)
    posted_by = models.CharField(max_length=80, blank=True, editable=False)
    # Kept by the database (the line triggers); a posting is checked against it.
    line_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    reversal_of = same_tenant_fk(
        "self", related_name="reversals", on_delete=models.PROTECT, null=True
    )
    created_by = models.CharField(max_length=80, blank=True, editable=False)
    # NULL, not '': entries without a key must not collide on the unique key.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True, editable=False
    )
    # SHA-256 of the canonical request, and the request itself to name differing fields.
    request_hash = models.CharField(max_length=64, blank=True, editable=False)
    request_payload = models.JSONField(null=True, blank=True, editable=False)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."journal_entries'
        verbose_name_plural = "journal entries"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_journalentry_tenant_key"
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "company", "posting_seq"],
                name="finance_journalentry_seq_unique",
            ),
            # At most one reversal per entry.
            models.UniqueConstraint(
                fields=["tenant_id", "reversal_of"], name="finance_journalentry_one_reversal"
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "idempotency_key"],
                name="finance_journalentry_idempotency_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=JournalEntryStatus.values),
                name="finance_journalentry_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status="POSTED", posting_seq__isnull=False, posted_at__isnull=False
                )
                | models.Q(status="DRAFT", posting_seq__isnull=True, posted_at__isnull=True),
                name="finance_journalentry_posting_fields",
            ),
            models.CheckConstraint(
                condition=~models.Q(reversal_of=models.F("id")),
                name="finance_journalentry_not_self_reversal",
            ),
            TenantForeignKey(
                name="finance_journalentry_company_fk", column="company_id", to="finance.Company"
            ),
            TenantForeignKey(
                name="finance_journalentry_reversal_fk",
                column="reversal_of_id",
                to="finance.JournalEntry",
            ),
            # Inserts are audited by finance_journalentry_check_insert: a posted entry's event
            # carries its lines. UPDATE only of what a draft's author may change and of its
            # status (posting): the posting fields are the guard's, `line_count` the line
            # triggers' (they run as the owner), the request and its author are history.
            TableGovernance(
                name="finance_journalentry",
                grants=finance_grants(
                    "SELECT",
                    "INSERT",
                    "DELETE",
                    f"UPDATE ({', '.join(ENTRY_UPDATABLE)})",
                ),
                audit_operations=("UPDATE", "DELETE"),
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "company", "-created_at", "-id"],
                name="finance_entry_list_idx",
            ),
            models.Index(
                fields=["tenant_id", "-created_at", "-id"], name="finance_entry_recent_idx"
            ),
            # The list filtered by status (alone or with a company) reads in list order too:
            # a rare status must not mean walking the whole tenant to fill a page.
            models.Index(
                fields=["tenant_id", "status", "-created_at", "-id"],
                name="finance_entry_status_idx",
            ),
            models.Index(
                fields=["tenant_id", "company", "status", "-created_at", "-id"],
                name="finance_entry_co_status_idx",
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_journalentry_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=triggers.ENTRY_GUARD_DECLARE,
                func=triggers.entry_guard,
                security_definer=True,
            ),
            GuardTrigger(
                name="finance_journalentry_check_insert",
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                declare=triggers.ENTRY_CHECK_DECLARE,
                func=triggers.entry_check,
                security_definer=True,
            ),
            GuardTrigger(
                name="finance_journalentry_check_update",
                when=pgtrigger.After,
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__status="DRAFT", new__status="POSTED"),
                declare=triggers.ENTRY_CHECK_DECLARE,
                func=triggers.entry_check,
                security_definer=True,
            ),
            triggers.refuse_truncate("finance_journalentry_truncate", "journal entry"),
        ]

    def __str__(self) -> str:
        number = f"#{self.posting_seq}" if self.posting_seq else "draft"
        return f"{self.entry_date} {number} {self.reference}".strip()


class JournalLine(TenantScopedModel):
    """One side of an entry. ``debit``/``credit`` are in the company currency (exactly one is
    positive); ``txn_amount`` is the same amount in the line's (= the account's) currency, and
    ``fx_rate`` the rate that converted it (1 when the currencies are the same)."""

    entry = same_tenant_fk(JournalEntry, related_name="lines", on_delete=models.PROTECT)
    # Presentation order within the entry (not a key: raw inserts may leave it 0).
    line_no = models.PositiveIntegerField(default=0, db_default=0)
    account = same_tenant_fk(Account, related_name="lines", on_delete=models.PROTECT)
    debit = models.DecimalField(**MONEY, default=0)
    credit = models.DecimalField(**MONEY, default=0)
    currency = currency_field()
    txn_amount = models.DecimalField(**MONEY)
    fx_rate = same_tenant_fk(FxRate, related_name="lines", on_delete=models.PROTECT, null=True)
    fx_rate_value = models.DecimalField(**RATE, default=1, db_column="fx_rate")
    memo = models.CharField(max_length=255, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."journal_lines'
        ordering = ["line_no", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_journalline_tenant_key"
            ),
            models.CheckConstraint(
                condition=models.Q(debit__gte=0, credit__gte=0)
                & (models.Q(debit__gt=0, credit=0) | models.Q(debit=0, credit__gt=0)),
                name="finance_journalline_one_side",
            ),
            models.CheckConstraint(
                condition=models.Q(txn_amount__gt=0), name="finance_journalline_txn_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(fx_rate_value__gt=0), name="finance_journalline_rate_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_FORMAT),
                name="finance_journalline_currency_format",
            ),
            TenantForeignKey(
                name="finance_journalline_entry_fk", column="entry_id", to="finance.JournalEntry"
            ),
            TenantForeignKey(
                name="finance_journalline_account_fk", column="account_id", to="finance.Account"
            ),
            TenantForeignKey(
                name="finance_journalline_fxrate_fk", column="fx_rate_id", to="finance.FxRate"
            ),
            # Draft lines are replaced (DELETE + INSERT), never edited: no UPDATE privilege.
            # Inserts are audited by finance_journalline_added (or with their posted entry).
            TableGovernance(
                name="finance_journalline",
                grants=finance_grants("SELECT", "INSERT", "DELETE"),
                touch=False,
                audit_operations=("UPDATE", "DELETE"),
            ),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "entry"], name="finance_line_entry_idx"),
            models.Index(fields=["tenant_id", "account"], name="finance_line_account_idx"),
            models.Index(fields=["tenant_id", "fx_rate"], name="finance_line_fxrate_idx"),
        ]
        triggers = [
            GuardTrigger(
                name="finance_journalline_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                declare=[("v_status", "text")],
                func=triggers.line_guard,
            ),
            GuardTrigger(
                name="finance_journalline_added",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Insert,
                referencing=pgtrigger.Referencing(new="new_lines"),
                declare=triggers.LINES_ADDED_DECLARE,
                func=triggers.lines_added,
                security_definer=True,
            ),
            GuardTrigger(
                name="finance_journalline_removed",
                level=pgtrigger.Statement,
                when=pgtrigger.After,
                operation=pgtrigger.Delete,
                referencing=pgtrigger.Referencing(old="old_lines"),
                declare=[("v_updated", "bigint")],
                func=triggers.lines_removed,
                security_definer=True,
            ),
            triggers.refuse_truncate("finance_journalline_truncate", "journal line"),
        ]


class PostingSequence(TenantScopedModel):
    """The last posting number per company; written only by the posting trigger."""

    company = same_tenant_fk(Company, related_name="+", on_delete=models.PROTECT)
    last_seq = models.BigIntegerField()

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."posting_sequences'
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "company"], name="finance_postingsequence_company_unique"
            ),
            TenantForeignKey(
                name="finance_postingsequence_company_fk",
                column="company_id",
                to="finance.Company",
            ),
            TableGovernance(
                name="finance_postingsequence",
                grants=finance_grants("SELECT"),
                audit=None,
                touch=False,
            ),
        ]
