"""The schema as the guardian sees it: the live catalog, then each planned statement applied.

Table rules judge the state a plan leaves behind (a ``CREATE TABLE`` followed by the
``ENABLE ROW LEVEL SECURITY`` Django defers to the end of the migration is one governed table,
not an ungoverned one); statement rules judge each statement against the state before it (the
table's live size decides how dangerous its lock is).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .findings import Location
from .sql import Statement


@dataclass
class Column:
    name: str
    type: str
    not_null: bool = False
    default: str | None = None


@dataclass
class Index:
    name: str
    columns: tuple[str, ...]  # expressions appear deparsed
    unique: bool = False


@dataclass
class ForeignKey:
    name: str
    columns: tuple[str, ...]
    target: str  # "schema.table"


@dataclass
class Policy:
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE, DELETE
    roles: tuple[str, ...]
    using: str | None
    check: str | None


@dataclass
class Table:
    schema: str
    name: str
    columns: dict[str, Column] = field(default_factory=dict)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    checks: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (expr, validated)
    rls_enabled: bool = False
    rls_forced: bool = False
    policies: dict[str, Policy] = field(default_factory=dict)
    grants: dict[str, set[str]] = field(default_factory=dict)  # role -> privileges
    owner: str = ""
    rows: float = 0.0  # live estimate (pg_class.reltuples), 0 for a new table
    writes_per_second: float = 0.0
    live: bool = False  # exists in the database the plan runs against
    # Some columns could not be known (CREATE TABLE … OF type, LIKE an unknown table, an
    # expression in CREATE TABLE … AS): column rules say so instead of guessing.
    columns_unknown: bool = False
    moved_from: tuple[str, Location] | None = None  # ALTER TABLE … SET SCHEMA in this plan
    created_at: Location | None = None  # the statement that created it in this plan
    touched_at: list[Location] = field(default_factory=list)  # statements in this plan
    removed: dict[str, Location] = field(default_factory=dict)  # column -> dropped/renamed at
    # Where an aspect last changed in this plan ("rls", "policy:<name>"), so a finding points at
    # the statement that caused it, not at the table's creation.
    marks: dict[str, Location] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def new(self) -> bool:
        return self.created_at is not None


@dataclass
class View:
    schema: str
    name: str
    security_invoker: bool
    reads: tuple[str, ...]  # "schema.table" of every relation in its query
    owner: str = ""
    created_at: Location | None = None
    materialized: bool = False  # a stored copy: no RLS, no security_invoker

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class SchemaState:
    tables: dict[str, Table] = field(default_factory=dict)
    views: dict[str, View] = field(default_factory=dict)

    def table(self, key: str) -> Table | None:
        return self.tables.get(key)

    def apply(self, stmt: Statement) -> None:
        """Advance the state past one statement (unknown statements change nothing)."""
        apply_statement(self, stmt)


# The transitions need the classes above; SchemaState.apply needs the transitions.
from .transitions import apply_statement  # noqa: E402
