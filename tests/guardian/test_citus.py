"""The Citus plan for the project's own schema, and the CI check that keeps new tables
Citus-ready. Citus is not installed here: these read the catalog; nothing runs on Citus."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from guardian.catalog import read_catalog
from guardian.citus import build_plan
from guardian.citus.plan import render_ddl

pytestmark = pytest.mark.django_db(databases="__all__")

GOVERNED = ("kernel", "finance", "config")


def plan_now():  # type: ignore[no-untyped-def]
    catalog = read_catalog(connections["default"], [*GOVERNED, "public"])
    return build_plan(catalog, governed=GOVERNED)


def test_the_project_plan_places_every_table() -> None:
    plan = plan_now()
    assert plan.placement("finance.journal_entries").how == "distributed"
    assert plan.placement("finance.journal_entries").column == "tenant_id"
    assert plan.placement("kernel.audit_events").how == "distributed"
    # Global tables referenced by tenant tables are replicated; the others stay local.
    assert {p.table for p in plan.of("reference")} == {
        "kernel.tenants",
        "kernel.permissions",
        "config.provider_profiles",
    }
    assert plan.placement("kernel.approval_grant_keys").how == "local"
    assert plan.placement("public.django_migrations").how == "local"
    assert not plan.citus_installed
    assert "Not run" in plan.notes[0]


def test_the_project_plan_names_its_known_incompatibilities() -> None:
    findings = {f.key: f for f in plan_now().findings}
    pk = findings["primary-key:finance.journal_entries:journal_entries_pkey"]
    assert pk.fix.endswith("PRIMARY KEY (tenant_id, id);")
    assert "unique-key:kernel.api_credentials:api_credentials_key_id_key" in findings
    # Django admin's log (public, stays local) points at a distributed table.
    admin_log = next(
        f for k, f in findings.items() if k.startswith("foreign-key:public.django_admin_log:")
    )
    assert "local" in admin_log.detail and "distributed" in admin_log.detail
    # kernel.users' pk cannot be replaced while that FK leans on it: the fix drops it first.
    users_fix = findings["primary-key:kernel.users:users_pkey"].fix
    assert users_fix.index("django_admin_log") < users_fix.index('"kernel"."users"')
    assert "trigger:kernel.tenants:kernel_tenant_audit" in findings  # reference-table trigger
    audit = findings["trigger:kernel.audit_capture:audit_capture"]
    assert "kernel.audit_events" in audit.detail and "enable_unsafe_triggers" in audit.fix
    record = next(
        f for f in findings.values() if f.kind == "security-definer" and f.name == "audit_record"
    )
    assert "create_distributed_function" in record.fix and "'p_tenant_id'" in record.fix
    assert "SET LOCAL" in findings["rls:*:tenant-guc"].fix
    # Today's tenant foreign keys are already composite, so none between distributed tables.
    assert not [
        f
        for f in findings.values()
        if f.kind == "foreign-key"
        and "(distributed) ->" in f.detail
        and "(distributed):" in f.detail
    ]


def test_the_ddl_script_says_it_was_not_run() -> None:
    ddl = render_ddl(plan_now())
    assert ddl.startswith("-- Not run:")
    assert "SELECT create_reference_table('kernel.tenants');" in ddl
    assert "SELECT create_distributed_table('finance.journal_lines', 'tenant_id');" in ddl


def test_the_ci_check_passes_on_the_project() -> None:
    out = io.StringIO()
    call_command("citus_plan", "--check", stdout=out, stderr=io.StringIO())
    assert "no new key shapes" in out.getvalue()


def test_a_new_tenant_table_whose_primary_key_lacks_tenant_id_fails_the_check() -> None:
    with connections["default"].cursor() as cur:
        cur.execute(
            "CREATE TABLE finance.citus_probe (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, "
            "created_at timestamptz NOT NULL)"
        )
    with pytest.raises(CommandError) as raised:
        call_command("citus_plan", "--check", stdout=io.StringIO(), stderr=io.StringIO())
    message = str(raised.value)
    assert "primary-key:finance.citus_probe:citus_probe_pkey" in message
    assert "PRIMARY KEY (tenant_id, id)" in message


def test_a_citus_ready_table_passes_and_a_non_colocated_fk_fails() -> None:
    with connections["default"].cursor() as cur:
        cur.execute(
            "CREATE TABLE finance.citus_ready (tenant_id uuid NOT NULL, id uuid NOT NULL, "
            "PRIMARY KEY (tenant_id, id))"
        )
    call_command("citus_plan", "--check", stdout=io.StringIO(), stderr=io.StringIO())
    with connections["default"].cursor() as cur:
        cur.execute(
            "CREATE TABLE finance.citus_child (tenant_id uuid NOT NULL, id uuid NOT NULL, "
            "parent_id uuid, PRIMARY KEY (tenant_id, id), UNIQUE (tenant_id, parent_id))"
        )
        cur.execute("ALTER TABLE finance.citus_ready ADD UNIQUE (id)")
        cur.execute(
            "ALTER TABLE finance.citus_child ADD CONSTRAINT citus_child_parent_fk "
            "FOREIGN KEY (parent_id) REFERENCES finance.citus_ready (id)"
        )
    with pytest.raises(CommandError) as raised:
        call_command("citus_plan", "--check", stdout=io.StringIO(), stderr=io.StringIO())
    message = str(raised.value)
    assert "foreign-key:finance.citus_child:citus_child_parent_fk" in message
    assert (
        'FOREIGN KEY (tenant_id, parent_id) REFERENCES "finance"."citus_ready" (tenant_id, id)'
        in message
    )
    assert "unique-key:finance.citus_ready:citus_ready_id_key" in message


@pytest.mark.django_db
def test_a_nullable_tenant_column_is_a_key_shape_citus_refuses() -> None:
    from django.db import connections

    from guardian.catalog import read_catalog
    from guardian.citus.plan import build_plan

    plan = build_plan(
        read_catalog(connections["default"]), governed=("kernel", "finance", "config")
    )
    nullable = [f for f in plan.findings if f.kind == "nullable-distribution-column"]
    assert [f.table for f in nullable] == ["kernel.audit_events"]
    assert nullable[0].key_shape
