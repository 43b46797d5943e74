"""Payments, the approval matrix, maker-checker approvals and intercompany settlements."""

from __future__ import annotations

from typing import Any

import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.db import models

from aibos.db.governance import TableGovernance, TenantForeignKey
from aibos.db.models import TenantScopedModel, VersionedMixin, same_tenant_fk
from aibos.db.states import StateMachine
from aibos.db.triggers import GuardTrigger
from finance import triggers
from finance.models.companies import Account, BankAccount, Company, FxRate
from finance.models.fields import (
    CURRENCY_FORMAT,
    FINANCE_GRANTS,
    MONEY,
    RATE,
    currency_field,
    finance_grants,
)
from finance.models.ledger import JournalEntry


class PaymentType(models.TextChoices):
    VENDOR = "vendor"
    INTERCOMPANY = "intercompany"
    TREASURY = "treasury"


def role_list(**kwargs: Any) -> ArrayField:
    return ArrayField(models.CharField(max_length=150), **kwargs)


# Each status enum sits at module level so its model's Meta can build the CHECK from it; the
# model exposes it as ``Model.Status`` and declares its graph next to it as
# ``Model.transitions``. The services check that graph and the model's guard trigger is
# rendered from it (finance/triggers/): it is declared nowhere else.


class ApprovalMatrixStatus(models.TextChoices):
    DRAFT = "DRAFT"
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


class ApprovalMatrix(TenantScopedModel):
    """One version of the approval policy for a company, payment type and currency.

    DRAFT while its bands are edited; ACTIVE once the bands tile [0, infinity) (checked by the
    database on activation); RETIRED when a newer version replaces it. Non-draft matrices never
    change: a payment's policy snapshot can always be traced to the version it came from.
    """

    Status = ApprovalMatrixStatus
    transitions = StateMachine(
        Status,
        initial=Status.DRAFT,
        edges={
            Status.DRAFT: (Status.ACTIVE, Status.RETIRED),
            Status.ACTIVE: (Status.RETIRED,),
        },
    )

    company = same_tenant_fk(Company, related_name="approval_matrices", on_delete=models.PROTECT)
    payment_type = models.CharField(max_length=16, choices=PaymentType.choices)
    # The currency the band amounts are expressed in.
    currency = currency_field()
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    retired_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.CharField(max_length=80, blank=True, editable=False)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."approval_matrices'
        verbose_name_plural = "approval matrices"
        ordering = ["company", "payment_type", "currency", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_approvalmatrix_tenant_key"
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "company", "payment_type", "currency", "version"],
                name="finance_approvalmatrix_version_unique",
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "company", "payment_type", "currency"],
                condition=models.Q(status="ACTIVE"),
                name="finance_approvalmatrix_one_active",
            ),
            models.CheckConstraint(
                condition=models.Q(payment_type__in=PaymentType.values),
                name="finance_approvalmatrix_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=ApprovalMatrixStatus.values),
                name="finance_approvalmatrix_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_FORMAT),
                name="finance_approvalmatrix_currency_format",
            ),
            TenantForeignKey(
                name="finance_approvalmatrix_company_fk", column="company_id", to="finance.Company"
            ),
            TableGovernance(name="finance_approvalmatrix", grants=FINANCE_GRANTS),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "-created_at", "-id"], name="finance_matrix_list_idx"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_approvalmatrix_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=triggers.MATRIX_GUARD_DECLARE,
                func=triggers.matrix_guard,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payment_type} {self.currency} v{self.version} ({self.status})"


