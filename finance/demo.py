"""A standard small chart of accounts and approval matrix, used by ``seed_demo`` and the tests."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from aibos.actors import Actor
from finance import services
from finance.models import Account, BankAccount, Company

# code, name, type; the currency is the company's unless the code says otherwise.
CHART = (
    ("1000", "Operating bank", "asset"),
    ("1200", "Accounts receivable", "asset"),
    ("1500", "Intercompany receivable", "asset"),
    ("2000", "Accounts payable", "liability"),
    ("2500", "Intercompany payable", "liability"),
    ("3000", "Share capital", "equity"),
    ("4000", "Revenue", "income"),
    ("5000", "Operating expenses", "expense"),
    ("7900", "FX trading", "equity"),
)

L1, L2, CFO = "finance.approver.l1", "finance.approver.l2", "finance.cfo"


@dataclass
class Books:
    """One company's ledger set-up: accounts by code (and by code-currency for foreign ones)."""

    company: Company
    accounts: dict[str, Account] = field(default_factory=dict)
    bank: BankAccount | None = None
    foreign_bank: BankAccount | None = None


def books_create(
    *,
    actor: Actor,
    code: str,
    name: str,
    base_currency: str,
    foreign_currency: str | None = None,
) -> Books:
    """A company with the standard chart; with ``foreign_currency``, a second bank account,
    payable and FX-trading account in that currency."""
    company = services.company_create(
        actor=actor, code=code, name=name, base_currency=base_currency
    )
    books = Books(company=company)

    def add(
        chart: Sequence[tuple[str, str, str]], currency: str, bank_name: str, ledger: str
    ) -> BankAccount:
        for acc_code, acc_name, acc_type in chart:
            books.accounts[acc_code] = services.account_create(
                actor=actor,
                company_id=company.pk,
                code=acc_code,
                name=acc_name,
                type=acc_type,
                currency=currency,
            )
        return services.bank_account_create(
            actor=actor,
            company_id=company.pk,
            name=bank_name,
            bank_code="DEMOBANK",
            account_number=f"{zlib.crc32(bank_name.encode()):010d}",
            ledger_account_id=books.accounts[ledger].pk,
        )

    books.bank = add(CHART, base_currency, f"{code} operating", "1000")
    if foreign_currency:
        books.foreign_bank = add(
            [
                ("1010", f"Bank {foreign_currency}", "asset"),
                ("1510", f"Intercompany receivable {foreign_currency}", "asset"),
                ("2010", f"Accounts payable {foreign_currency}", "liability"),
                ("7910", f"FX trading {foreign_currency}", "equity"),
            ],
            foreign_currency,
            f"{code} {foreign_currency}",
            "1010",
        )
    return books


def seeds_matrix_bands(profile: str) -> list[services.BandInput]:
    """The seeds' example. "A": under 10K one approver, 10K-100K two, over 100K three with the
    CFO. "B": under 50K one, over 50K two with the CFO required. Bands are half-open: exactly
    100,000.00 needs two approvers, 100,000.01 three."""
    if profile == "A":
        return [
            services.BandInput(Decimal("0"), Decimal("10000"), 1, [L1, L2, CFO]),
            services.BandInput(Decimal("10000"), Decimal("100000.01"), 2, [L1, L2, CFO]),
            services.BandInput(Decimal("100000.01"), None, 3, [L1, L2, CFO], [CFO]),
        ]
    return [
        services.BandInput(Decimal("0"), Decimal("50000"), 1, [L1, L2, CFO]),
        services.BandInput(Decimal("50000"), None, 2, [L1, L2, CFO], [CFO]),
    ]


def matrix_activate(
    *,
    actor: Actor,
    company: Company,
    profile: str,
    payment_type: str = "vendor",
) -> None:
    matrix = services.approval_matrix_create(
        actor=actor,
        company_id=company.pk,
        payment_type=payment_type,
        currency=company.base_currency,
        bands=seeds_matrix_bands(profile),
    )
    services.approval_matrix_activate(actor=actor, matrix_id=matrix.pk)


