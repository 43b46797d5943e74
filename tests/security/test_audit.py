"""Audit capture by database triggers, in the same transaction, for every kind of write."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, ProgrammingError, connections, transaction

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from finance.models import Company
from kernel.models import AuditEvent, Role, Tenant, User
from tests.factories import RoleFactory
from tests.security.helpers import fetchall, scalar

pytestmark = pytest.mark.django_db(databases="__all__")


def _events(tenant: Tenant, table: str) -> list[AuditEvent]:
    with tenant_context(tenant.id):
        return list(AuditEvent.objects.filter(table_name=table).order_by("id"))


def test_orm_writes_are_audited_with_actor_and_correlation(tenant_a: Tenant, alice: User) -> None:
    with tenant_context(Actor.for_user(tenant_a.id, alice.pk), correlation_id="req-123"):
        role = Role.objects.create(name="auditor")
        role.description = "reads the log"
        role.save()
        role_id = role.pk
        role.delete()
    events = _events(tenant_a, "roles")
    assert [e.operation for e in events] == ["INSERT", "UPDATE", "DELETE"]
    for e in events:
        assert e.row_id == str(role_id)
        assert e.actor == f"user:{alice.pk}"
        assert e.actor_user_id == alice.pk
        assert e.db_role == "aibos_kernel_role"
        assert e.correlation_id == "req-123"
        assert e.schema_name == "kernel"
    assert events[0].new_values["name"] == "auditor"
    assert "description" in events[1].changed_fields
    assert events[1].old_values["description"] == ""
    assert events[2].new_values is None and events[2].old_values["name"] == "auditor"
    # One transaction per unit of work: insert/update/delete share the txid.
    assert len({e.txid for e in events}) == 1


def test_bulk_and_queryset_update_are_audited_row_by_row(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a.id):
        Role.objects.bulk_create([Role(tenant_id=tenant_a.id, name=f"bulk.{i}") for i in range(50)])
        updated = Role.objects.filter(name__startswith="bulk.").update(description="x")
        deleted, _ = Role.objects.filter(name__startswith="bulk.").delete()
    assert updated == 50 and deleted == 50
    ops = [e.operation for e in _events(tenant_a, "roles")]
    assert ops.count("INSERT") == 50 and ops.count("UPDATE") == 50 and ops.count("DELETE") == 50


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_raw_sql_writes_are_audited_with_the_database_role(
    committed: None, tenant_a: Tenant
) -> None:
    # Committed: the finance connection writes the audit rows, the kernel connection reads them.
    with tenant_context(tenant_a.id), connections["finance"].cursor() as cur:
        cur.execute(
            "INSERT INTO finance.companies (tenant_id, code, name, base_currency) VALUES (%s, 'RAW', 'Raw', 'USD')",
            [tenant_a.id],
        )
        cur.execute("UPDATE finance.companies SET name = 'Raw 2' WHERE code = 'RAW'")
    events = _events(tenant_a, "companies")
    assert [e.operation for e in events] == ["INSERT", "UPDATE"]
    # No application actor was set: the database role is recorded instead, never NULL.
    assert {e.actor for e in events} == {"db:aibos_finance_role"}
    # Inserted and updated in one unit of work: updated_at keeps that unit's clock.
    assert events[1].changed_fields == ["name", "version"]


def test_database_maintains_updated_at_version_and_created_at(tenant_a: Tenant) -> None:
    with tenant_context(tenant_a.id):
        company = Company.objects.create(code="V", name="V", base_currency="USD")
        company.refresh_from_db()
        created, updated, version = company.created_at, company.updated_at, company.version
        with connections["finance"].cursor() as cur:
            cur.execute(
                "UPDATE finance.companies SET name = 'V2', created_at = '2000-01-01', "
                "updated_at = '2000-01-01', version = 99 WHERE id = %s",
                [company.pk],
            )
            cur.execute("SELECT now()")
            (unit_clock,) = cur.fetchone()
        company.refresh_from_db()
    assert company.created_at == created
    # The database stamps the update with the unit of work's clock, whatever the UPDATE said.
    assert company.updated_at == unit_clock >= updated
    assert company.version == version + 1


def test_secrets_never_reach_the_audit_log(alice: User) -> None:
    with tenant_context(alice.tenant_id):
        event = AuditEvent.objects.get(table_name="users", operation="INSERT", row_id=str(alice.pk))
    assert event.new_values["password"] == "[redacted]"


def test_audit_rows_are_tenant_scoped(tenant_a: Tenant, tenant_b: Tenant) -> None:
    RoleFactory(tenant=tenant_a)
    RoleFactory(tenant=tenant_b)
    with tenant_context(tenant_a.id):
        tenants_seen = set(AuditEvent.objects.values_list("tenant_id", flat=True))
        raw_seen = {
            r[0] for r in fetchall("kernel", "SELECT DISTINCT tenant_id FROM kernel.audit_events")
        }
    assert tenants_seen == raw_seen == {tenant_a.id}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE kernel.audit_events SET actor = 'someone-else'",
        "DELETE FROM kernel.audit_events",
        "TRUNCATE kernel.audit_events",
        "INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, operation,"
        " actor, db_role, txid) VALUES (%s, now(), 'kernel', 'users', 'INSERT', 'forged', 'x', 1)",
    ],
)
def test_audit_log_refuses_changes_from_the_runtime_role(tenant_a: Tenant, statement: str) -> None:
    RoleFactory(tenant=tenant_a)
    with tenant_context(tenant_a.id):
        before = scalar("kernel", "SELECT count(*) FROM kernel.audit_events")
        with pytest.raises(ProgrammingError) as exc, transaction.atomic(using="kernel"):
            with connections["kernel"].cursor() as cur:
                cur.execute(statement, [tenant_a.id] if "%s" in statement else None)
        assert getattr(exc.value.__cause__, "sqlstate", None) == "42501"
        assert scalar("kernel", "SELECT count(*) FROM kernel.audit_events") == before


def test_audit_log_refuses_update_even_from_the_owner(tenant_a: Tenant) -> None:
    RoleFactory(tenant=tenant_a)
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic(using="default"):
        with connections["default"].cursor() as cur:
            cur.execute("UPDATE kernel.audit_events SET actor = 'x'")


def test_a_rolled_back_change_leaves_no_audit_row(tenant_a: Tenant) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), tenant_context(tenant_a.id):
        Role.objects.create(name="doomed")
        raise Boom
    assert [
        e for e in _events(tenant_a, "roles") if e.new_values and e.new_values["name"] == "doomed"
    ] == []


def test_a_rows_id_cannot_change(tenant_a: Tenant) -> None:
    """The audit trail follows a row by its id; the database keeps ids fixed."""
    with tenant_context(tenant_a.id):
        role = Role.objects.create(name="fixed")
        with (
            pytest.raises(IntegrityError, match="cannot change"),
            transaction.atomic(using="kernel"),
        ):
            with connections["kernel"].cursor() as cur:
                cur.execute(
                    "UPDATE kernel.roles SET id = gen_random_uuid() WHERE id = %s", [role.pk]
                )


def test_no_platform_role_can_write_the_log_through_its_writer(tenant_a: Tenant) -> None:
    """kernel.audit_record inserts events for the audit triggers (it runs as the owner); a
    platform role that could call it would forge the log."""
    from aibos.db.roles import PLATFORM_ROLES

    call = (
        "SELECT kernel.audit_record(%s, 'finance', 'journal_entries', 'x', 'INSERT', NULL, "
        "'{}'::jsonb, NULL)"
    )
    for role in PLATFORM_ROLES:
        with pytest.raises(ProgrammingError) as exc, transaction.atomic(using="default"):
            with connections["default"].cursor() as cur:
                cur.execute(f"SET LOCAL ROLE {role}")
                cur.execute(call, [tenant_a.id])
        assert getattr(exc.value.__cause__, "sqlstate", None) == "42501", role
    assert (
        fetchall(
            "default",
            "SELECT grantee FROM information_schema.routine_privileges "
            "WHERE routine_schema = 'kernel' AND routine_name = 'audit_record' "
            "AND grantee <> 'aibos_migration'",
        )
        == []
    )