class ApprovalBand(TenantScopedModel):
    """Amounts in [min_amount, max_amount) need ``required_approvals`` distinct approvers, each
    holding one of ``approver_roles``, and together covering every role in ``required_roles``."""

    matrix = same_tenant_fk(ApprovalMatrix, related_name="bands", on_delete=models.CASCADE)
    min_amount = models.DecimalField(**MONEY)
    max_amount = models.DecimalField(**MONEY, null=True, blank=True, help_text="empty: no limit")
    required_approvals = models.PositiveSmallIntegerField()
    approver_roles = role_list()
    required_roles = role_list(default=list, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."approval_bands'
        ordering = ["matrix", "min_amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_approvalband_tenant_key"
            ),
            models.CheckConstraint(
                condition=models.Q(min_amount__gte=0)
                & (
                    models.Q(max_amount__isnull=True)
                    | models.Q(max_amount__gt=models.F("min_amount"))
                ),
                name="finance_approvalband_range",
            ),
            models.CheckConstraint(
                condition=models.Q(required_approvals__gte=1, approver_roles__len__gte=1)
                & models.Q(required_roles__contained_by=models.F("approver_roles"))
                & models.Q(required_roles__len__lte=models.F("required_approvals")),
                name="finance_approvalband_roles",
            ),
            TenantForeignKey(
                name="finance_approvalband_matrix_fk",
                column="matrix_id",
                to="finance.ApprovalMatrix",
                on_delete="CASCADE",
            ),
            TableGovernance(name="finance_approvalband", grants=FINANCE_GRANTS),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "matrix", "min_amount"], name="finance_approvalband_idx"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_approvalband_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                declare=[("v_status", "text")],
                func=triggers.band_guard,
            ),
        ]

    def __str__(self) -> str:
        top = self.max_amount if self.max_amount is not None else "∞"
        return f"[{self.min_amount}, {top}) x{self.required_approvals}"


class PaymentStatus(models.TextChoices):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"
    PAID = "PAID"


class Payment(TenantScopedModel, VersionedMixin):
    Status = PaymentStatus
    transitions = StateMachine(
        Status,
        initial=Status.DRAFT,
        edges={
            Status.DRAFT: (Status.SUBMITTED, Status.CANCELLED),
            Status.SUBMITTED: (Status.APPROVED, Status.REJECTED, Status.CANCELLED),
            Status.APPROVED: (Status.PAID, Status.CANCELLED),
        },
    )

    company = same_tenant_fk(Company, related_name="payments", on_delete=models.PROTECT)
    payment_type = models.CharField(max_length=16, choices=PaymentType.choices)
    amount = models.DecimalField(**MONEY)
    currency = currency_field()
    # Paid from this bank account (credited when PAID); the debit account is debited.
    bank_account = same_tenant_fk(BankAccount, related_name="payments", on_delete=models.PROTECT)
    debit_account = same_tenant_fk(Account, related_name="payments", on_delete=models.PROTECT)
    beneficiary_name = models.CharField(max_length=200)
    beneficiary_account = models.CharField(max_length=64, help_text="IBAN or account number")
    reference = models.CharField(max_length=140, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    requested_by = models.CharField(max_length=80, editable=False)
    idempotency_key = models.CharField(max_length=128, editable=False)
    request_hash = models.CharField(max_length=64, editable=False)
    request_payload = models.JSONField(editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    paid_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    journal_entry = same_tenant_fk(
        JournalEntry, related_name="payments", on_delete=models.PROTECT, null=True
    )
    # The approval policy frozen at submission (the database checks it against the matrix).
    policy_matrix = same_tenant_fk(
        ApprovalMatrix, related_name="+", on_delete=models.PROTECT, null=True
    )
    policy_band = same_tenant_fk(
        ApprovalBand, related_name="+", on_delete=models.PROTECT, null=True
    )
    policy_currency = currency_field(blank=True)
    policy_amount = models.DecimalField(**MONEY, null=True, blank=True)
    policy_fx_rate = same_tenant_fk(FxRate, related_name="+", on_delete=models.PROTECT, null=True)
    policy_fx_rate_value = models.DecimalField(
        **RATE, null=True, blank=True, db_column="policy_fx_rate"
    )
    required_approvals = models.PositiveSmallIntegerField(null=True, blank=True)
    approver_roles = role_list(default=list, blank=True)
    required_roles = role_list(default=list, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."payments'
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "id"], name="finance_payment_tenant_key"),
            # Target of the approvals' maker-checker key.
            models.UniqueConstraint(
                fields=["tenant_id", "id", "requested_by"], name="finance_payment_requester_key"
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "idempotency_key"], name="finance_payment_idempotency_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="finance_payment_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(payment_type__in=PaymentType.values),
                name="finance_payment_type_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=PaymentStatus.values),
                name="finance_payment_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=CURRENCY_FORMAT),
                name="finance_payment_currency_format",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["DRAFT"])
                | models.Q(status="CANCELLED", submitted_at__isnull=True)
                | models.Q(
                    policy_band__isnull=False,
                    policy_amount__isnull=False,
                    required_approvals__gte=1,
                ),
                name="finance_payment_policy_snapshot_present",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="PAID") | models.Q(journal_entry__isnull=False),
                name="finance_payment_paid_has_entry",
            ),
            TenantForeignKey(
                name="finance_payment_company_fk", column="company_id", to="finance.Company"
            ),
            TenantForeignKey(
                name="finance_payment_bankaccount_fk",
                column="bank_account_id",
                to="finance.BankAccount",
            ),
            TenantForeignKey(
                name="finance_payment_debitaccount_fk",
                column="debit_account_id",
                to="finance.Account",
            ),
            TenantForeignKey(
                name="finance_payment_entry_fk",
                column="journal_entry_id",
                to="finance.JournalEntry",
            ),
            TenantForeignKey(
                name="finance_payment_matrix_fk",
                column="policy_matrix_id",
                to="finance.ApprovalMatrix",
            ),
            TenantForeignKey(
                name="finance_payment_band_fk", column="policy_band_id", to="finance.ApprovalBand"
            ),
            TenantForeignKey(
                name="finance_payment_fxrate_fk", column="policy_fx_rate_id", to="finance.FxRate"
            ),
            # Payments are cancelled, never deleted.
            TableGovernance(
                name="finance_payment",
                grants=finance_grants("SELECT", "INSERT", "UPDATE"),
                versioned=True,
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "company", "-created_at", "-id"],
                name="finance_payment_list_idx",
            ),
            models.Index(
                fields=["tenant_id", "-created_at", "-id"], name="finance_payment_recent_idx"
            ),
            # Status lists in list order (this also serves every lookup by status alone).
            models.Index(
                fields=["tenant_id", "status", "-created_at", "-id"],
                name="finance_payment_st_list_idx",
            ),
            models.Index(
                fields=["tenant_id", "company", "status", "-created_at", "-id"],
                name="finance_payment_co_st_idx",
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_payment_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                declare=triggers.PAYMENT_GUARD_DECLARE,
                func=triggers.payment_guard,
            ),
            triggers.refuse_truncate("finance_payment_truncate", "payment"),
        ]

    def __str__(self) -> str:
        return f"{self.amount} {self.currency} to {self.beneficiary_name} ({self.status})"


