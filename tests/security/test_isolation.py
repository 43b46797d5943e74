"""Tenant isolation as the runtime roles: RLS, composite keys, schema boundaries."""

from __future__ import annotations

import uuid

import pytest
from django.db import IntegrityError, ProgrammingError, connections, transaction
from psycopg import errors as pg

from aibos.tenancy import (
    NESTED_OTHER_TENANT,
    TenantContextMissing,
    TenantSwitchRefused,
    current_context,
    tenant_context,
)
from finance.models import Company
from finance.services import company_create
from kernel import services
from kernel.models import Role, Tenant, User, UserRole
from tests.factories import RoleFactory, UserFactory, system
from tests.security.helpers import fetchall, scalar

pytestmark = pytest.mark.django_db(databases="__all__")


def _sqlstate(exc: BaseException) -> str | None:
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None)


def test_orm_without_tenant_context_raises_never_returns_all(alice: User, charlie: User) -> None:
    with pytest.raises(TenantContextMissing):
        list(User.objects.all())
    with pytest.raises(TenantContextMissing):
        User.objects.count()
    # Base-manager paths too: Django uses the base manager for these.
    with tenant_context(alice.tenant_id):
        link = services.user_assign_role(
            actor=system(Tenant.objects.get(pk=alice.tenant_id)),
            user=alice,
            role=RoleFactory(tenant=Tenant.objects.get(pk=alice.tenant_id)),
        )
        link = UserRole.objects.get(pk=link.pk)
    with pytest.raises(TenantContextMissing):
        link.user  # noqa: B018 - FK access goes through User._base_manager
    with pytest.raises(TenantContextMissing):
        alice.refresh_from_db()


def test_raw_sql_without_tenant_sees_zero_rows(alice: User, charlie: User) -> None:
    assert scalar("kernel", "SELECT count(*) FROM kernel.users") == 0
    with tenant_context(alice.tenant_id):
        assert scalar("kernel", "SELECT count(*) FROM kernel.users") == 1


def test_tenant_a_never_sees_tenant_b(alice: User, bob: User, charlie: User) -> None:
    with tenant_context(alice.tenant_id):
        assert set(User.objects.values_list("email", flat=True)) == {"alice@a.test", "bob@a.test"}
        # The ORM filter is defense in depth: RLS alone hides charlie from raw SQL, even when
        # the query asks for him by id.
        assert fetchall("kernel", "SELECT id FROM kernel.users WHERE id = %s", [charlie.pk]) == []
        assert User.objects.filter(pk=charlie.pk).count() == 0


def test_tenant_a_cannot_update_or_delete_tenant_b_rows(alice: User, charlie: User) -> None:
    with tenant_context(alice.tenant_id), connections["kernel"].cursor() as cur:
        cur.execute("UPDATE kernel.users SET full_name = 'pwned' WHERE id = %s", [charlie.pk])
        assert cur.rowcount == 0
        cur.execute("DELETE FROM kernel.users WHERE id = %s", [charlie.pk])
        assert cur.rowcount == 0
    with tenant_context(charlie.tenant_id):
        charlie_now = User.objects.get(pk=charlie.pk)
    assert charlie_now.full_name != "pwned"


def test_prefetch_and_fk_access_are_scoped(tenant_a: Tenant, tenant_b: Tenant) -> None:
    role_a = RoleFactory(tenant=tenant_a, name="shared.name")
    user_a = UserFactory(tenant=tenant_a)
    services.user_assign_role(actor=system(tenant_a), user=user_a, role=role_a)
    role_b = RoleFactory(tenant=tenant_b, name="shared.name")
    user_b = UserFactory(tenant=tenant_b)
    services.user_assign_role(actor=system(tenant_b), user=user_b, role=role_b)

    with tenant_context(tenant_a.id):
        roles = list(Role.objects.prefetch_related("user_links__user"))
        assert [r.pk for r in roles] == [role_a.pk]
        assert [link.user.pk for link in roles[0].user_links.all()] == [user_a.pk]
        link = UserRole.objects.get()
        assert link.role.pk == role_a.pk


def test_insert_with_another_tenants_id_is_refused_by_the_database(
    alice: User, charlie: User
) -> None:
    with tenant_context(alice.tenant_id), pytest.raises(ProgrammingError) as exc:
        with transaction.atomic(using="kernel"), connections["kernel"].cursor() as cur:
            cur.execute(
                "INSERT INTO kernel.roles (id, tenant_id, name, description) VALUES (%s, %s, 'x', '')",
                [uuid.uuid4(), charlie.tenant_id],
            )
    assert "row-level security" in str(exc.value)
    # bulk_create skips Model.save(), so only the database stands in the way.
    with tenant_context(alice.tenant_id), pytest.raises(ProgrammingError):
        with transaction.atomic(using="kernel"):
            Role.objects.bulk_create([Role(tenant_id=charlie.tenant_id, name="sneaky")])
    # And the ORM refuses before it gets that far.
    with tenant_context(alice.tenant_id), pytest.raises(PermissionError):
        Role(tenant_id=charlie.tenant_id, name="sneaky").save()


def test_changing_a_rows_tenant_is_refused(alice: User, charlie: User) -> None:
    with tenant_context(alice.tenant_id), pytest.raises((ProgrammingError, IntegrityError)):
        with transaction.atomic(using="kernel"):
            User.objects.filter(pk=alice.pk).update(tenant_id=charlie.tenant_id)
    with tenant_context(alice.tenant_id):
        assert User.objects.get(pk=alice.pk).tenant_id == alice.tenant_id


