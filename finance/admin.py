"""Operator screens for the finance schema.

The ledger, payments and approvals are read-only here: they change only through the services
(API, commands), where every transition is checked, and the database would refuse a direct edit
anyway. Reference data (companies, accounts) is editable; an approval matrix draft is activated
with an admin action that calls the same service as the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from aibos.actors import request_actor
from aibos.admin import GovernedModelAdmin, ReadOnlyInline, ReadOnlyModelAdmin
from aibos.errors import ApplicationError
from aibos.pagination import EstimatedCountPaginator
from finance import services
from finance.models import (
    Account,
    AccountBalance,
    ApprovalBand,
    ApprovalMatrix,
    BankAccount,
    Company,
    DocumentMetadata,
    FxRate,
    IntercompanySettlement,
    JournalEntry,
    JournalLine,
    Payment,
    PaymentApproval,
)

HARD_LOCK_BACKWARDS = "The hard lock date can only move forward (it is {current})."


class CompanyForm(forms.ModelForm):
    class Meta:
        model = Company
        fields = ("code", "name", "base_currency", "soft_lock_date", "hard_lock_date")

    def clean_hard_lock_date(self) -> Any:
        new = self.cleaned_data.get("hard_lock_date")
        current = self.instance.hard_lock_date if self.instance.pk else None
        if current and (new is None or new < current):
            raise forms.ValidationError(HARD_LOCK_BACKWARDS.format(current=current))
        return new


@admin.register(Company)
class CompanyAdmin(GovernedModelAdmin):
    form = CompanyForm
    list_display = ("code", "name", "base_currency", "soft_lock_date", "hard_lock_date")
    delete_refused = (
        "A company is never deleted: its accounts, journals, payments and audit trail refer to "
        "it. Close its books with the hard lock date instead."
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        return ("code", "base_currency") if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(GovernedModelAdmin):
    list_display = ("code", "name", "type", "currency", "company", "is_active")
    list_filter = ("company", "type", "currency", "is_active")
    search_fields = ("code", "name")
    fields = ("company", "code", "name", "type", "currency", "parent", "is_active")
    delete_refused = (
        "An account is never deleted: journal lines and balances refer to it. "
        'Untick "Active" to stop using it.'
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Company, type and currency are fixed once lines are posted (the database says so).
        return ("company", "type", "currency") if obj else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(AccountBalance)
class AccountBalanceAdmin(ReadOnlyModelAdmin):
    list_display = (
        "account",
        "company",
        "debit_total",
        "credit_total",
        "txn_balance",
        "line_count",
    )
    list_select_related = ("account", "company")


@admin.register(BankAccount)
class BankAccountAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "company", "bank_code", "masked_number", "currency", "is_active")
    exclude = ("account_number",)
    readonly_fields = ("masked_number",)


class LargeListAdmin(ReadOnlyModelAdmin):
    """A changelist over a table that grows with the business: no COUNT over the tenant's rows
    (an estimate above a few thousand), ordered by a tenant-leading index so a page is one
    index range, related rows joined."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False


@admin.register(FxRate)
class FxRateAdmin(LargeListAdmin):
    list_display = ("base", "quote", "rate", "valid_from", "valid_to", "source")
    # No filter over the rates' own values (a DISTINCT over every rate of the tenant per page).
    search_fields = ("=base", "=quote")
    ordering = ("-created_at", "-id")


class JournalLineInline(ReadOnlyInline):
    model = JournalLine
    fields = (
        "line_no",
        "account",
        "debit",
        "credit",
        "currency",
        "txn_amount",
        "fx_rate_value",
        "memo",
    )


@admin.register(JournalEntry)
class JournalEntryAdmin(LargeListAdmin):
    list_display = ("entry_date", "posting_seq", "reference", "company", "status", "posted_by")
    list_filter = ("status", "company")
    search_fields = ("reference", "memo")
    list_select_related = ("company",)
    # finance_entry_recent_idx (or the status / company ones when filtered).
    ordering = ("-created_at", "-id")
    inlines = [JournalLineInline]


@admin.register(JournalLine)
class JournalLineAdmin(LargeListAdmin):
    list_display = ("entry", "line_no", "account", "debit", "credit", "currency", "txn_amount")
    list_select_related = ("entry", "account")
    # The tenant key (tenant_id, id): the largest table gets no extra index for its admin list.
    ordering = ("-id",)


class PaymentApprovalInline(ReadOnlyInline):
    model = PaymentApproval
    fields = (
        "level",
        "approver",
        "approver_role",
        "decision",
        "reason",
        "decided_at",
        "approval_grant",
    )


@admin.register(Payment)
class PaymentAdmin(LargeListAdmin):
    list_display = (
        "created_at",
        "company",
        "amount",
        "currency",
        "beneficiary_name",
        "status",
        "required_approvals",
    )
    # Only index-backed filters: a rare value must not mean walking the tenant's payments.
    list_filter = ("status", "company")
    search_fields = ("beneficiary_name", "reference")
    list_select_related = ("company",)
    ordering = ("-created_at", "-id")
    exclude = ("beneficiary_account", "request_payload")
    inlines = [PaymentApprovalInline]


class ApprovalBandInline(ReadOnlyInline):
    model = ApprovalBand
    fields = ("min_amount", "max_amount", "required_approvals", "approver_roles", "required_roles")


@admin.register(ApprovalMatrix)
class ApprovalMatrixAdmin(ReadOnlyModelAdmin):
    list_display = ("company", "payment_type", "currency", "version", "status", "activated_at")
    list_filter = ("status", "company", "payment_type")
    inlines = [ApprovalBandInline]
    actions = ["activate"]

    @admin.action(description="Activate the selected draft (retires the active version)")
    def activate(self, request: HttpRequest, queryset: QuerySet[ApprovalMatrix]) -> None:
        actor = request_actor(request)
        if actor is None:  # the admin is signed in: the middleware attached its user
            raise PermissionDenied
        for matrix in queryset:
            try:
                services.approval_matrix_activate(actor=actor, matrix_id=matrix.pk)
            except ApplicationError as exc:
                self.message_user(request, f"{matrix}: {exc.message}", messages.ERROR)
            else:
                self.message_user(request, f"{matrix}: activated.", messages.SUCCESS)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The changelist needs it for actions; no field is editable (all inlines read-only).
        return obj is None and super(ReadOnlyModelAdmin, self).has_change_permission(request, obj)


@admin.register(IntercompanySettlement)
class IntercompanySettlementAdmin(LargeListAdmin):
    list_display = ("created_at", "from_company", "to_company", "amount", "currency", "status")
    list_select_related = ("from_company", "to_company")
    ordering = ("-created_at", "-id")


@admin.register(DocumentMetadata)
class DocumentMetadataAdmin(LargeListAdmin):
    list_display = ("filename", "company", "mime_type", "size_bytes", "provider", "created_at")
    list_select_related = ("company",)
    ordering = ("-id",)  # the tenant key
