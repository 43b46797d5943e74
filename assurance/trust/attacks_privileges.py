"""Privileges under attack as the runtime roles: schema boundaries, read-only configuration,
the audit trail and security events, becoming another role or switching RLS off."""

from __future__ import annotations

from .attacks_tenancy import b_sees_posted
from .base import (
    PRIVILEGE,
    RLS,
    Expect,
    Registry,
    expect_rows,
    sql,
)
from .dataset import Dataset

BOUNDARY = ("CC6.1", "CC6.3")
CONFIG = ("CC6.1", "CC8.1")
AUDIT = ("CC7.2", "CC8.1", "PI1.5")
SWITCH_OFF = ("CC6.1", "CC6.3", "CC8.1")

AUDIT_RECORD = (
    "SELECT kernel.audit_record(%s, 'finance', 'journal_entries', 'x', 'DELETE', NULL, "
    "'{}'::jsonb, NULL)"
)


SECURITY_EVENT = (
    "INSERT INTO kernel.security_events (tenant_id, kind, source, name, layer, db_role, expected, "
    "outcome, sqlstate, rule, detail, tsc, actor, correlation_id) VALUES "
    "(%s, 'blocked_attempt', 'forged', 'forged', 'RLS', '', '', '', '', '', '', '[]', 'x', 'x')"
)


def audit_trail_intact(ds: Dataset) -> str | None:
    """The posted entry's one audit event is still there, unaltered; no forged event exists."""
    return expect_rows(
        "kernel",
        ds.a.id,
        "SELECT operation, actor, (SELECT count(*) FROM kernel.audit_events f "
        "WHERE f.actor IN ('tampered', 'forged')) FROM kernel.audit_events "
        "WHERE table_name = 'journal_entries' AND row_id = %s",
        [str(ds.a.posted.pk)],
        [("INSERT", "command:trust_test", 0)],
    )


def no_config_rows(ds: Dataset) -> str | None:
    return expect_rows("config", ds.a.id, "SELECT count(*) FROM config.settings", [], [(0,)])


def security_events_intact(ds: Dataset) -> str | None:
    return expect_rows(
        "kernel",
        ds.b.id,
        "SELECT count(*) FROM kernel.security_events WHERE name = 'forged'",
        [],
        [(0,)],
    ) or expect_rows(
        "kernel",
        ds.a.id,
        "SELECT count(*) FROM kernel.security_events WHERE kind = 'tampered'",
        [],
        [(0,)],
    )


