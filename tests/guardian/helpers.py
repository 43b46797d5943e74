"""Run the guardian's rules on SQL text, against a state the test describes."""

from __future__ import annotations

from guardian.config import GuardianConfig, parse_config
from guardian.engine import analyse
from guardian.findings import Finding, Location
from guardian.sql import split_statements
from guardian.state import SchemaState, Table

GOVERNED = parse_config(
    {"global_tables": {"finance.currencies": "ISO 4217 codes, the same for every tenant"}}
)

TENANT_PREDICATE_SQL = (
    "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"
)


def governed_table(name: str, extra: str = "") -> str:
    """A CREATE TABLE in finance that every tenancy and governance rule accepts."""
    return f"""
CREATE TABLE finance.{name} (
  id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY,
  tenant_id uuid NOT NULL,
  created_at timestamptz DEFAULT statement_timestamp() NOT NULL,
  updated_at timestamptz DEFAULT statement_timestamp() NOT NULL{extra}
);
CREATE INDEX {name}_tenant_idx ON finance.{name} (tenant_id, created_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON finance.{name} TO aibos_finance_role;
ALTER TABLE finance.{name} ENABLE ROW LEVEL SECURITY;
ALTER TABLE finance.{name} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON finance.{name} USING ({TENANT_PREDICATE_SQL}) WITH CHECK ({TENANT_PREDICATE_SQL});
"""


def findings(
    sql: str,
    state: SchemaState | None = None,
    config: GuardianConfig = GOVERNED,
    path: str = "test.sql",
) -> list[Finding]:
    return analyse(
        split_statements(sql, Location("file", path=path)), state or SchemaState(), config
    )


def rules(found: list[Finding], *, include_info: bool = False) -> set[tuple[str, str]]:
    return {(f.rule, f.object) for f in found if include_info or f.level != "info"}


def live_table(key: str, rows: float, writes: float = 0.0, **columns: str) -> Table:
    schema, name = key.split(".")
    from guardian.state import Column

    t = Table(schema=schema, name=name, rows=rows, writes_per_second=writes, live=True)
    for col, typ in columns.items():
        t.columns[col] = Column(name=col, type=typ)
    return t


def state_with(*tables: Table) -> SchemaState:
    state = SchemaState()
    for t in tables:
        state.tables[t.key] = t
    return state
