"""What is deployed, read from the PostgreSQL catalog: roles, ownership, RLS, policies, grants.

These run over *every* table, so a new table that forgets its governance fails here.
"""

from __future__ import annotations

import pytest

from aibos.db.governance import TENANT_PREDICATE
from aibos.db.roles import PLATFORM_ROLES, RUNTIME_ALIASES
from tests.security.helpers import GOVERNED_SCHEMAS, fetchall, scalar, tenant_tables

pytestmark = pytest.mark.django_db(databases="__all__")

# Tables whose policies differ from the single tenant_isolation policy, and why.
NON_STANDARD_POLICIES = {
    # Reads are tenant-scoped; inserts come only from kernel.audit_capture() (SECURITY DEFINER)
    # because the runtime roles have no INSERT privilege on it.
    # The audit sealer reads every tenant's events by a policy naming its role.
    "kernel.audit_events": {
        ("tenant_read", "SELECT"),
        ("append", "INSERT"),
        ("sealer_read", "SELECT"),
    },
    # The hash chain: tenants read their own seals; only the sealer reads all and appends.
    "kernel.audit_seals": {
        ("tenant_read", "SELECT"),
        ("sealer_read", "SELECT"),
        ("sealer_append", "INSERT"),
    },
}
# Tables the governance views read platform-wide: besides their tenant policy, one read policy
# for aibos_monitor_role alone (assurance/migrations/0003_governance_views.py).
MONITOR_READ_TABLES = {
    "kernel.users",
    "finance.companies",
    "finance.journal_entries",
    "finance.journal_lines",
}
# Governed tables without tenant_id, each a deliberate global table (docs/data-model.md).
GLOBAL_TABLES = {
    "kernel.tenants",
    "kernel.permissions",
    "config.provider_profiles",
    # The approval-grant signing key: one row, no grant to any runtime role.
    "kernel.approval_grant_keys",
    # Where the audit sealer stands in the log (one position for every chain).
    "kernel.audit_seal_batches",
    # Query Optimizer recommendations: about the schema and the workload, not a tenant's rows.
    "kernel.optimizer_recommendations",
}


def test_runtime_connections_use_least_privilege_roles() -> None:
    for alias, role in RUNTIME_ALIASES.items():
        assert scalar(alias, "SELECT current_user") == role
        assert scalar(alias, "SELECT session_user") == role


def test_platform_roles_are_not_superuser_and_do_not_bypass_rls() -> None:
    rows = fetchall(
        "default",
        "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin "
        "FROM pg_roles WHERE rolname = ANY(%s) ORDER BY rolname",
        [list(PLATFORM_ROLES)],
    )
    assert [r[0] for r in rows] == sorted(PLATFORM_ROLES)
    for name, is_super, bypass, createrole, createdb, can_login in rows:
        assert (is_super, bypass, createrole, createdb) == (False, False, False, False), name
        assert can_login, name


def test_platform_roles_own_nothing() -> None:
    owned = fetchall(
        "default",
        """
        SELECT r.rolname, c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE r.rolname = ANY(%s)
        UNION ALL
        SELECT r.rolname, p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
        WHERE r.rolname = ANY(%s)
        UNION ALL
        SELECT r.rolname, n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
        WHERE r.rolname = ANY(%s)
        """,
        [list(PLATFORM_ROLES)] * 3,
    )
    assert owned == []


def test_every_governed_table_is_known_to_be_tenant_scoped_or_global() -> None:
    all_tables = {
        r[0]
        for r in fetchall(
            "default",
            "SELECT format('%%I.%%I', schemaname, tablename) FROM pg_tables WHERE schemaname = ANY(%s)",
            [list(GOVERNED_SCHEMAS)],
        )
    }
    assert all_tables - set(tenant_tables()) == GLOBAL_TABLES


def test_every_tenant_table_has_rls_enabled_and_forced() -> None:
    tables = tenant_tables()
    assert len(tables) >= 14
    rows = fetchall(
        "default",
        """
        SELECT format('%%I.%%I', n.nspname, c.relname), c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE format('%%I.%%I', n.nspname, c.relname) = ANY(%s)
        """,
        [tables],
    )
    assert {r[0] for r in rows} == set(tables)
    not_forced = [name for name, enabled, forced in rows if not (enabled and forced)]
    assert not_forced == []