def _line(books: Books, code: str, side: str, amount: str) -> services.LineInput:
    return services.LineInput(books.accounts[code].pk, side, Decimal(amount))


def demo_ledger_seed(
    *,
    actor: Actor,
    companies: list[tuple[str, str, str, str | None]],
    fx: list[tuple[str, str, str]],
    approvers: list[Actor],
    requester: Actor,
) -> list[Books]:
    """Two companies with charts, FX rates, matrices (seeds' A and B), posted and draft
    journals and one payment in every status. ``approvers``: actors holding L1, L2 and CFO."""
    import datetime as dt

    start = dt.date(dt.date.today().year, 1, 1)
    for base, quote, rate in fx:
        services.fx_rate_set(
            actor=actor,
            base=base,
            quote=quote,
            rate=Decimal(rate),
            valid_from=start,
            source="demo",
        )
    all_books = []
    for (code, name, currency, foreign), profile in zip(companies, ("A", "B"), strict=True):
        books = books_create(
            actor=actor,
            code=code,
            name=name,
            base_currency=currency,
            foreign_currency=foreign,
        )
        matrix_activate(actor=actor, company=books.company, profile=profile)
        day = dt.date.today()
        for ref, lines in (
            ("Share capital", [("1000", "debit", "500000.00"), ("3000", "credit", "500000.00")]),
            ("Invoice 1001", [("1200", "debit", "12500.00"), ("4000", "credit", "12500.00")]),
            ("Office rent", [("5000", "debit", "3200.00"), ("2000", "credit", "3200.00")]),
        ):
            services.journal_create_draft(
                actor=actor,
                company_id=books.company.pk,
                entry_date=day,
                reference=ref,
                lines=[_line(books, *x) for x in lines],
                post=True,
            )
        services.journal_create_draft(
            actor=actor,
            company_id=books.company.pk,
            entry_date=day,
            reference="Accrual (draft)",
            memo="Left as a draft: unbalanced drafts are allowed, posting is not.",
            lines=[_line(books, "5000", "debit", "800.00")],
        )
        _demo_payments(requester, books, approvers)
        all_books.append(books)
    return all_books


def _demo_payments(requester: Actor, books: Books, approvers: list[Actor]) -> None:
    """DRAFT, SUBMITTED, APPROVED, REJECTED, CANCELLED and PAID."""
    assert books.bank is not None
    company = books.company
    plan = [
        ("DRAFT", "1250.00"),
        ("SUBMITTED", "65000.00"),
        ("APPROVED", "8000.00"),
        ("REJECTED", "2500.00"),
        ("CANCELLED", "990.00"),
        ("PAID", "4300.00"),
    ]
    for status, amount in plan:
        payment, _ = services.payment_create(
            actor=requester,
            idempotency_key=f"demo-{company.code}-{status.lower()}",
            company_id=company.pk,
            payment_type="vendor",
            amount=Decimal(amount),
            currency=company.base_currency,
            bank_account_id=books.bank.pk,
            debit_account_id=books.accounts["2000"].pk,
            beneficiary_name=f"Demo vendor {status.title()}",
            beneficiary_account="DE89370400440532013000",
            reference=f"INV-{status}",
        )
        if status == "DRAFT":
            continue
        if status == "CANCELLED":
            services.payment_cancel(actor=requester, payment_id=payment.pk)
            continue
        services.payment_submit(actor=requester, payment_id=payment.pk)
        if status == "SUBMITTED":
            services.payment_approve(actor=approvers[0], payment_id=payment.pk)
        elif status == "REJECTED":
            services.payment_reject(
                actor=approvers[0],
                payment_id=payment.pk,
                reason="Duplicate of INV-APPROVED",
            )
        else:
            services.payment_approve(actor=approvers[0], payment_id=payment.pk)
            if status == "PAID":
                services.payment_mark_paid(actor=requester, payment_id=payment.pk)
