"""Tenancy rules: exact findings on SQL fixtures."""

from __future__ import annotations

from tests.guardian.helpers import findings, governed_table, rules


def test_a_fully_governed_tenant_table_has_no_findings() -> None:
    assert rules(findings(governed_table("invoices"))) == set()


def test_a_finance_table_without_tenant_id_is_blocked_and_a_declared_global_one_passes() -> None:
    sql = """
    CREATE TABLE finance.invoices (id uuid PRIMARY KEY, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    CREATE TABLE finance.currencies (id uuid PRIMARY KEY, code varchar(3) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
    """
    found = findings(sql)
    blocked = [f for f in found if f.rule == "tenant-id-missing"]
    assert [(f.object, f.level, f.location.line) for f in blocked] == [
        ("finance.invoices", "block", 2)
    ]
    assert not [f for f in found if f.object.startswith("finance.currencies")]


def test_dropping_or_renaming_tenant_id_later_is_blocked_at_that_statement() -> None:
    sql = governed_table("invoices") + "\nALTER TABLE finance.invoices DROP COLUMN tenant_id;\n"
    found = [f for f in findings(sql) if f.rule == "tenant-id-missing"]
    assert len(found) == 1
    assert found[0].location.line == sql.count("\n", 0, sql.index("DROP COLUMN")) + 1
    assert "dropped or renamed" in found[0].message

    renamed = (
        governed_table("bills") + "ALTER TABLE finance.bills RENAME COLUMN tenant_id TO owner_id;"
    )
    assert ("tenant-id-missing", "finance.bills") in rules(findings(renamed))


def test_created_at_blocks_and_updated_at_warns_only_where_rows_can_change() -> None:
    mutable = """
    CREATE TABLE finance.notes (id uuid PRIMARY KEY, tenant_id uuid NOT NULL);
    GRANT SELECT, INSERT, UPDATE ON finance.notes TO aibos_finance_role;
    """
    found = {(f.rule, f.level) for f in findings(mutable)}
    assert ("created-at-missing", "block") in found
    assert ("updated-at-missing", "warn") in found

    insert_only = """
    CREATE TABLE finance.ledger_marks (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, created_at timestamptz NOT NULL);
    GRANT SELECT, INSERT ON finance.ledger_marks TO aibos_finance_role;
    """
    assert "updated-at-missing" not in {f.rule for f in findings(insert_only)}


def test_a_tenant_table_without_a_tenant_leading_index_gets_a_suggestion_with_the_fix() -> None:
    sql = governed_table("invoices").replace(
        "CREATE INDEX invoices_tenant_idx ON finance.invoices (tenant_id, created_at);",
        "CREATE INDEX invoices_created_idx ON finance.invoices (created_at, tenant_id);",
    )
    (found,) = [f for f in findings(sql) if f.rule == "tenant-index-missing"]
    assert found.level == "shadow"
    assert found.fix is not None and "CONCURRENTLY IF NOT EXISTS" in found.fix.sql
    assert "(tenant_id, created_at)" in found.fix.sql
    assert "AddIndexConcurrentlyIfNotExists" in found.fix.django


def test_cross_schema_foreign_keys_joins_and_views_are_reported() -> None:
    sql = (
        governed_table("invoices", ",\n  user_id uuid REFERENCES kernel.users (id)")
        + """
    SELECT i.id FROM finance.invoices i JOIN kernel.users u ON u.id = i.user_id;
    CREATE VIEW finance.v_invoice_users WITH (security_invoker = true) AS
      SELECT i.id, u.email FROM finance.invoices i JOIN kernel.users u ON u.id = i.user_id;
    """
    )
    cross = {f.object for f in findings(sql) if f.rule == "cross-schema-reference"}
    assert cross == {
        "finance.invoices.user_id",
        "finance.invoices,kernel.users",
        "finance.v_invoice_users",
    }
    # One schema only: nothing.
    assert not [
        f
        for f in findings(
            "SELECT 1 FROM finance.companies c JOIN finance.accounts a ON a.company_id = c.id"
        )
        if f.rule == "cross-schema-reference"
    ]


def test_a_reference_named_after_a_table_in_the_same_schema_needs_a_foreign_key() -> None:
    sql = governed_table("companies") + governed_table(
        "invoices", ",\n  company_id uuid NOT NULL,\n  approver_user_id uuid"
    )
    found = [f for f in findings(sql) if f.rule == "reference-without-fk"]
    # company_id names finance.companies: warned, with the NOT VALID + VALIDATE fix. A user id
    # points into kernel (another schema): a plain UUID by design, not reported.
    assert [(f.object, f.level) for f in found] == [("finance.invoices.company_id", "warn")]
    assert found[0].fix is not None and "NOT VALID" in found[0].fix.sql
    with_fk = governed_table("companies") + governed_table(
        "bills", ",\n  company_id uuid NOT NULL REFERENCES finance.companies (id)"
    )
    assert not [f for f in findings(with_fk) if f.rule == "reference-without-fk"]
