"""Finance fixtures (registered in tests/conftest.py): tenant A's two companies (US in USD with a EUR bank, EU in EUR), the seeds'
approval matrices, and approvers holding each role. Charlie's tenant B gets its own company."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from finance import demo, services
from kernel import services as kernel_services
from kernel.models import Role, Tenant, User
from tests.factories import RoleFactory, UserFactory, as_user, system

DAY = dt.date(2026, 3, 10)
# A Cell requesting payments (approvals must come from users, never from it).
CELL_ID = uuid.UUID("00000000-0000-4000-8000-0000000000aa")
CELL = f"cell:{CELL_ID}"  # its label, as raw SQL writes it


def cell_actor(tenant: Tenant | uuid.UUID) -> Actor:
    return Actor.for_cell(tenant.id if isinstance(tenant, Tenant) else tenant, CELL_ID)


def actor(user: User) -> Actor:
    return as_user(user)


def approver_create(tenant: Tenant, email: str, role_name: str) -> User:
    """A user of ``tenant`` holding ``role_name`` (the role is created if it is new)."""
    user = UserFactory(tenant=tenant, email=email)
    with tenant_context(tenant.id, using=["kernel"]):
        role = Role.objects.filter(tenant_id=tenant.id, name=role_name).first()
    role = role or RoleFactory(tenant=tenant, name=role_name)
    kernel_services.user_assign_role(actor=system(tenant), user=user, role=role)
    return user


@pytest.fixture
def approvers(tenant_a: Tenant) -> SimpleNamespace:
    return SimpleNamespace(
        l1=approver_create(tenant_a, "l1@a.test", demo.L1),
        l2=approver_create(tenant_a, "l2@a.test", demo.L2),
        cfo=approver_create(tenant_a, "cfo@a.test", demo.CFO),
    )


@pytest.fixture
def books(tenant_a: Tenant) -> SimpleNamespace:
    us = demo.books_create(
        actor=system(tenant_a.id),
        code="US",
        name="Acme US",
        base_currency="USD",
        foreign_currency="EUR",
    )
    eu = demo.books_create(
        actor=system(tenant_a.id), code="EU", name="Acme EU", base_currency="EUR"
    )
    services.fx_rate_set(
        actor=system(tenant_a.id),
        base="EUR",
        quote="USD",
        rate=Decimal("1.1"),
        valid_from=dt.date(2026, 1, 1),
    )
    demo.matrix_activate(actor=system(tenant_a.id), company=us.company, profile="A")
    demo.matrix_activate(actor=system(tenant_a.id), company=eu.company, profile="B")
    return SimpleNamespace(tenant=tenant_a, us=us, eu=eu)


@pytest.fixture
def books_b(tenant_b: Tenant) -> demo.Books:
    return demo.books_create(
        actor=system(tenant_b.id), code="GL", name="Globex", base_currency="USD"
    )


def post_simple(
    books: demo.Books,
    amount: str = "100.00",
    *,
    debit: str = "5000",
    credit: str = "1000",
    on: dt.date = DAY,
    key: str | None = None,
) -> object:
    entry, _ = services.journal_create_draft(
        actor=system(books.company.tenant_id),
        company_id=books.company.pk,
        entry_date=on,
        reference="test",
        lines=[
            services.LineInput(books.accounts[debit].pk, "debit", Decimal(amount)),
            services.LineInput(books.accounts[credit].pk, "credit", Decimal(amount)),
        ],
        idempotency_key=key,
        post=True,
    )
    return entry


def make_payment(
    books: SimpleNamespace, amount: str, *, submit: bool = True, key: str | None = None
) -> Any:
    us = books.us
    payment, _ = services.payment_create(
        actor=cell_actor(books.tenant.id),
        idempotency_key=key or str(uuid.uuid4()),
        company_id=us.company.pk,
        payment_type="vendor",
        amount=Decimal(amount),
        currency="USD",
        bank_account_id=us.bank.pk,
        debit_account_id=us.accounts["2000"].pk,
        beneficiary_name="Vendor",
        beneficiary_account="DE89370400440532013000",
    )
    if submit:
        payment = services.payment_submit(actor=cell_actor(books.tenant.id), payment_id=payment.pk)
    return payment
