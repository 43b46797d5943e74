"""Legal entities, their chart of accounts, bank accounts, FX rates and documents."""

from __future__ import annotations

import pgtrigger
from django.db import models

from aibos.db.governance import TableGovernance, TenantForeignKey
from aibos.db.models import SoftDeleteMixin, TenantScopedModel, VersionedMixin, same_tenant_fk
from aibos.db.triggers import GuardTrigger
from finance import triggers
from finance.models.fields import (
    BALANCE,
    CURRENCY_FORMAT,
    FINANCE_GRANTS,
    RATE,
    currency_field,
    finance_grants,
)


class Company(TenantScopedModel, VersionedMixin, SoftDeleteMixin):
    """A legal entity within a tenant.

    Lock dates: nothing posts on or before ``GREATEST(soft_lock_date, hard_lock_date)``. The soft
    lock may move either way (re-opening a period is an audited change); the hard lock only
    moves forward, enforced by the database.
    """

    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    base_currency = currency_field()
    soft_lock_date = models.DateField(null=True, blank=True)
    hard_lock_date = models.DateField(null=True, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."companies'
        verbose_name_plural = "companies"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "id"], name="finance_company_tenant_key"),
            models.UniqueConstraint(
                fields=["tenant_id", "code"], name="finance_company_code_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(base_currency__regex=r"^[A-Z]{3}$"),
                name="finance_company_currency_format",
            ),
            TableGovernance(name="finance_company", grants=FINANCE_GRANTS, versioned=True),
        ]
        # The list's key order (code, id): each page is one index range, nothing sorted.
        indexes = [
            models.Index(fields=["tenant_id", "code", "id"], name="finance_company_list_idx"),
        ]
        triggers = [
            GuardTrigger(
                name="finance_company_lock_dates",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                func=triggers.company_lock_dates,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Account(TenantScopedModel, VersionedMixin):
    class Type(models.TextChoices):
        ASSET = "asset"
        LIABILITY = "liability"
        EQUITY = "equity"
        INCOME = "income"
        EXPENSE = "expense"

    company = same_tenant_fk(Company, related_name="accounts", on_delete=models.PROTECT)
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=Type.choices)
    # Every line on the account is in this currency (checked when an entry posts).
    currency = currency_field()
    parent = same_tenant_fk("self", related_name="children", on_delete=models.PROTECT, null=True)
    is_active = models.BooleanField(default=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."accounts'
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "id"], name="finance_account_tenant_key"),
            models.UniqueConstraint(
                fields=["tenant_id", "company", "code"], name="finance_account_code_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(type__in=["asset", "liability", "equity", "income", "expense"]),
                name="finance_account_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_FORMAT),
                name="finance_account_currency_format",
            ),
            TenantForeignKey(
                name="finance_account_company_fk", column="company_id", to="finance.Company"
            ),
            TenantForeignKey(
                name="finance_account_parent_fk", column="parent_id", to="finance.Account"
            ),
            TableGovernance(name="finance_account", grants=FINANCE_GRANTS, versioned=True),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "parent"], name="finance_account_parent_idx"),
            # The list's key order (code, id), for the whole chart and for one company's.
            models.Index(fields=["tenant_id", "code", "id"], name="finance_account_list_idx"),
            models.Index(
                fields=["tenant_id", "company", "code", "id"], name="finance_account_co_list_idx"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_account_fixed_once_used",
                when=pgtrigger.Before,
                operation=pgtrigger.Update,
                func=triggers.account_fixed_once_used,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.currency})"


class AccountBalance(TenantScopedModel):
    """Running totals per account, maintained by the posting trigger only (read-only for the
    runtime role), so a balance is one indexed row read whatever the number of lines.

    Derived data: ``manage.py ledger_reconcile`` recomputes it from the posted lines. Not
    audited: every change is the consequence of an audited posting.
    """

    account = same_tenant_fk(Account, related_name="+", on_delete=models.PROTECT)
    company = same_tenant_fk(Company, related_name="+", on_delete=models.PROTECT)
    debit_total = models.DecimalField(**BALANCE, default=0)
    credit_total = models.DecimalField(**BALANCE, default=0)
    # Signed (debit positive), in the account's currency.
    txn_balance = models.DecimalField(**BALANCE, default=0)
    line_count = models.BigIntegerField(default=0)
    version = models.BigIntegerField(default=1, db_default=1)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."account_balances'
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "account"], name="finance_accountbalance_account_unique"
            ),
            TenantForeignKey(
                name="finance_accountbalance_account_fk",
                column="account_id",
                to="finance.Account",
            ),
            TenantForeignKey(
                name="finance_accountbalance_company_fk",
                column="company_id",
                to="finance.Company",
            ),
            TableGovernance(
                name="finance_accountbalance",
                grants=finance_grants("SELECT"),
                audit=None,
                touch=False,
            ),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "company"], name="finance_accountbalance_co_idx"),
        ]