def test_tenant_policies_are_the_single_inlinable_fail_closed_predicate() -> None:
    for table in tenant_tables():
        schema, name = table.split(".")
        policies = fetchall(
            "default",
            "SELECT policyname, cmd, permissive, roles::text[], qual, with_check FROM pg_policies "
            "WHERE schemaname = %s AND tablename = %s ORDER BY policyname",
            [schema, name],
        )
        if table in MONITOR_READ_TABLES:
            monitor = [p for p in policies if p[0] == "monitor_read"]
            assert monitor == [
                ("monitor_read", "SELECT", "PERMISSIVE", ["aibos_monitor_role"], "true", None)
            ], table
            policies = [p for p in policies if p[0] != "monitor_read"]
        if table in NON_STANDARD_POLICIES:
            assert {(p[0], p[1]) for p in policies} == NON_STANDARD_POLICIES[table]
            continue
        assert len(policies) == 1, table
        policyname, cmd, permissive, roles, qual, with_check = policies[0]
        assert (policyname, cmd, permissive, roles) == (
            "tenant_isolation",
            "ALL",
            "PERMISSIVE",
            ["public"],
        )
        # Postgres prints the expression back normalized; compare on the essentials.
        for expr in (qual, with_check):
            assert "current_setting('app.tenant_id'::text, true)" in expr, table
            assert "NULLIF(" in expr and "SELECT" in expr, table
        # No function call of ours in the policy: it stays inlinable.
        assert "kernel." not in qual
    assert "NULLIF" in TENANT_PREDICATE


def test_schema_boundaries_in_grants() -> None:
    """kernel role: kernel CRUD + config read; finance role: finance CRUD + config read;
    config role: config read only. Nothing else, on any table."""
    rows = fetchall(
        "default",
        """
        SELECT grantee, table_schema, string_agg(DISTINCT privilege_type, ',' ORDER BY privilege_type)
        FROM information_schema.role_table_grants
        WHERE grantee = ANY(%s) AND table_schema = ANY(%s)
        GROUP BY grantee, table_schema ORDER BY 1, 2
        """,
        [list(RUNTIME_ALIASES.values()), list(GOVERNED_SCHEMAS)],
    )
    assert rows == [
        ("aibos_config_role", "config", "SELECT"),
        ("aibos_finance_role", "config", "SELECT"),
        ("aibos_finance_role", "finance", "DELETE,INSERT,SELECT,UPDATE"),
        ("aibos_kernel_role", "config", "SELECT"),
        ("aibos_kernel_role", "kernel", "DELETE,INSERT,SELECT,UPDATE"),
    ]
    no_truncate = fetchall(
        "default",
        "SELECT grantee, table_name FROM information_schema.role_table_grants "
        "WHERE grantee = ANY(%s) AND privilege_type IN ('TRUNCATE', 'TRIGGER', 'REFERENCES')",
        [list(PLATFORM_ROLES)],
    )
    assert no_truncate == []


def test_the_monitor_reads_the_governance_views_and_a_few_columns_only() -> None:
    """Every privilege aibos_monitor_role holds in the governed schemas, table- and column-level:
    SELECT on the eight views, SELECT on ids, tenants, statuses, counts and amounts (no memo,
    name, email, secret), nothing else."""
    rows = fetchall(
        "default",
        """
        SELECT a.privilege_type, c.oid::regclass::text, NULL FROM pg_class c
        CROSS JOIN LATERAL aclexplode(c.relacl) a
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(s)s) AND a.grantee = 'aibos_monitor_role'::regrole
        UNION ALL
        SELECT a.privilege_type, c.oid::regclass::text, att.attname::text FROM pg_class c
        JOIN pg_attribute att ON att.attrelid = c.oid
        CROSS JOIN LATERAL aclexplode(att.attacl) a
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(s)s) AND a.grantee = 'aibos_monitor_role'::regrole
        """,
        {"s": list(GOVERNED_SCHEMAS)},
    )
    tables = sorted(t for p, t, col in rows if col is None and p == "SELECT")
    assert tables == sorted(
        [
            "finance.v_double_entry_check",
            "finance.v_immutability_check",
            "finance.v_journal_integrity",
            "finance.v_journal_integrity_summary",
            "kernel.v_governance_summary",
            "kernel.v_schema_boundary_check",
            "kernel.v_tenant_health",
            "kernel.v_tenant_isolation_check",
        ]
    )
    columns: dict[str, set[str]] = {}
    for _, table, column in rows:
        if column is not None:
            columns.setdefault(table, set()).add(column)
    assert columns == {
        "kernel.tenants": {"id", "slug", "status"},
        "kernel.users": {"tenant_id", "is_active", "deleted_at"},
        "finance.companies": {"tenant_id", "id"},
        "finance.journal_entries": {"tenant_id", "id", "company_id", "status", "line_count"},
        "finance.journal_lines": {
            "tenant_id",
            "entry_id",
            "currency",
            "debit",
            "credit",
            "txn_amount",
        },
    }
    assert {p for p, _, _ in rows} == {"SELECT"}


