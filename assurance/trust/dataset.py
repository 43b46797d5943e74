"""The Trust Test's challenge dataset: two tenants of the same shape, in tenants of their own.

Idempotent and deterministic: fixed slugs, codes, amounts and a fixed entry date, created
through the services, and found again on the next run (journals and payments by their
idempotency keys, which answer the original row for the same request). A run therefore adds no
rows but its security events, and touches no other tenant. Each unit of work commits: the
finance approval guard reads the kernel's users and roles through its own connection, so they
must be committed before any approval is attempted.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from finance import demo, services
from finance.models import Account, ApprovalMatrix, BankAccount, Company, JournalEntry, Payment
from kernel import services as kernel_services
from kernel.models import Canon, Role, Tenant, User

SLUGS = ("trust-test-a", "trust-test-b")
COMMAND = "trust_test"
# Fixed, so that a replayed journal or payment request is the same request (an idempotency key
# reused with another date would be a 409). Well inside the books window.
ENTRY_DATE = dt.date(2026, 1, 15)
POSTED_AMOUNT = Decimal("1500.00")
DRAFT_SHORT = Decimal("100.00")
QUORUM_AMOUNT = Decimal("20000.00")  # profile A: two approvers
SELF_AMOUNT = Decimal("500.00")  # profile A: one approver
COMPANY_NAMES = ("Trust Alpha Ltd", "Trust Beta Ltd")


@dataclass(frozen=True)
class Side:
    """One tenant's rows, as the attacks use them."""

    tenant: Tenant
    actor: Actor  # command:trust_test in this tenant
    company: Company
    accounts: dict[str, Account]
    bank: BankAccount
    posted: JournalEntry  # balanced and POSTED
    draft: JournalEntry  # DRAFT with two lines that do not balance (drafts may not balance)
    pay_quorum: Payment  # SUBMITTED, 20,000.00: needs two approvers; requested by the Cell
    pay_self: Payment  # SUBMITTED, 500.00: one approver; requested by the maker
    maker: User  # holds L1; requested pay_self
    checker: User  # holds L2
    canon: Canon  # the Cell that requests pay_quorum

    @property
    def id(self) -> uuid.UUID:
        return self.tenant.id


@dataclass(frozen=True)
class Dataset:
    a: Side  # the attacker's tenant
    b: Side  # the victim


def dataset_seed() -> Dataset:
    """Create what is missing, find what exists; return both tenants' rows."""
    a, b = (_side(slug, name) for slug, name in zip(SLUGS, COMPANY_NAMES, strict=True))
    return Dataset(a=a, b=b)


def _side(slug: str, company_name: str) -> Side:
    tenant = Tenant.objects.filter(slug=slug).first() or kernel_services.tenant_create(
        name=f"Trust Test {slug[-1].upper()}", slug=slug
    )
    actor = Actor.for_command(tenant.id, COMMAND)
    maker, checker, canon = _people(actor, slug)
    # A second unit of work: the approval guard must see the users and roles committed.
    books = _books(actor, slug, company_name)
    posted = _entry(actor, books, "posted", post=True)
    draft = _entry(actor, books, "unbalanced-draft", post=False)
    pay_quorum = _payment(Actor.for_cell(tenant.id, canon.pk), books, "quorum", QUORUM_AMOUNT)
    pay_self = _payment(Actor.for_user(tenant.id, maker.pk), books, "self", SELF_AMOUNT)
    assert books.bank is not None
    return Side(
        tenant=tenant,
        actor=actor,
        company=books.company,
        accounts=books.accounts,
        bank=books.bank,
        posted=posted,
        draft=draft,
        pay_quorum=pay_quorum,
        pay_self=pay_self,
        maker=maker,
        checker=checker,
        canon=canon,
    )


def _people(actor: Actor, slug: str) -> tuple[User, User, Canon]:
    with tenant_context(actor, using=["kernel"]):
        roles = {r.name: r for r in Role.objects.filter(name__in=[demo.L1, demo.L2, demo.CFO])}
        for name in (demo.L1, demo.L2, demo.CFO):
            if name not in roles:
                roles[name] = kernel_services.role_create(actor=actor, name=name)
        people = []
        for who, role in (("maker", demo.L1), ("checker", demo.L2)):
            email = f"{who}@{slug}.test"
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                # No password: these users never sign in; the attacks use API credentials.
                user = kernel_services.user_create(
                    actor=actor, email=email, password=None, full_name=who.title()
                )
            kernel_services.user_assign_role(actor=actor, user=user, role=roles[role])
            people.append(user)
        canon = Canon.objects.filter(name="trust-cell").first() or kernel_services.canon_register(
            actor=actor, name="trust-cell"
        )
    return people[0], people[1], canon


def _books(actor: Actor, slug: str, company_name: str) -> demo.Books:
    code = slug.upper()
    with tenant_context(actor, using=["finance"]):
        company = Company.objects.filter(code=code).first()
        if company is not None:
            accounts = {a.code: a for a in Account.objects.filter(company=company)}
            bank = BankAccount.objects.filter(company=company).order_by("name").first()
            books = demo.Books(company=company, accounts=accounts, bank=bank)
        else:
            books = demo.books_create(
                actor=actor, code=code, name=company_name, base_currency="USD"
            )
        if not ApprovalMatrix.objects.filter(
            company=company or books.company, status=ApprovalMatrix.Status.ACTIVE
        ).exists():
            demo.matrix_activate(actor=actor, company=books.company, profile="A")
    return books


def _entry(actor: Actor, books: demo.Books, kind: str, *, post: bool) -> JournalEntry:
    # The draft is short by 100.00 on the credit side: drafts may be unbalanced, posting not.
    credit = POSTED_AMOUNT if post else POSTED_AMOUNT - DRAFT_SHORT
    lines = [
        services.LineInput(books.accounts["5000"].pk, "debit", POSTED_AMOUNT),
        services.LineInput(books.accounts["1000"].pk, "credit", credit),
    ]
    entry, _ = services.journal_create_draft(
        actor=actor,
        company_id=books.company.pk,
        entry_date=ENTRY_DATE,
        reference=f"trust-{kind}",
        memo=f"Trust Test challenge entry ({kind})",
        lines=lines,
        idempotency_key=f"trust-test-{kind}",
        post=post,
    )
    return entry


def _payment(requester: Actor, books: demo.Books, kind: str, amount: Decimal) -> Payment:
    assert books.bank is not None
    payment, _ = services.payment_create(
        actor=requester,
        idempotency_key=f"trust-test-{kind}",
        company_id=books.company.pk,
        payment_type="vendor",
        amount=amount,
        currency="USD",
        bank_account_id=books.bank.pk,
        debit_account_id=books.accounts["2000"].pk,
        beneficiary_name=f"Trust vendor ({kind})",
        beneficiary_account="DE89370400440532013000",
        reference=f"TRUST-{kind.upper()}",
    )
    if payment.status == Payment.Status.DRAFT:
        payment = services.payment_submit(actor=requester, payment_id=payment.pk)
    return payment