def register(r: Registry) -> None:
    f, k, c = "finance", "kernel", "config"
    # --- schema boundaries -----------------------------------------------------------------
    for name, alias, query in (
        ("schema.kernel_role_reads_finance", k, "SELECT * FROM finance.companies"),
        ("schema.finance_role_reads_kernel_users", f, "SELECT * FROM kernel.users"),
        ("schema.finance_role_reads_audit_log", f, "SELECT * FROM kernel.audit_events"),
        ("schema.config_role_reads_finance", c, "SELECT * FROM finance.journal_entries"),
        ("schema.config_role_reads_kernel", c, "SELECT * FROM kernel.api_credentials"),
        ("schema.kernel_role_reads_grant_key", k, "SELECT * FROM kernel.approval_grant_keys"),
        (
            "schema.finance_role_writes_kernel",
            f,
            "INSERT INTO kernel.events (tenant_id, type, payload, correlation_id) "
            "VALUES (current_setting('app.tenant_id')::uuid, 'forged', '{}', '')",
        ),
    ):
        r.add(
            name=name,
            title=f"{query} as aibos_{alias}_role",
            layer=PRIVILEGE,
            tsc=BOUNDARY,
            role=f"aibos_{alias}_role",
            expect=Expect(sqlstate="42501"),
            attempt=lambda ds, alias=alias, query=query: sql(alias, ds.a.id, query),
            unchanged=b_sees_posted,
        )
    # --- configuration is read-only at runtime ---------------------------------------------
    for name, alias, statement in (
        (
            "config.insert_setting",
            c,
            "INSERT INTO config.settings (tenant_id, key, value) VALUES (%s, 'fx.source', '1')",
        ),
        ("config.update_setting", k, "UPDATE config.settings SET value = '2' WHERE tenant_id = %s"),
        ("config.delete_setting", f, "DELETE FROM config.settings WHERE tenant_id = %s"),
    ):
        r.add(
            name=name,
            title=f"{statement.split(' (')[0].split(' SET')[0].split(' WHERE')[0]} "
            f"as aibos_{alias}_role",
            layer=PRIVILEGE,
            tsc=CONFIG,
            role=f"aibos_{alias}_role",
            expect=Expect(sqlstate="42501"),
            attempt=lambda ds, alias=alias, statement=statement: sql(
                alias, ds.a.id, (statement, [ds.a.id])
            ),
            unchanged=no_config_rows,
        )
    # --- the audit trail and the security events -------------------------------------------
    for name, statement in (
        ("audit.update_event", "UPDATE kernel.audit_events SET actor = 'tampered'"),
        ("audit.delete_events", "DELETE FROM kernel.audit_events"),
        ("audit.truncate_log", "TRUNCATE kernel.audit_events"),
        (
            "audit.forge_event",
            "INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, "
            "operation, actor, db_role, txid) VALUES (current_setting('app.tenant_id')::uuid, "
            "now(), 'finance', 'journal_entries', 'DELETE', 'forged', 'x', 1)",
        ),
        ("audit.call_the_log_writer", AUDIT_RECORD.replace("%s", "NULL")),
    ):
        r.add(
            name=name,
            title=f"{statement[:90]} (kernel role)",
            layer=PRIVILEGE,
            tsc=AUDIT if "TRUNCATE" not in statement else (*AUDIT, "A1.2"),
            role="aibos_kernel_role",
            expect=Expect(sqlstate="42501"),
            attempt=lambda ds, statement=statement: sql(k, ds.a.id, statement),
            unchanged=audit_trail_intact,
        )
    for name, statement in (
        ("audit.update_security_events", "UPDATE kernel.security_events SET kind = 'tampered'"),
        ("audit.delete_security_events", "DELETE FROM kernel.security_events"),
    ):
        r.add(
            name=name,
            title=f"{statement} (kernel role): erase the record of blocked attempts",
            layer=PRIVILEGE,
            tsc=AUDIT,
            role="aibos_kernel_role",
            expect=Expect(sqlstate="42501"),
            attempt=lambda ds, statement=statement: sql(k, ds.a.id, statement),
            unchanged=security_events_intact,
        )
    r.add(
        name="audit.security_event_for_other_tenant",
        title="INSERT a security event into tenant B's record, as tenant A (kernel role)",
        layer=RLS,
        tsc=AUDIT,
        role="aibos_kernel_role",
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(k, ds.a.id, (SECURITY_EVENT, [ds.b.id])),
        unchanged=security_events_intact,
    )
    # --- becoming someone else, switching RLS off ------------------------------------------
    for name, alias, statement in (
        ("roles.set_role_owner", k, "SET LOCAL ROLE aibos_migration"),
        ("roles.set_role_other_runtime_role", k, "SET LOCAL ROLE aibos_finance_role"),
        ("roles.set_role_readonly", f, "SET LOCAL ROLE aibos_readonly"),
        ("roles.set_session_authorization", f, "SET SESSION AUTHORIZATION postgres"),
        ("roles.create_role", k, "CREATE ROLE trust_test_intruder LOGIN"),
        ("roles.disable_rls", k, "ALTER TABLE kernel.users DISABLE ROW LEVEL SECURITY"),
        ("roles.drop_policy", f, "DROP POLICY tenant_isolation ON finance.payments"),
    ):
        r.add(
            name=name,
            title=f"{statement} as aibos_{alias}_role, then read tenant B's rows",
            layer=PRIVILEGE,
            tsc=SWITCH_OFF,
            role=f"aibos_{alias}_role",
            expect=Expect(sqlstate="42501"),
            attempt=lambda ds, alias=alias, statement=statement: sql(
                alias,
                ds.a.id,
                statement,
                "SELECT set_config('app.tenant_id', '', true)",
                "SELECT 1",
            ),
            unchanged=b_sees_posted,
        )