def test_audit_log_is_read_only_for_every_platform_role() -> None:
    rows = fetchall(
        "default",
        "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
        "WHERE table_schema = 'kernel' AND table_name = 'audit_events' AND grantee = ANY(%s)",
        [list(PLATFORM_ROLES)],
    )
    assert {p for _, p in rows} == {"SELECT"}


def test_every_tenant_table_has_an_index_led_by_tenant_id() -> None:
    for table in tenant_tables():
        leading = fetchall(
            "default",
            """
            SELECT a.attname FROM pg_index i
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
            WHERE i.indrelid = %s::regclass
            """,
            [table],
        )
        assert ("tenant_id",) in leading, table


def test_every_governed_table_is_audited_except_the_audit_log() -> None:
    rows = fetchall(
        "default",
        """
        SELECT format('%%I.%%I', n.nspname, c.relname),
               bool_or(p.proname = 'audit_capture')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
        LEFT JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE n.nspname = ANY(%s) AND c.relkind = 'r'
        GROUP BY 1
        """,
        [list(GOVERNED_SCHEMAS)],
    )
    unaudited = {name for name, audited in rows if not audited}
    # The log itself, and totals derived from audited postings (written only by the posting
    # trigger, re-derivable by `ledger_reconcile`).
    assert unaudited == {
        "kernel.audit_events",
        # The log's own hash chain, append-only and checked by `audit_verify`.
        "kernel.audit_seals",
        "kernel.audit_seal_batches",
        "finance.account_balances",
        "finance.posting_sequences",
    }


def test_security_definer_functions_pin_search_path() -> None:
    rows = fetchall(
        "default",
        "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = ANY(%s) AND p.prosecdef",
        [list(GOVERNED_SCHEMAS)],
    )
    assert rows, "expected the audit function to be SECURITY DEFINER"
    for name, config in rows:
        assert any(c.startswith("search_path=") for c in config or []), name


def test_every_key_between_tenant_rows_is_a_composite_foreign_key_in_the_database() -> None:
    """An ORM key without a database constraint must be backed by (tenant_id, x_id) -> target."""
    from django.apps import apps

    from aibos.db.governance import quoted_table

    checked = 0
    for label in GOVERNED_SCHEMAS:
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                if not (field.is_relation and field.many_to_one and not field.db_constraint):
                    continue
                target = quoted_table(field.related_model._meta.db_table)
                rows = fetchall(
                    "default",
                    """
                    SELECT array_agg(a.attname ORDER BY k.ord), c.confrelid::regclass::text
                    FROM pg_constraint c
                    CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
                    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
                    WHERE c.conrelid = %s::regclass AND c.contype = 'f'
                    GROUP BY c.oid
                    """,
                    [quoted_table(model._meta.db_table)],
                )
                assert (["tenant_id", field.column], target.replace('"', "")) in [
                    (cols, tgt) for cols, tgt in rows
                ], f"{model._meta.label}.{field.name} has no composite tenant key"
                checked += 1
    assert checked >= 7


def test_no_governed_object_is_owned_by_a_role_that_bypasses_rls() -> None:
    """A superuser (or BYPASSRLS) owner would make FORCE meaningless for everything that runs
    as the owner: SECURITY DEFINER functions, views."""
    rows = fetchall(
        "default",
        """
        SELECT kind, name, owner FROM (
            SELECT 'schema' AS kind, n.nspname::text AS name, n.nspowner AS owner_oid
            FROM pg_namespace n WHERE n.nspname = ANY(%(s)s)
            UNION ALL
            SELECT 'relation', format('%%I.%%I', n.nspname, c.relname), c.relowner
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = ANY(%(s)s) AND c.relkind IN ('r', 'p', 'v', 'm')
            UNION ALL
            SELECT 'function', p.oid::regprocedure::text, p.proowner
            FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname = ANY(%(s)s)
        ) o JOIN LATERAL (
            SELECT rolname AS owner, rolsuper OR rolbypassrls AS bypasses FROM pg_roles WHERE oid = o.owner_oid
        ) r ON true
        WHERE r.bypasses
        """,
        {"s": list(GOVERNED_SCHEMAS)},
    )
    assert rows == []
    assert scalar("default", "SELECT count(*) FROM pg_proc WHERE proname = 'audit_capture'") == 1