class BankAccount(TenantScopedModel, VersionedMixin):
    company = same_tenant_fk(Company, related_name="bank_accounts", on_delete=models.PROTECT)
    name = models.CharField(max_length=200)
    bank_code = models.CharField(max_length=32, help_text="BIC / sort code / routing number")
    account_number = models.CharField(max_length=64)
    currency = currency_field()
    ledger_account = same_tenant_fk(Account, related_name="bank_accounts", on_delete=models.PROTECT)
    is_active = models.BooleanField(default=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."bank_accounts'
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_bankaccount_tenant_key"
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "company", "bank_code", "account_number"],
                name="finance_bankaccount_number_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_FORMAT),
                name="finance_bankaccount_currency_format",
            ),
            TenantForeignKey(
                name="finance_bankaccount_company_fk", column="company_id", to="finance.Company"
            ),
            TenantForeignKey(
                name="finance_bankaccount_ledger_fk",
                column="ledger_account_id",
                to="finance.Account",
            ),
            TableGovernance(name="finance_bankaccount", grants=FINANCE_GRANTS, versioned=True),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "ledger_account"], name="finance_bankaccount_ledger_idx"
            ),
            models.Index(
                fields=["tenant_id", "-created_at", "-id"], name="finance_bankaccount_list_idx"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_bankaccount_ledger_match",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=triggers.bank_account_ledger_match,
            ),
        ]

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.account_number)

    def __str__(self) -> str:
        return f"{self.name} {self.masked_number} ({self.currency})"


def mask_account_number(number: str) -> str:
    """Lists show the last four characters only."""
    return "•" * max(len(number) - 4, 0) + number[-4:]


class FxRate(TenantScopedModel):
    """Units of ``quote`` per one ``base``, valid on [valid_from, valid_to)."""

    base = currency_field()
    quote = currency_field()
    rate = models.DecimalField(**RATE)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=100, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."fx_rates'
        ordering = ["base", "quote", "-valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "id"], name="finance_fxrate_tenant_key"),
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="finance_fxrate_positive"),
            models.CheckConstraint(
                condition=~models.Q(base=models.F("quote")), name="finance_fxrate_distinct_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_to__gt=models.F("valid_from")),
                name="finance_fxrate_valid_range",
            ),
            models.CheckConstraint(
                condition=models.Q(base__regex=CURRENCY_FORMAT)
                & models.Q(quote__regex=CURRENCY_FORMAT),
                name="finance_fxrate_currency_format",
            ),
            TableGovernance(name="finance_fxrate", grants=FINANCE_GRANTS),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "base", "quote", "valid_from"], name="finance_fxrate_pair_idx"
            ),
            models.Index(
                fields=["tenant_id", "-created_at", "-id"], name="finance_fxrate_list_idx"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_fxrate_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("last_used", "date")],
                func=triggers.fxrate_guard,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.base}/{self.quote} {self.rate} from {self.valid_from}"


class DocumentMetadata(TenantScopedModel):
    """An attachment kept in tenant storage: only its metadata lives here, and it never changes
    (a new version is a new row). Storage adapters come later."""

    company = same_tenant_fk(Company, related_name="documents", on_delete=models.PROTECT)
    journal_entry = same_tenant_fk(
        "finance.JournalEntry", related_name="documents", on_delete=models.PROTECT, null=True
    )
    payment = same_tenant_fk(
        "finance.Payment", related_name="documents", on_delete=models.PROTECT, null=True
    )
    provider = models.CharField(max_length=32, help_text="e.g. s3, azure-blob, local")
    locator = models.CharField(max_length=1024)
    content_hash = models.CharField(max_length=64, help_text="SHA-256, lowercase hex")
    size_bytes = models.BigIntegerField()
    mime_type = models.CharField(max_length=127)
    filename = models.CharField(max_length=255, blank=True)
    uploaded_by = models.CharField(max_length=64, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."document_metadata'
        verbose_name_plural = "document metadata"
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "id"], name="finance_document_tenant_key"),
            models.CheckConstraint(
                condition=models.Q(content_hash__regex=r"^[0-9a-f]{64}$"),
                name="finance_document_hash_format",
            ),
            models.CheckConstraint(
                condition=models.Q(size_bytes__gte=0), name="finance_document_size_positive"
            ),
            TenantForeignKey(
                name="finance_document_company_fk", column="company_id", to="finance.Company"
            ),
            TenantForeignKey(
                name="finance_document_entry_fk",
                column="journal_entry_id",
                to="finance.JournalEntry",
            ),
            TenantForeignKey(
                name="finance_document_payment_fk", column="payment_id", to="finance.Payment"
            ),
            TableGovernance(
                name="finance_document",
                grants=finance_grants("SELECT", "INSERT"),
                append_only=True,
                touch=False,
            ),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "company"], name="finance_document_company_idx"),
            models.Index(fields=["tenant_id", "journal_entry"], name="finance_document_entry_idx"),
            models.Index(fields=["tenant_id", "payment"], name="finance_document_payment_idx"),
        ]
