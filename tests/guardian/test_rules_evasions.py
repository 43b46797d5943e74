"""SQL that tries to get around the rules (found in review): each must still be caught, and
the ordinary forms must still pass."""

from __future__ import annotations

import pytest

from guardian.state import Table
from tests.guardian.helpers import findings, governed_table, live_table, state_with


def _big() -> Table:
    t = live_table("finance.orders", 5_000_000, id="uuid", tenant_id="uuid", status="text")
    t.created_at = None
    return t


def _line(sql: str, needle: str) -> int:
    return sql.count("\n", 0, sql.index(needle)) + 1


def test_non_ascii_sql_parses_with_the_right_lines() -> None:
    sql = "COMMENT ON TABLE finance.companies IS 'société';\n-- é\nCREATE TABLE finance.x (id uuid PRIMARY KEY, amount real);\n"
    got = {(f.rule, f.location.line) for f in findings(sql)}
    assert ("float-or-money-type", 3) in got and ("tenant-id-missing", 3) in got


def test_weakening_or_dropping_a_policy_later_is_caught_where_it_happens() -> None:
    base = governed_table("invoices")
    weakened = (
        base + "ALTER POLICY tenant_isolation ON finance.invoices USING (true) WITH CHECK (true);\n"
    )
    found = [f for f in findings(weakened) if f.rule == "policy-not-tenant-predicate"]
    assert {f.object for f in found} == {
        "finance.invoices.tenant_isolation.using",
        "finance.invoices.tenant_isolation.with_check",
    }
    assert {f.location.line for f in found} == {_line(weakened, "ALTER POLICY")}
    dropped = base + "DROP POLICY tenant_isolation ON finance.invoices;\n"
    (f,) = [f for f in findings(dropped) if f.rule == "policy-not-tenant-predicate"]
    assert "no policy" in f.message and f.location.line == _line(dropped, "DROP POLICY")


def test_rls_switched_off_later_is_reported_at_that_statement() -> None:
    sql = (
        governed_table("invoices")
        + "\n\nALTER TABLE finance.invoices DISABLE ROW LEVEL SECURITY;\n"
    )
    (f,) = [f for f in findings(sql) if f.rule == "rls-not-forced"]
    assert f.location.line == _line(sql, "DISABLE ROW LEVEL")


def test_copies_of_tenant_rows_are_caught() -> None:
    ctas = (
        governed_table("invoices")
        + "CREATE TABLE finance.invoices_copy AS SELECT * FROM finance.invoices;\n"
    )
    assert ("rls-not-forced", "finance.invoices_copy") in {
        (f.rule, f.object) for f in findings(ctas)
    }
    into = (
        governed_table("invoices")
        + "SELECT id, created_at INTO finance.ids FROM finance.invoices;\n"
    )
    assert ("tenant-id-missing", "finance.ids") in {(f.rule, f.object) for f in findings(into)}
    matview = (
        governed_table("invoices")
        + "CREATE MATERIALIZED VIEW finance.mv AS SELECT * FROM finance.invoices;\n"
    )
    (f,) = [f for f in findings(matview) if f.rule == "view-without-security-invoker"]
    assert "materialized" in f.message


@pytest.mark.parametrize(
    "sql",
    [
        "GRANT TRUNCATE ON finance.invoices TO PUBLIC;",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA finance GRANT TRUNCATE ON TABLES TO aibos_finance_role;",
        "GRANT TRIGGER ON ALL TABLES IN SCHEMA finance TO aibos_finance_role;",
        "GRANT aibos_migration TO aibos_finance_role;",
        "ALTER ROLE aibos_finance_role BYPASSRLS;",
        "GRANT ALL (id) ON finance.invoices TO aibos_finance_role;",
    ],
)
def test_privilege_escalations_for_runtime_roles_block(sql: str) -> None:
    found = [
        f for f in findings(governed_table("invoices") + sql) if f.rule == "runtime-grant-forbidden"
    ]
    assert [f.level for f in found] == ["block"]


