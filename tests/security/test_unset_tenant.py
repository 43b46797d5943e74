"""With no tenant set, every tenant table reads as empty — on a fresh connection and on a
reused one (where the variable reads '' instead of NULL) — and nothing raises."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connections, transaction

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from finance import demo, services
from tests.conftest import truncate_governed_tables
from tests.factories import system
from tests.security.helpers import alias_reading, scalar, tenant_tables

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

TENANT = uuid.UUID("00000000-0000-4000-8000-00000000000a")


def _populate_every_tenant_table() -> None:
    """One committed row per tenant table, written by the owner inside the tenant (so it works
    with a non-superuser owner too). A new table without a row here fails the test below."""
    t = str(TENANT)
    statements = [
        (
            "INSERT INTO kernel.tenants (id, name, slug, status, plan) VALUES (%s, 'A', 'a', 'active', 'free')",
            [t],
        ),
        (
            "INSERT INTO kernel.users (id, tenant_id, email, password, full_name, is_active, is_staff, is_superuser)"
            " VALUES ('00000000-0000-4000-8000-0000000000b1', %s, 'a@a.test', '!', '', true, false, false)",
            [t],
        ),
        (
            "INSERT INTO kernel.roles (id, tenant_id, name, description) VALUES ('00000000-0000-4000-8000-0000000000c1', %s, 'r', '')",
            [t],
        ),
        (
            "INSERT INTO kernel.role_permissions (tenant_id, role_id, permission_id)"
            " SELECT %s, '00000000-0000-4000-8000-0000000000c1', id FROM kernel.permissions LIMIT 1",
            [t],
        ),
        (
            "INSERT INTO kernel.user_roles (tenant_id, user_id, role_id) VALUES (%s, '00000000-0000-4000-8000-0000000000b1', '00000000-0000-4000-8000-0000000000c1')",
            [t],
        ),
        (
            "INSERT INTO kernel.sessions (tenant_id, user_id, expires_at, user_agent) VALUES (%s, '00000000-0000-4000-8000-0000000000b1', now() + interval '1 hour', '')",
            [t],
        ),
        (
            "INSERT INTO kernel.canons (id, tenant_id, name, service_url, is_active) VALUES ('00000000-0000-4000-8000-0000000000d1', %s, 'c', '', true)",
            [t],
        ),
        (
            "INSERT INTO kernel.routes (tenant_id, canon_id, method, path, is_active) VALUES (%s, '00000000-0000-4000-8000-0000000000d1', 'GET', '/x', true)",
            [t],
        ),
        (
            "INSERT INTO kernel.events (tenant_id, type, payload, correlation_id) VALUES (%s, 't', '{}', '')",
            [t],
        ),
        (
            "INSERT INTO kernel.security_events (tenant_id, kind, source, name, layer, db_role,"
            " expected, outcome, sqlstate, rule, detail, tsc, actor, correlation_id)"
            " VALUES (%s, 'blocked_attempt', 't', 't', 'RLS', '', '', '', '', '', '', '[]', 't', 't')",
            [t],
        ),
        (
            "INSERT INTO kernel.api_credentials (tenant_id, name, key_id, secret_hash, canon_id) VALUES (%s, 'k', 'k1', 'h', '00000000-0000-4000-8000-0000000000d1')",
            [t],
        ),
        (
            "INSERT INTO config.provider_profiles (id, name, provider, capabilities) VALUES ('00000000-0000-4000-8000-0000000000e1', 'p', 'pg', '{}')",
            [],
        ),
        ("INSERT INTO config.settings (tenant_id, key, value) VALUES (%s, 'k', '1')", [t]),
        (
            "INSERT INTO config.policies (tenant_id, name, document, is_active) VALUES (%s, 'p', '{}', true)",
            [t],
        ),
        ("INSERT INTO config.features (tenant_id, key, enabled) VALUES (%s, 'f', true)", [t]),
        (
            "INSERT INTO config.selection_rules (tenant_id, name, priority, condition, provider_profile_id)"
            " VALUES (%s, 's', 1, '{}', '00000000-0000-4000-8000-0000000000e1')",
            [t],
        ),
    ]
    with transaction.atomic(using="default"), connections["default"].cursor() as cur:
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", [t])
        for sql, params in statements:
            cur.execute(sql, params)
    _populate_finance()


def _populate_finance() -> None:
    """Every finance table, through the services (as the finance role): the ledger tables only
    take rows that satisfy their invariants."""
    actor = system(TENANT)
    us = demo.books_create(
        actor=actor,
        code="US",
        name="US",
        base_currency="USD",
        foreign_currency="EUR",
    )
    eu = demo.books_create(actor=actor, code="EU", name="EU", base_currency="EUR")
    services.fx_rate_set(
        actor=actor,
        base="EUR",
        quote="USD",
        rate=Decimal("1.1"),
        valid_from=dt.date(2026, 1, 1),
    )
    matrix = services.approval_matrix_create(
        actor=actor,
        company_id=us.company.pk,
        payment_type="vendor",
        currency="USD",
        bands=[services.BandInput(Decimal(0), None, 1, ["r"])],
    )
    services.approval_matrix_activate(actor=actor, matrix_id=matrix.pk)
    assert us.bank is not None and us.foreign_bank is not None and eu.bank is not None
    payment, _ = services.payment_create(
        actor=actor,
        idempotency_key="p1",
        company_id=us.company.pk,
        payment_type="vendor",
        amount=Decimal("10.00"),
        currency="USD",
        bank_account_id=us.bank.pk,
        debit_account_id=us.accounts["2000"].pk,
        beneficiary_name="V",
        beneficiary_account="X1",
    )
    services.payment_submit(actor=actor, payment_id=payment.pk)
    services.payment_approve(
        actor=Actor.for_user(TENANT, "00000000-0000-4000-8000-0000000000b1"),
        payment_id=payment.pk,
    )
    services.intercompany_settle(
        actor=actor,
        from_bank_account_id=us.foreign_bank.pk,
        to_bank_account_id=eu.bank.pk,
        from_account_id=us.accounts["1510"].pk,
        to_account_id=eu.accounts["2500"].pk,
        amount=Decimal("5.00"),
        entry_date=dt.date(2026, 3, 1),
    )
    services.document_attach(
        actor=actor,
        company_id=us.company.pk,
        provider="local",
        locator="/x",
        content_hash="0" * 64,
        size_bytes=1,
        mime_type="text/plain",
        payment_id=payment.pk,
    )


@pytest.fixture
def populated(transactional_db: None):  # type: ignore[no-untyped-def]
    from assurance.chain.sealer import seal_until_caught_up

    _populate_every_tenant_table()
    seal_until_caught_up()  # kernel.audit_seals: the tenant's hash chain
    yield
    for alias in connections:
        connections[alias].close()
    truncate_governed_tables()


def _counts_without_tenant() -> dict[str, int]:
    return {t: scalar(alias_reading(t), f"SELECT count(*) FROM {t}") for t in tenant_tables()}


def test_every_tenant_table_has_rows_for_the_tenant(populated: None) -> None:
    with tenant_context(TENANT):
        counts = {t: scalar(alias_reading(t), f"SELECT count(*) FROM {t}") for t in tenant_tables()}
    assert all(n >= 1 for n in counts.values()), counts


def test_fresh_connection_without_tenant_sees_zero_rows(populated: None) -> None:
    for alias in connections:
        connections[alias].close()
        # Pooled aliases hand back a used server connection otherwise; this test wants new ones.
        connections[alias].close_pool()
    for alias in ("kernel", "finance", "config"):
        assert scalar(alias, "SELECT current_setting('app.tenant_id', true)") is None
    assert set(_counts_without_tenant().values()) == {0}


def test_reused_connection_without_tenant_sees_zero_rows(populated: None) -> None:
    with tenant_context(TENANT):
        assert scalar("kernel", "SELECT count(*) FROM kernel.users") == 1
        assert scalar("finance", "SELECT count(*) FROM finance.companies") == 2
        assert scalar("config", "SELECT count(*) FROM config.settings") == 1
    # Same server connections, after COMMIT: the variable now reads '' rather than NULL.
    for alias in ("kernel", "finance", "config"):
        assert scalar(alias, "SELECT current_setting('app.tenant_id', true)") == ""
    assert set(_counts_without_tenant().values()) == {0}
