"""guardian.catalog.read_catalog on the migrated test database, as the owner and the monitor."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from aibos.db.roles import FINANCE_ROLE, MONITOR_ROLE, SCHEMAS
from assurance.governance_views import TENANT_PREDICATE_DEPARSED
from guardian.catalog import Catalog, read_catalog

pytestmark = pytest.mark.django_db

BULK = "aibos_doc_bulk"  # a scratch schema; the test transaction rolls it back


def _sql(*statements: str) -> None:
    with connections["default"].cursor() as cur:
        for statement in statements:
            cur.execute(statement)


@pytest.fixture
def as_monitor() -> Iterator[None]:
    """The owner's connection (so the test's uncommitted objects are visible) with exactly the
    monitor's privileges."""
    _sql(f"SET ROLE {MONITOR_ROLE}")
    try:
        yield
    finally:
        _sql("RESET ROLE")


def _without_stats(catalog: Catalog) -> Catalog:
    # The activity counters move between two reads (the reads themselves scan the catalog).
    return dataclasses.replace(
        catalog, tables=tuple(dataclasses.replace(t, stats=None) for t in catalog.tables)
    )


def _squeeze(expr: str | None) -> str:
    return re.sub(r"\s", "", expr or "")


# --- the migrated schema ------------------------------------------------------------------


def test_journal_entries_rls_policy_tenant_leading_index_and_grants() -> None:
    catalog = read_catalog(connections["default"], SCHEMAS)
    table = catalog.table("finance.journal_entries")

    assert table.kind == "table"
    assert (table.rls_enabled, table.rls_forced) == (True, True)
    policy = {p.name: p for p in table.policies}["tenant_isolation"]
    assert (policy.command, policy.permissive, policy.roles) == ("ALL", True, ("PUBLIC",))
    assert _squeeze(policy.using) == TENANT_PREDICATE_DEPARSED
    assert _squeeze(policy.with_check) == TENANT_PREDICATE_DEPARSED
    # The primary key and at least one more index lead on tenant_id, in key order.
    assert any(i.columns[0] == "tenant_id" and not i.primary for i in table.indexes)
    primary = next(i for i in table.indexes if i.primary)
    assert primary.unique and primary.valid and primary.method == "btree"
    assert primary.constraint == table.primary_key.name  # type: ignore[union-attr]
    assert primary.definition.startswith("CREATE UNIQUE INDEX")
    grants = {g.grantee: g.privileges for g in table.grants}
    assert grants[FINANCE_ROLE][:2] == ("SELECT", "INSERT")
    assert "TRUNCATE" not in grants[FINANCE_ROLE]
    assert "PUBLIC" not in grants
    assert table.column("tenant_id").type == "uuid"
    assert table.column("tenant_id").nullable is False
    assert [c.ordinal for c in table.columns] == sorted(c.ordinal for c in table.columns)
    audit = [t for t in table.triggers if t.name.endswith("_audit")]
    assert audit and audit[0].function == "kernel.audit_capture" and audit[0].fires


def test_views_functions_and_server_facts() -> None:
    _sql("CREATE VIEW finance.v_doc_definer AS SELECT 1 AS one")
    catalog = read_catalog(connections["default"], SCHEMAS)

    health = catalog.view("kernel.v_tenant_health")
    assert health.security_invoker is True
    assert "security_invoker=true" in health.options
    assert "FROM kernel.tenants" in health.definition
    assert health.columns[0].name == "tenant_id"
    assert catalog.view("finance.v_doc_definer").security_invoker is False

    capture = [f for f in catalog.functions if f.qualified_name == "kernel.audit_capture"]
    assert capture and capture[0].security_definer and capture[0].result_type == "trigger"
    assert capture[0].language == "plpgsql" and capture[0].volatility == "volatile"

    assert catalog.server.major >= 15
    assert catalog.server.version.startswith("PostgreSQL")
    assert catalog.server.encoding == "UTF8"
    assert "plpgsql" in {e.name for e in catalog.server.extensions}
    assert [s.name for s in catalog.schemas] == sorted(SCHEMAS)


def test_every_non_system_schema_when_none_is_named() -> None:
    names = {s.name for s in read_catalog(connections["default"]).schemas}
    assert set(SCHEMAS) <= names
    assert not {"pg_catalog", "information_schema", "pg_toast"} & names


def test_the_monitor_reads_the_same_catalog_as_the_owner(as_monitor: None) -> None:
    _sql("RESET ROLE")
    owner = read_catalog(connections["default"], SCHEMAS)
    _sql(f"SET ROLE {MONITOR_ROLE}")
    with connections["default"].cursor() as cur:
        cur.execute("SELECT current_user")
        assert cur.fetchone() == (MONITOR_ROLE,)
    monitor = read_catalog(connections["default"], SCHEMAS)
    assert _without_stats(monitor) == _without_stats(owner)
    assert monitor.table("finance.journal_entries").policies  # not an empty read