def test_composite_key_to_another_tenants_row_fails_exactly_like_a_missing_row(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    user_a = UserFactory(tenant=tenant_a)
    role_b = RoleFactory(tenant=tenant_b)

    def link_to(role_id: uuid.UUID) -> IntegrityError:
        with tenant_context(tenant_a.id), pytest.raises(IntegrityError) as exc:
            with transaction.atomic(using="kernel"), connections["kernel"].cursor() as cur:
                cur.execute(
                    "INSERT INTO kernel.user_roles (id, tenant_id, user_id, role_id) VALUES (%s, %s, %s, %s)",
                    [uuid.uuid4(), tenant_a.id, user_a.pk, role_id],
                )
        return exc.value

    other_tenants = link_to(role_b.pk)
    missing = link_to(uuid.uuid4())
    for err in (other_tenants, missing):
        assert isinstance(err.__cause__, pg.ForeignKeyViolation)
    assert other_tenants.__cause__.diag.constraint_name == missing.__cause__.diag.constraint_name  # type: ignore[union-attr]
    assert other_tenants.__cause__.diag.constraint_name == "kernel_userrole_role_fk"  # type: ignore[union-attr]
    # Same message shape, differing only in the (caller-supplied) id.
    assert (
        str(other_tenants).replace(str(role_b.pk), "?").split("DETAIL")[0]
        == str(missing).split("DETAIL")[0]
    )


def test_kernel_role_cannot_read_finance_and_finance_role_cannot_read_kernel(
    tenant_a: Tenant,
) -> None:
    company_create(actor=system(tenant_a.id), code="A1", name="A One", base_currency="USD")
    with tenant_context(tenant_a.id):
        with pytest.raises(ProgrammingError) as exc, transaction.atomic(using="kernel"):
            fetchall("kernel", "SELECT * FROM finance.companies")
        assert _sqlstate(exc.value) == "42501"
        with pytest.raises(ProgrammingError) as exc, transaction.atomic(using="finance"):
            fetchall("finance", "SELECT * FROM kernel.users")
        assert _sqlstate(exc.value) == "42501"
        with pytest.raises(ProgrammingError) as exc, transaction.atomic(using="finance"):
            fetchall("finance", "SELECT * FROM kernel.audit_events")
        assert _sqlstate(exc.value) == "42501"
        assert Company.objects.count() == 1


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO config.settings (id, tenant_id, key, value) VALUES (gen_random_uuid(), %s, 'k', '1')",
        "UPDATE config.settings SET value = '2' WHERE tenant_id = %s",
        "DELETE FROM config.settings WHERE tenant_id = %s",
    ],
)
@pytest.mark.parametrize("alias", ["config", "kernel", "finance"])
def test_config_is_read_only_for_every_runtime_role(
    tenant_a: Tenant, alias: str, statement: str
) -> None:
    with tenant_context(tenant_a.id):
        with pytest.raises(ProgrammingError) as exc, transaction.atomic(using=alias):
            fetchall(alias, statement + " RETURNING 1", [tenant_a.id])
        assert _sqlstate(exc.value) == "42501"


@pytest.mark.parametrize(
    "attempt",
    [
        "SELECT set_config('app.is_admin', 'true', true)",
        "SELECT set_config('app.bypass', 'on', true)",
        "SELECT set_config('app.user_id', gen_random_uuid()::text, true)",
        "SELECT set_config('pgtrigger.ignore', '{kernel_user_audit}', true)",
        "SELECT set_config('row_security', 'off', true)",
    ],
)
def test_set_config_of_other_variables_cannot_widen_visibility(
    alice: User, bob: User, charlie: User, attempt: str
) -> None:
    with tenant_context(alice.tenant_id):
        fetchall("kernel", attempt)
        try:
            with transaction.atomic(using="kernel"):
                visible = scalar("kernel", "SELECT count(*) FROM kernel.users")
        except ProgrammingError as exc:
            # row_security=off makes Postgres refuse the query rather than apply RLS.
            assert "row-level security" in str(exc)
            return
        assert visible == 2


@pytest.mark.parametrize(
    "attempt",
    [
        "SET ROLE aibos_readonly",
        "SET SESSION AUTHORIZATION postgres",
        "SET session_replication_role = replica",
        "ALTER TABLE kernel.users DISABLE ROW LEVEL SECURITY",
        "ALTER TABLE kernel.users DISABLE TRIGGER ALL",
        "DROP POLICY tenant_isolation ON kernel.users",
    ],
)
def test_runtime_role_cannot_switch_off_protection(alice: User, attempt: str) -> None:
    with tenant_context(alice.tenant_id), pytest.raises(ProgrammingError) as exc:
        with transaction.atomic(using="kernel"):
            with connections["kernel"].cursor() as cur:
                cur.execute(attempt)
    assert _sqlstate(exc.value) == "42501"


def test_tenant_context_rejects_a_malformed_tenant_id() -> None:
    with pytest.raises(ValueError), tenant_context("'; DROP TABLE kernel.users; --"):
        pass


def test_nested_context_cannot_switch_tenant(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with tenant_context(tenant_a.id), pytest.raises(TenantSwitchRefused) as exc:
        with tenant_context(tenant_b.id):
            pass
    # Its own error: the caller has a context (it is not "missing"), it asked for another tenant.
    assert not isinstance(exc.value, TenantContextMissing)
    assert str(exc.value) == NESTED_OTHER_TENANT.format(active=tenant_a.id, requested=tenant_b.id)


def test_a_refused_switch_leaves_the_outer_context_in_place(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    with tenant_context(tenant_a.id) as outer:
        with pytest.raises(TenantSwitchRefused), tenant_context(tenant_b.id):
            pass
        assert current_context() == outer
        with connections["kernel"].cursor() as cur:
            cur.execute("SELECT current_setting('app.tenant_id', true)")
            assert cur.fetchone()[0] == str(tenant_a.id)