def test_switching_triggers_off_moving_out_of_governance_and_opaque_sql_are_reported() -> None:
    base = governed_table("invoices")
    got = {
        f.rule
        for f in findings(
            base
            + "ALTER TABLE finance.invoices DISABLE TRIGGER ALL;\n"
            + "ALTER TABLE finance.invoices SET SCHEMA public;\n"
            + "DO $$ BEGIN EXECUTE 'ALTER TABLE finance.x DISABLE ROW LEVEL SECURITY'; END $$;\n"
            + "SET search_path = finance;\n"
        )
    }
    assert {"trigger-disabled", "leaves-governed-schema", "unchecked-statement"} <= got


@pytest.mark.parametrize(
    ("sql", "rule"),
    [
        ("REINDEX TABLE finance.orders;", "index-not-concurrent"),
        ("VACUUM FULL finance.orders;", "table-rewrite"),
        ("CLUSTER finance.orders USING orders_pkey;", "table-rewrite"),
        ("ALTER TABLE finance.orders SET TABLESPACE pg_default;", "table-rewrite"),
        ("ALTER TABLE finance.orders SET UNLOGGED;", "table-rewrite"),
        ("ALTER TABLE finance.orders ADD COLUMN n bigserial;", "table-rewrite"),
        (
            "ALTER TABLE finance.orders ADD COLUMN n bigint GENERATED ALWAYS AS IDENTITY;",
            "table-rewrite",
        ),
        (
            "ALTER TABLE finance.orders ADD COLUMN r uuid DEFAULT pg_catalog.gen_random_uuid();",
            "table-rewrite",
        ),
        ("ALTER TABLE finance.orders ADD COLUMN code text UNIQUE;", "index-not-concurrent"),
        (
            "ALTER TABLE finance.orders ADD COLUMN company_id uuid REFERENCES finance.companies (id);",
            "constraint-without-not-valid",
        ),
        (
            "ALTER TABLE finance.orders ADD CONSTRAINT no_overlap EXCLUDE USING gist (status WITH =);",
            "index-not-concurrent",
        ),
        (
            "CREATE TABLE IF NOT EXISTS finance.orders (id uuid);\nCREATE INDEX o_s ON finance.orders (status);",
            "index-not-concurrent",
        ),
    ],
)
def test_lock_taking_forms_block_on_a_five_million_row_table(sql: str, rule: str) -> None:
    found = [f for f in findings(sql, state_with(_big())) if f.rule == rule]
    assert found and {f.level for f in found} == {"block"}, [f.level_reason for f in found]


def test_dropping_a_live_table_or_column_or_truncating_it_warns() -> None:
    for sql in (
        "DROP TABLE finance.orders;",
        "ALTER TABLE finance.orders DROP COLUMN status;",
        "TRUNCATE finance.orders;",
    ):
        found = [f for f in findings(sql, state_with(_big())) if f.rule == "destructive-change"]
        assert [f.level for f in found] == ["warn"], sql


def test_view_options_are_read_from_alter_table_and_reset() -> None:
    base = (
        governed_table("invoices")
        + "CREATE VIEW finance.v WITH (security_invoker = true) AS SELECT id FROM finance.invoices;\n"
    )
    for change in (
        "ALTER VIEW finance.v RESET (security_invoker);",
        "ALTER TABLE finance.v SET (security_invoker = false);",
    ):
        got = {(f.rule, f.object) for f in findings(base + change)}
        assert ("view-without-security-invoker", "finance.v") in got, change
        assert not any(obj == "finance.v" and rule == "tenant-id-missing" for rule, obj in got)


def test_tables_that_take_their_columns_from_a_governed_table_are_not_false_positives() -> None:
    base = governed_table("invoices")
    for sql in (
        "CREATE TABLE finance.invoices_2 (LIKE finance.invoices INCLUDING ALL);",
        "CREATE TABLE finance.invoices_old () INHERITS (finance.invoices);",
        "ALTER INDEX finance.invoices_tenant_idx SET (fillfactor = 70);",
    ):
        got = {f.rule for f in findings(base + sql)}
        assert not got & {"tenant-id-missing", "created-at-missing"}, sql