def test_two_reads_are_equal() -> None:
    connection = connections["default"]
    assert _without_stats(read_catalog(connection, SCHEMAS)) == _without_stats(
        read_catalog(connection, SCHEMAS)
    )


# --- every kind of object, in a scratch schema ----------------------------------------------


@pytest.fixture
def scratch() -> Catalog:
    _sql(
        f"CREATE SCHEMA {BULK}",
        f"CREATE TYPE {BULK}.mood AS ENUM ('zeta', 'alpha', 'mid')",
        f"""CREATE TABLE {BULK}.parents (
              tenant_id uuid NOT NULL, id bigint GENERATED ALWAYS AS IDENTITY,
              name text DEFAULT 'x', mood {BULK}.mood,
              twice bigint GENERATED ALWAYS AS (id * 2) STORED,
              span int4range,
              PRIMARY KEY (tenant_id, id),
              CONSTRAINT parents_no_overlap EXCLUDE USING gist (span WITH &&))""",
        # NOT VALID is ignored inside CREATE TABLE: only ALTER TABLE leaves it unvalidated.
        f"ALTER TABLE {BULK}.parents ADD CONSTRAINT parents_name_short "
        f"CHECK (length(name) < 10) NOT VALID",
        f"CREATE TABLE {BULK}.children (tenant_id uuid NOT NULL, parent_id bigint, "
        f"serial_no serial, note text)",
        f"ALTER TABLE {BULK}.children ADD CONSTRAINT children_parent "
        f"FOREIGN KEY (tenant_id, parent_id) "
        f"REFERENCES {BULK}.parents (tenant_id, id) ON DELETE CASCADE NOT VALID",
        f"CREATE INDEX children_note ON {BULK}.children (tenant_id, lower(note)) "
        f"INCLUDE (serial_no) WHERE note IS NOT NULL",
        f"ALTER TABLE {BULK}.children ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY only_finance ON {BULK}.children AS RESTRICTIVE FOR UPDATE "
        f"TO {FINANCE_ROLE}, {MONITOR_ROLE} USING (note <> '') WITH CHECK (note <> 'x')",
        f"GRANT SELECT, TRUNCATE ON {BULK}.children TO {FINANCE_ROLE} WITH GRANT OPTION",
        f"GRANT SELECT (note) ON {BULK}.children TO {MONITOR_ROLE}",
        f"CREATE FUNCTION {BULK}.noop() RETURNS trigger LANGUAGE plpgsql STABLE "
        f"SET search_path = pg_catalog AS $$ BEGIN RETURN NEW; END $$",
        f"CREATE TRIGGER children_noop BEFORE INSERT OR UPDATE ON {BULK}.children "
        f"FOR EACH ROW EXECUTE FUNCTION {BULK}.noop()",
        f"ALTER TABLE {BULK}.children DISABLE TRIGGER children_noop",
        f"CREATE CONSTRAINT TRIGGER children_late AFTER DELETE ON {BULK}.children "
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {BULK}.noop()",
        f"CREATE TABLE {BULK}.events (tenant_id uuid, at date) PARTITION BY RANGE (at)",
        f"CREATE TABLE {BULK}.events_2026 PARTITION OF {BULK}.events "
        f"FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        f"CREATE MATERIALIZED VIEW {BULK}.counts AS SELECT count(*) AS n FROM {BULK}.parents",
        f"COMMENT ON TABLE {BULK}.parents IS 'the parents'",
    )
    return read_catalog(connections["default"], [BULK])


def test_columns_identity_generated_defaults_and_enums(scratch: Catalog) -> None:
    parents = scratch.table(f"{BULK}.parents")
    assert parents.comment == "the parents"
    assert parents.column("id").identity == "always"
    assert parents.column("twice").generated == "(id * 2)"
    assert parents.column("twice").default is None
    assert parents.column("name").default == "'x'::text"
    assert parents.column("name").nullable is True
    assert parents.column("mood").type == f"{BULK}.mood"
    assert [e.labels for e in scratch.enums] == [("zeta", "alpha", "mid")]  # sort order kept


def test_constraints_fk_check_exclusion(scratch: Catalog) -> None:
    parents = scratch.table(f"{BULK}.parents")
    kinds = {c.name: c for c in parents.constraints}
    assert parents.primary_key is not None and parents.primary_key.columns == ("tenant_id", "id")
    check = kinds["parents_name_short"]
    assert check.kind == "check" and not check.validated and "length(name)" in check.definition
    assert kinds["parents_no_overlap"].kind == "exclusion"
    exclusion_index = next(i for i in parents.indexes if i.constraint == "parents_no_overlap")
    assert exclusion_index.method == "gist"

    (fk,) = scratch.table(f"{BULK}.children").foreign_keys
    assert fk.columns == ("tenant_id", "parent_id")
    assert fk.referenced == f"{BULK}.parents"
    assert fk.referenced_columns == ("tenant_id", "id")
    assert (fk.validated, fk.on_delete, fk.on_update) == (False, "cascade", "no action")


