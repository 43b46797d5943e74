"""Personas (as in Healthchecks): alice and bob in tenant A, charlie in tenant B."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connections

from kernel.models import Tenant, User
from tests.factories import TenantFactory, UserFactory

GOVERNED_SCHEMAS = ("kernel", "finance", "config")


@pytest.fixture
def tenant_a(db: None) -> Tenant:
    return TenantFactory(slug="tenant-a", name="Tenant A")


@pytest.fixture
def tenant_b(db: None) -> Tenant:
    return TenantFactory(slug="tenant-b", name="Tenant B")


@pytest.fixture
def alice(tenant_a: Tenant) -> User:
    return UserFactory(tenant=tenant_a, email="alice@a.test", is_superuser=True)


@pytest.fixture
def bob(tenant_a: Tenant) -> User:
    return UserFactory(tenant=tenant_a, email="bob@a.test")


@pytest.fixture
def charlie(tenant_b: Tenant) -> User:
    return UserFactory(tenant=tenant_b, email="charlie@b.test", is_superuser=True)


def truncate_governed_tables() -> None:
    """Django's flush only sees tables on the owner's search_path (public); ours live in the
    governed schemas, so committed rows are removed here, as the owner."""
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT string_agg(format('%%I.%%I', schemaname, tablename), ', ') "
            # The permission catalogue and the approval-grant key come from migrations.
            "FROM pg_tables WHERE schemaname = ANY(%s) "
            "AND tablename NOT IN ('permissions', 'approval_grant_keys')",
            [list(GOVERNED_SCHEMAS)],
        )
        (tables,) = cur.fetchone()
        # Ledger tables refuse TRUNCATE with a trigger; only a superuser can skip triggers
        # (replica mode), which the test owner is and no runtime role is.
        cur.execute("SET session_replication_role = replica")
        try:
            cur.execute(f"TRUNCATE {tables} CASCADE")
        finally:
            cur.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def committed(transactional_db: None) -> Iterator[None]:
    """For tests that need real COMMITs (fresh connections, middleware transactions)."""
    yield
    for alias in connections:
        connections[alias].close()
    truncate_governed_tables()


@pytest.fixture(scope="session")
def django_db_setup(
    django_db_setup: None, django_db_blocker: pytest.FixtureRequest
) -> Iterator[None]:
    yield
    # The runtime aliases keep connections to the test database (in their pools); close them so
    # the owner can drop it.
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        for alias in connections:
            connections[alias].close()
            connections[alias].close_pool()


@pytest.hookimpl(trylast=True)  # after pytest-django has dropped the test database
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The embedded PostgreSQL this run started stops with it (after the test database is
    dropped); one that was already running (`make run` in another terminal) stays up."""
    from aibos.embedded_postgres import stop_started_here

    stop_started_here()


# Ledger fixtures, shared by tests/finance and tests/security.
from tests.api_client import admin, cell  # noqa: E402, F401
from tests.finance.books import approvers, books, books_b  # noqa: E402, F401