class PaymentApproval(TenantScopedModel):
    """One decision by one approver; rows are final (INSERT and SELECT only).

    Maker-checker in constraints: ``requester`` is proven to be the payment's requester by the
    key ``(tenant_id, payment_id, requester) -> payments (tenant_id, id, requested_by)``, and
    ``approver <> requester`` is a CHECK; one decision per approver is a unique key.

    A decision is accepted only with ``approval_grant``, signed by the identity plane for this
    tenant, payment, approver, role and decision, and unexpired; the guard also checks that the
    approver is an active user of the tenant holding the role (``finance.triggers.approval_proof``).
    """

    class Decision(models.TextChoices):
        APPROVE = "APPROVE"
        REJECT = "REJECT"

    payment = same_tenant_fk(Payment, related_name="approvals", on_delete=models.PROTECT)
    requester = models.CharField(max_length=80)
    approver = models.CharField(max_length=80, help_text="user:<uuid>")
    decision = models.CharField(max_length=8, choices=Decision.choices)
    reason = models.CharField(max_length=500, blank=True)
    level = models.PositiveSmallIntegerField(default=0, editable=False)
    approver_role = models.CharField(max_length=150)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The identity plane's signed grant this decision was accepted with (kernel migration
    # 0003): tenant, payment, approver, role, decision, expiry and signature, kept as evidence.
    approval_grant = models.JSONField(null=True, blank=True, editable=False)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."payment_approvals'
        ordering = ["payment", "level", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_paymentapproval_tenant_key"
            ),
            models.UniqueConstraint(
                fields=["tenant_id", "payment", "approver"],
                name="finance_paymentapproval_one_per_approver",
            ),
            models.CheckConstraint(
                condition=~models.Q(approver=models.F("requester")),
                name="finance_paymentapproval_not_requester",
            ),
            models.CheckConstraint(
                condition=models.Q(approver__startswith="user:"),
                name="finance_paymentapproval_approver_is_user",
            ),
            models.CheckConstraint(
                condition=models.Q(decision="APPROVE") | ~models.Q(reason=""),
                name="finance_paymentapproval_rejection_reason",
            ),
            TenantForeignKey(
                name="finance_paymentapproval_payment_fk", column="payment_id", to="finance.Payment"
            ),
            TenantForeignKey(
                name="finance_paymentapproval_requester_fk",
                column="payment_id",
                to="finance.Payment",
                also=(("requester", "requested_by"),),
            ),
            TableGovernance(
                name="finance_paymentapproval",
                grants=finance_grants("SELECT", "INSERT"),
                append_only=True,
                touch=False,
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_paymentapproval_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert,
                declare=triggers.APPROVAL_GUARD_DECLARE,
                func=triggers.approval_guard,
                # As the owner: it verifies the grant with the key no runtime role can read.
                security_definer=True,
            ),
            triggers.refuse_truncate("finance_paymentapproval_truncate", "payment approval"),
        ]


