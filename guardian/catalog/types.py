"""The catalog as frozen values: what :func:`guardian.catalog.read_catalog` returns.

Every tuple is sorted (by name, or by position where position is the meaning: columns by
ordinal, index columns and enum labels in order), so two reads of the same database compare
equal and render byte-identical documents.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Extension:
    name: str
    version: str
    schema: str


@dataclass(frozen=True)
class ServerInfo:
    version: str  # version(): "PostgreSQL 15.x on ..." (build string included)
    version_num: int  # server_version_num, e.g. 150008
    encoding: str  # the current database's encoding
    collation: str
    timezone: str  # the session's TimeZone setting
    extensions: tuple[Extension, ...]

    @property
    def major(self) -> int:
        return self.version_num // 10000


@dataclass(frozen=True)
class Grant:
    """One grantee's privileges on one object (``PUBLIC`` for grants to everyone).

    Read from the ACL, or from ``acldefault`` when the ACL is NULL (the owner's implicit
    privileges), so a grant is never missing because nobody ran GRANT or REVOKE yet.
    """

    grantee: str
    privileges: tuple[str, ...]  # canonical order: SELECT, INSERT, UPDATE, DELETE, ...
    grantable: tuple[str, ...] = ()  # the subset held WITH GRANT OPTION


@dataclass(frozen=True)
class Schema:
    name: str
    owner: str
    comment: str | None
    grants: tuple[Grant, ...]  # USAGE, CREATE


@dataclass(frozen=True)
class Column:
    name: str
    ordinal: int  # attnum: position in the table, gaps where columns were dropped
    type: str  # format_type(): "numeric(20,6)", "timestamp with time zone", ...
    nullable: bool
    default: str | None  # the default expression as PostgreSQL deparses it
    identity: str | None  # "always" | "by default" for identity columns
    generated: str | None  # the expression of a stored generated column
    comment: str | None
    grants: tuple[Grant, ...] = ()  # column-level grants only (attacl)


@dataclass(frozen=True)
class Constraint:
    name: str
    kind: str  # "primary key" | "unique" | "foreign key" | "check" | "exclusion"
    columns: tuple[str, ...]  # in key order; empty for a table-level check without columns
    definition: str  # pg_get_constraintdef()
    validated: bool  # false for NOT VALID constraints
    deferrable: bool
    initially_deferred: bool
    # Foreign keys only.
    referenced_schema: str | None = None
    referenced_table: str | None = None
    referenced_columns: tuple[str, ...] = ()
    on_delete: str | None = None  # "no action" | "restrict" | "cascade" | "set null" | ...
    on_update: str | None = None

    @property
    def referenced(self) -> str | None:
        """``schema.table`` of a foreign key's target."""
        if self.referenced_table is None:
            return None
        return f"{self.referenced_schema}.{self.referenced_table}"


@dataclass(frozen=True)
class Index:
    name: str
    definition: str  # pg_get_indexdef()
    columns: tuple[str, ...]  # key columns in order; expressions as deparsed text
    include: tuple[str, ...]  # INCLUDE (non-key) columns
    method: str  # btree, gin, gist, brin, hash, ...
    unique: bool
    primary: bool
    valid: bool  # false after a failed CREATE INDEX CONCURRENTLY
    predicate: str | None  # the WHERE of a partial index
    constraint: str | None  # the constraint this index backs (pk, unique, exclusion)


@dataclass(frozen=True)
class Policy:
    name: str
    command: str  # "ALL" | "SELECT" | "INSERT" | "UPDATE" | "DELETE"
    permissive: bool
    roles: tuple[str, ...]  # ("PUBLIC",) when the policy applies to every role
    using: str | None
    with_check: str | None


@dataclass(frozen=True)
class Trigger:
    name: str
    timing: str  # "BEFORE" | "AFTER" | "INSTEAD OF"
    events: tuple[str, ...]  # of INSERT, UPDATE, DELETE, TRUNCATE, in that order
    level: str  # "ROW" | "STATEMENT"
    function: str  # schema.name of the trigger function
    enabled: str  # "origin" (ENABLE) | "always" | "replica" | "disabled"
    constraint: bool  # a CONSTRAINT trigger (may be deferred to commit)
    deferrable: bool
    initially_deferred: bool
    definition: str  # pg_get_triggerdef()

    @property
    def fires(self) -> bool:
        """Fires in normal operation (replica-only and disabled triggers do not)."""
        return self.enabled in ("origin", "always")


