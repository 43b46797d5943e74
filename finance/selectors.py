"""Finance reads. Each takes the tenant first and filters on it explicitly; RLS enforces it too.

Fetch-by-id raises the same 404 for a missing row and for another tenant's row
(``aibos.db.fetch.scoped_get``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import Q, QuerySet

from aibos.db.fetch import scoped_get
from finance.models import (
    Account,
    AccountBalance,
    ApprovalMatrix,
    BankAccount,
    Company,
    FxRate,
    JournalEntry,
    Payment,
)


def fx_rate_valid_on(*, tenant_id: uuid.UUID, base: str, quote: str, on: dt.date) -> FxRate | None:
    return (
        FxRate.objects.filter(tenant_id=tenant_id, base=base, quote=quote, valid_from__lte=on)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=on))
        .order_by("-valid_from")
        .first()
    )


def companies(*, tenant_id: uuid.UUID) -> QuerySet[Company]:
    return Company.objects.filter(tenant_id=tenant_id, deleted_at__isnull=True).order_by("code")


def accounts(*, tenant_id: uuid.UUID, company_id: uuid.UUID | None = None) -> QuerySet[Account]:
    qs = Account.objects.filter(tenant_id=tenant_id)
    return qs.filter(company_id=company_id) if company_id else qs


def bank_accounts(*, tenant_id: uuid.UUID) -> QuerySet[BankAccount]:
    return BankAccount.objects.filter(tenant_id=tenant_id).order_by("name", "id")


def fx_rates(*, tenant_id: uuid.UUID) -> QuerySet[FxRate]:
    return FxRate.objects.filter(tenant_id=tenant_id).order_by("base", "quote", "-valid_from")


def journal_entries(
    *, tenant_id: uuid.UUID, company_id: uuid.UUID | None = None, status: str | None = None
) -> QuerySet[JournalEntry]:
    qs = JournalEntry.objects.filter(tenant_id=tenant_id)
    if company_id:
        qs = qs.filter(company_id=company_id)
    if status:
        qs = qs.filter(status=status)
    # Each row carries its line count (kept by the database), so a page reads only its own
    # rows in index order: nothing is joined, aggregated or sorted over the tenant's entries.
    return qs


def journal_entry_get(*, tenant_id: uuid.UUID, entry_id: Any) -> JournalEntry:
    return scoped_get(
        JournalEntry.objects.prefetch_related("lines"), tenant_id=tenant_id, pk=entry_id
    )


def payments(
    *, tenant_id: uuid.UUID, company_id: uuid.UUID | None = None, status: str | None = None
) -> QuerySet[Payment]:
    qs = Payment.objects.filter(tenant_id=tenant_id)
    if company_id:
        qs = qs.filter(company_id=company_id)
    if status:
        qs = qs.filter(status=status)
    return qs


def payment_get(*, tenant_id: uuid.UUID, payment_id: Any) -> Payment:
    return scoped_get(
        Payment.objects.prefetch_related("approvals"), tenant_id=tenant_id, pk=payment_id
    )


def approval_matrices(
    *, tenant_id: uuid.UUID, company_id: uuid.UUID | None = None
) -> QuerySet[ApprovalMatrix]:
    qs = ApprovalMatrix.objects.filter(tenant_id=tenant_id).prefetch_related("bands")
    return qs.filter(company_id=company_id) if company_id else qs


def account_balance(*, tenant_id: uuid.UUID, account_id: Any) -> dict[str, Any]:
    """One indexed row: the running totals the posting trigger keeps."""
    account = scoped_get(Account, tenant_id=tenant_id, pk=account_id)
    row = AccountBalance.objects.filter(tenant_id=tenant_id, account_id=account_id).first()
    debit = row.debit_total if row else Decimal(0)
    credit = row.credit_total if row else Decimal(0)
    return {
        "account": account,
        "debit_total": debit,
        "credit_total": credit,
        "balance": debit - credit,
        "txn_balance": row.txn_balance if row else Decimal(0),
        "line_count": row.line_count if row else 0,
        "version": row.version if row else 0,
    }


def balance_differences(*, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """Accounts whose stored running totals differ from the sum of their posted lines."""
    with connections["finance"].cursor() as cur:
        cur.execute(
            """
            WITH lines AS (
                SELECT l.account_id, sum(l.debit) AS debit, sum(l.credit) AS credit,
                       sum(CASE WHEN l.debit > 0 THEN l.txn_amount ELSE -l.txn_amount END) AS txn,
                       count(*) AS n
                  FROM finance.journal_lines l
                  JOIN finance.journal_entries e ON e.tenant_id = l.tenant_id AND e.id = l.entry_id
                 WHERE l.tenant_id = %(t)s AND e.status = 'POSTED'
                 GROUP BY l.account_id
            )
            SELECT a.code, coalesce(b.account_id, lines.account_id),
                   coalesce(b.debit_total, 0), coalesce(lines.debit, 0),
                   coalesce(b.credit_total, 0), coalesce(lines.credit, 0),
                   coalesce(b.txn_balance, 0), coalesce(lines.txn, 0),
                   coalesce(b.line_count, 0), coalesce(lines.n, 0)
              FROM (SELECT * FROM finance.account_balances WHERE tenant_id = %(t)s) b
              FULL JOIN lines ON lines.account_id = b.account_id
              LEFT JOIN finance.accounts a
                ON a.tenant_id = %(t)s AND a.id = coalesce(b.account_id, lines.account_id)
             WHERE (coalesce(b.debit_total, 0), coalesce(b.credit_total, 0),
                    coalesce(b.txn_balance, 0), coalesce(b.line_count, 0))
                   IS DISTINCT FROM
                   (coalesce(lines.debit, 0), coalesce(lines.credit, 0),
                    coalesce(lines.txn, 0), coalesce(lines.n, 0))
             ORDER BY 1
            """,
            {"t": tenant_id},
        )
        keys = (
            "code",
            "account_id",
            "stored_debit",
            "lines_debit",
            "stored_credit",
            "lines_credit",
            "stored_txn",
            "lines_txn",
            "stored_lines",
            "lines",
        )
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


def numbering_gaps(*, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    """Companies whose posting numbers are not exactly 1..n, or whose counter disagrees."""
    with connections["finance"].cursor() as cur:
        cur.execute(
            """
            SELECT c.code, count(e.id), count(DISTINCT e.posting_seq), max(e.posting_seq), s.last_seq
              FROM finance.companies c
              LEFT JOIN finance.journal_entries e
                ON e.tenant_id = c.tenant_id AND e.company_id = c.id AND e.status = 'POSTED'
              LEFT JOIN finance.posting_sequences s
                ON s.tenant_id = c.tenant_id AND s.company_id = c.id
             WHERE c.tenant_id = %(t)s
             GROUP BY c.code, s.last_seq
            HAVING count(e.id) <> count(DISTINCT e.posting_seq)
                OR coalesce(max(e.posting_seq), 0) <> count(e.id)
                OR coalesce(s.last_seq, 0) <> count(e.id)
             ORDER BY 1
            """,
            {"t": tenant_id},
        )
        keys = ("company", "posted", "distinct_numbers", "max_number", "counter")
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]
