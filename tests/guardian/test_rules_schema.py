"""Conventions, governance and design rules: exact findings on SQL fixtures."""

from __future__ import annotations

from tests.guardian.helpers import TENANT_PREDICATE_SQL, findings, governed_table


def test_money_as_float_blocks_timestamp_and_serial_ids_warn_json_is_shadow() -> None:
    sql = (
        governed_table(
            "invoices",
            ",\n  amount double precision,\n  fee money,\n  due timestamp,\n  meta json",
        )
        + "CREATE TABLE finance.counters (id bigserial PRIMARY KEY, tenant_id uuid, created_at timestamptz, updated_at timestamptz);"
    )
    got = {(f.rule, f.object, f.level) for f in findings(sql)}
    assert {
        ("float-or-money-type", "finance.invoices.amount", "block"),
        ("float-or-money-type", "finance.invoices.fee", "block"),
        ("timestamp-without-time-zone", "finance.invoices.due", "warn"),
        ("json-not-jsonb", "finance.invoices.meta", "shadow"),
        ("id-not-uuid", "finance.counters.id", "warn"),
    } <= got
    assert not [
        f
        for f in findings(governed_table("ok", ",\n  amount numeric(19,4)"))
        if f.rule == "float-or-money-type"
    ]


def test_names_must_be_snake_case_within_63_bytes() -> None:
    long = "x" * 64
    sql = governed_table("invoices", f',\n  "DueDate" date,\n  {long} text')
    assert {f.object for f in findings(sql) if f.rule == "naming"} == {
        "finance.invoices.DueDate",
        long,
    }


def test_rls_must_be_enabled_and_forced_on_tenant_tables() -> None:
    sql = governed_table("invoices").replace(
        "ALTER TABLE finance.invoices FORCE ROW LEVEL SECURITY;", ""
    )
    (found,) = [f for f in findings(sql) if f.rule == "rls-not-forced"]
    assert found.level == "block" and "FORCE" in found.message and "ENABLE" not in found.message


def test_a_policy_calling_a_function_is_not_the_inlinable_predicate() -> None:
    sql = governed_table("invoices").replace(
        f"USING ({TENANT_PREDICATE_SQL})", "USING (tenant_id = kernel.current_tenant())"
    )
    (found,) = [f for f in findings(sql) if f.rule == "policy-not-tenant-predicate"]
    assert "kernel.current_tenant" in found.message and "USING" in found.message
    # The monitor's role-scoped read policy is sanctioned on the tables the governance views
    # read, and nowhere else.
    sanctioned = (
        governed_table("journal_entries")
        + "CREATE POLICY monitor_read ON finance.journal_entries FOR SELECT TO aibos_monitor_role USING (true);"
    )
    assert not [f for f in findings(sanctioned) if f.rule == "policy-not-tenant-predicate"]
    elsewhere = (
        governed_table("bills")
        + "CREATE POLICY monitor_read ON finance.bills FOR SELECT TO aibos_monitor_role USING (true);"
    )
    assert [f.object for f in findings(elsewhere) if f.rule == "policy-not-tenant-predicate"] == [
        "finance.bills.monitor_read.using"
    ]
    # The same `USING (true)` for everyone is not.
    leaky = (
        governed_table("notes") + "CREATE POLICY everyone ON finance.notes FOR SELECT USING (true);"
    )
    assert [f.object for f in findings(leaky) if f.rule == "policy-not-tenant-predicate"] == [
        "finance.notes.everyone.using"
    ]


def test_views_in_governed_schemas_must_run_as_their_caller() -> None:
    sql = (
        governed_table("invoices")
        + """
    CREATE VIEW finance.v_open AS SELECT id FROM finance.invoices;
    CREATE VIEW finance.v_safe WITH (security_invoker = true) AS SELECT id FROM finance.invoices;
    CREATE VIEW finance.v_fixed AS SELECT id FROM finance.invoices;
    ALTER VIEW finance.v_fixed SET (security_invoker = on);
    """
    )
    assert {f.object for f in findings(sql) if f.rule == "view-without-security-invoker"} == {
        "finance.v_open"
    }


def test_truncate_or_trigger_to_a_runtime_role_and_runtime_ownership_block() -> None:
    sql = (
        governed_table("invoices")
        + """
    GRANT TRUNCATE ON finance.invoices TO aibos_finance_role;
    GRANT ALL ON finance.invoices TO aibos_kernel_role;
    GRANT TRUNCATE ON finance.invoices TO aibos_migration;
    ALTER TABLE finance.invoices OWNER TO aibos_finance_role;
    """
    )
    got = [
        (f.rule, f.level, f.location.line)
        for f in findings(sql)
        if f.rule in {"runtime-grant-forbidden", "runtime-role-owner"}
    ]
    lines = {ln: i + 1 for i, ln in enumerate(sql.splitlines())}
    line_of = {key: n for text, n in lines.items() for key in [text.strip()]}
    assert (
        "runtime-grant-forbidden",
        "block",
        line_of["GRANT TRUNCATE ON finance.invoices TO aibos_finance_role;"],
    ) in got
    assert (
        "runtime-grant-forbidden",
        "block",
        line_of["GRANT ALL ON finance.invoices TO aibos_kernel_role;"],
    ) in got
    assert (
        "runtime-role-owner",
        "block",
        line_of["ALTER TABLE finance.invoices OWNER TO aibos_finance_role;"],
    ) in got
    # The owner role is not a runtime role: its TRUNCATE grant is not reported.
    assert len([g for g in got if g[0] == "runtime-grant-forbidden"]) == 2


def test_duplicate_entities_and_first_normal_form_hints_are_shadow() -> None:
    cols = ",\n  name text, email text, phone text, street text, city text, zip text, country text"
    sql = (
        governed_table("customers", cols)
        + governed_table("clients", cols + ",\n  vat_number text")
        + governed_table("contacts", ",\n  phone1 text, phone2 text, tag_ids uuid[]")
    )
    got = {(f.rule, f.object, f.level) for f in findings(sql)}
    assert ("duplicate-entity", "finance.clients~finance.customers", "shadow") in got
    assert ("repeating-group", "finance.contacts.phone*", "shadow") in got
    assert ("id-list-column", "finance.contacts.tag_ids", "shadow") in got
    assert not [f for f in findings(governed_table("solo", cols)) if f.rule == "duplicate-entity"]