@dataclass(frozen=True)
class TableStats:
    """pg_stat_user_tables: cumulative since the last stats reset, so not for documents."""

    n_live_tup: int
    n_tup_ins: int
    n_tup_upd: int
    n_tup_del: int
    seq_scan: int
    idx_scan: int | None  # NULL when the table has no index


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    kind: str  # "table" | "partitioned table"
    owner: str
    comment: str | None
    rls_enabled: bool
    rls_forced: bool
    reltuples: float  # planner estimate; -1 before the first VACUUM/ANALYZE (PG 14+)
    relpages: int
    total_bytes: int  # pg_total_relation_size(): heap, indexes, TOAST
    stats: TableStats | None  # None when the stats view has no row for it
    partition_key: str | None  # pg_get_partkeydef() of a partitioned table
    partition_of: str | None  # schema.name of the parent of a partition
    partition_bound: str | None
    columns: tuple[Column, ...]
    constraints: tuple[Constraint, ...]
    indexes: tuple[Index, ...]
    policies: tuple[Policy, ...]
    triggers: tuple[Trigger, ...]
    grants: tuple[Grant, ...]  # table-level; column-level ones are on each Column

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.qualified_name} has no column {name}")

    def has_column(self, name: str) -> bool:
        return any(c.name == name for c in self.columns)

    @property
    def primary_key(self) -> Constraint | None:
        return next((c for c in self.constraints if c.kind == "primary key"), None)

    @property
    def foreign_keys(self) -> tuple[Constraint, ...]:
        return tuple(c for c in self.constraints if c.kind == "foreign key")


@dataclass(frozen=True)
class View:
    schema: str
    name: str
    kind: str  # "view" | "materialized view"
    owner: str
    comment: str | None
    options: tuple[str, ...]  # reloptions as stored, e.g. ("security_invoker=true",)
    security_invoker: bool
    security_barrier: bool
    definition: str  # pg_get_viewdef(pretty)
    columns: tuple[Column, ...]
    grants: tuple[Grant, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class Function:
    schema: str
    name: str
    identity_arguments: str  # pg_get_function_identity_arguments(): tells overloads apart
    result_type: str  # pg_get_function_result(): "trigger", "TABLE(...)", "void", ...
    kind: str  # "function" | "procedure" | "aggregate" | "window"
    language: str
    security_definer: bool
    owner: str
    volatility: str  # "immutable" | "stable" | "volatile"
    config: tuple[str, ...]  # proconfig, e.g. ("search_path=pg_catalog, pg_temp",)
    comment: str | None
    source: str  # prosrc: the body (C symbol name for C functions)
    grants: tuple[Grant, ...]  # EXECUTE

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def signature(self) -> str:
        return f"{self.schema}.{self.name}({self.identity_arguments})"


@dataclass(frozen=True)
class EnumType:
    schema: str
    name: str
    owner: str
    labels: tuple[str, ...]  # in sort order (enumsortorder), not alphabetical
    comment: str | None


@dataclass(frozen=True)
class SequenceDef:
    schema: str
    name: str
    owner: str
    data_type: str
    start: int
    increment: int
    minimum: int
    maximum: int
    cycle: bool
    owned_by: str | None  # schema.table.column for serial and identity columns
    grants: tuple[Grant, ...]


@dataclass(frozen=True)
class Catalog:
    server: ServerInfo
    schemas: tuple[Schema, ...]
    tables: tuple[Table, ...]
    views: tuple[View, ...]
    functions: tuple[Function, ...]
    enums: tuple[EnumType, ...]
    sequences: tuple[SequenceDef, ...]

    def table(self, qualified_name: str) -> Table:
        for table in self.tables:
            if table.qualified_name == qualified_name:
                return table
        raise KeyError(f"no table {qualified_name}")

    def view(self, qualified_name: str) -> View:
        for view in self.views:
            if view.qualified_name == qualified_name:
                return view
        raise KeyError(f"no view {qualified_name}")

    def tables_in(self, schema: str) -> tuple[Table, ...]:
        return tuple(t for t in self.tables if t.schema == schema)