class SettlementStatus(models.TextChoices):
    PENDING = "PENDING"
    SETTLED = "SETTLED"
    CANCELLED = "CANCELLED"


class IntercompanySettlement(TenantScopedModel):
    """Money moving between two companies of a tenant; settling posts a balanced entry in each
    (from: Dr intercompany account / Cr bank; to: Dr bank / Cr intercompany account)."""

    Status = SettlementStatus
    transitions = StateMachine(
        Status,
        initial=Status.PENDING,
        edges={Status.PENDING: (Status.SETTLED, Status.CANCELLED)},
    )

    from_company = same_tenant_fk(Company, related_name="+", on_delete=models.PROTECT)
    to_company = same_tenant_fk(Company, related_name="+", on_delete=models.PROTECT)
    amount = models.DecimalField(**MONEY)
    currency = currency_field()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    from_bank_account = same_tenant_fk(BankAccount, related_name="+", on_delete=models.PROTECT)
    to_bank_account = same_tenant_fk(BankAccount, related_name="+", on_delete=models.PROTECT)
    from_account = same_tenant_fk(Account, related_name="+", on_delete=models.PROTECT)
    to_account = same_tenant_fk(Account, related_name="+", on_delete=models.PROTECT)
    from_entry = same_tenant_fk(JournalEntry, related_name="+", on_delete=models.PROTECT, null=True)
    to_entry = same_tenant_fk(JournalEntry, related_name="+", on_delete=models.PROTECT, null=True)
    reference = models.CharField(max_length=140, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True, editable=False)
    requested_by = models.CharField(max_length=80, blank=True, editable=False)

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."intercompany_settlements'
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant_id", "id"], name="finance_settlement_tenant_key"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_company=models.F("to_company")),
                name="finance_settlement_two_companies",
            ),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="finance_settlement_amount_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=SettlementStatus.values),
                name="finance_settlement_status_valid",
            ),
            *[
                TenantForeignKey(name=f"finance_settlement_{col}_fk", column=f"{col}_id", to=to)
                for col, to in (
                    ("from_company", "finance.Company"),
                    ("to_company", "finance.Company"),
                    ("from_bank_account", "finance.BankAccount"),
                    ("to_bank_account", "finance.BankAccount"),
                    ("from_account", "finance.Account"),
                    ("to_account", "finance.Account"),
                    ("from_entry", "finance.JournalEntry"),
                    ("to_entry", "finance.JournalEntry"),
                )
            ],
            TableGovernance(
                name="finance_settlement", grants=finance_grants("SELECT", "INSERT", "UPDATE")
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant_id", "-created_at", "-id"], name="finance_settlement_recent_idx"
            ),
        ]
        triggers = [
            GuardTrigger(
                name="finance_settlement_guard",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                func=triggers.settlement_guard,
            ),
            GuardTrigger(
                name="finance_settlement_posted",
                when=pgtrigger.After,
                operation=pgtrigger.Insert | pgtrigger.Update,
                timing=pgtrigger.Deferred,
                func=triggers.settlement_posted,
            ),
        ]