def test_indexes_policies_triggers_grants(scratch: Catalog) -> None:
    children = scratch.table(f"{BULK}.children")
    (index,) = children.indexes
    assert index.columns == ("tenant_id", "lower(note)")
    assert index.include == ("serial_no",)
    assert index.predicate == "note IS NOT NULL"
    assert (index.unique, index.primary, index.constraint) == (False, False, None)

    assert (children.rls_enabled, children.rls_forced) == (True, False)
    (policy,) = children.policies
    assert (policy.command, policy.permissive) == ("UPDATE", False)
    assert policy.roles == tuple(sorted((FINANCE_ROLE, MONITOR_ROLE)))
    assert policy.using == "(note <> ''::text)"
    assert policy.with_check == "(note <> 'x'::text)"

    triggers = {t.name: t for t in children.triggers}
    noop = triggers["children_noop"]
    assert (noop.timing, noop.events, noop.level) == ("BEFORE", ("INSERT", "UPDATE"), "ROW")
    assert (noop.enabled, noop.fires, noop.function) == ("disabled", False, f"{BULK}.noop")
    late = triggers["children_late"]
    assert late.constraint and late.deferrable and late.initially_deferred
    # FK enforcement triggers are internal and left out.
    assert set(triggers) == {"children_noop", "children_late"}

    grants = {g.grantee: g for g in children.grants}
    assert grants[FINANCE_ROLE].privileges == ("SELECT", "TRUNCATE")
    assert grants[FINANCE_ROLE].grantable == ("SELECT", "TRUNCATE")
    note = children.column("note")
    assert [(g.grantee, g.privileges) for g in note.grants] == [(MONITOR_ROLE, ("SELECT",))]
    assert children.column("tenant_id").grants == ()


def test_functions_sequences_partitions_and_materialized_views(scratch: Catalog) -> None:
    (noop,) = scratch.functions
    assert noop.signature == f"{BULK}.noop()"
    assert (noop.volatility, noop.security_definer) == ("stable", False)
    assert noop.config == ("search_path=pg_catalog",)
    assert "RETURN NEW" in noop.source

    sequences = {s.name: s for s in scratch.sequences}
    assert sequences["children_serial_no_seq"].owned_by == f"{BULK}.children.serial_no"
    assert sequences["parents_id_seq"].owned_by == f"{BULK}.parents.id"
    assert sequences["parents_id_seq"].data_type == "bigint"

    events = scratch.table(f"{BULK}.events")
    assert events.kind == "partitioned table" and events.partition_key == "RANGE (at)"
    partition = scratch.table(f"{BULK}.events_2026")
    assert partition.partition_of == f"{BULK}.events"
    assert partition.partition_bound is not None and "2026-01-01" in partition.partition_bound

    (counts,) = scratch.views
    assert counts.kind == "materialized view" and counts.columns[0].name == "n"
    assert [t.name for t in scratch.tables] == sorted(t.name for t in scratch.tables)


# --- set-based: the query count does not grow with the schema -------------------------------


def _queries_to_read() -> int:
    connection = connections["default"]
    with CaptureQueriesContext(connection) as captured:
        read_catalog(connection, [BULK])
    return len(captured)


def test_the_query_count_is_flat_in_tables_and_columns() -> None:
    _sql(
        f"CREATE SCHEMA {BULK}",
        f"CREATE TABLE {BULK}.t0 (tenant_id uuid, id int PRIMARY KEY)",
    )
    one_table = _queries_to_read()

    wide = ", ".join(f"c{i} int" for i in range(1000))
    statements = [f"CREATE TABLE {BULK}.wide ({wide})"]
    for i in range(1, 200):
        statements += [
            f"CREATE TABLE {BULK}.t{i} (tenant_id uuid, id int PRIMARY KEY, "
            f"prev int REFERENCES {BULK}.t{i - 1} (id))",
            f"CREATE INDEX ON {BULK}.t{i} (tenant_id, prev)",
            f"ALTER TABLE {BULK}.t{i} ENABLE ROW LEVEL SECURITY",
            f"CREATE POLICY p ON {BULK}.t{i} USING (tenant_id IS NOT NULL)",
        ]
    _sql(*statements)
    many_tables = _queries_to_read()

    catalog = read_catalog(connections["default"], [BULK])
    assert len(catalog.tables) == 201
    assert len(catalog.table(f"{BULK}.wide").columns) == 1000
    assert many_tables == one_table
    # 13 catalog queries plus the BEGIN/COMMIT (here SAVEPOINT/RELEASE) of its transaction.
    assert one_table <= 15
