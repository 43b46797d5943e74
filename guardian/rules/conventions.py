"""The schema document's conventions (seeds: schema_document_template.md §3): snake_case names
within PostgreSQL's 63 bytes, UUID keys, timestamptz, NUMERIC money, JSONB."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pglast
from pglast import ast

from ..findings import BLOCK, SHADOW, WARN, Finding, Fix
from ..sql import Statement, base_type
from ..state import Table
from . import STATEMENT_CHECKS, TABLE_CHECKS, Context, finding, rule, table_location

NAMING = rule(
    "naming", WARN, "conventions", "table and column names are snake_case and at most 63 bytes"
)
MONEY_TYPE = rule(
    "float-or-money-type",
    BLOCK,
    "conventions",
    "amounts are NUMERIC: never real, double precision or money",
)
TIMESTAMP_TZ = rule(
    "timestamp-without-time-zone", WARN, "conventions", "timestamps are timestamptz"
)
UUID_ID = rule("id-not-uuid", WARN, "conventions", "primary key id columns are uuid")
JSONB = rule("json-not-jsonb", SHADOW, "conventions", "JSON data is jsonb, not json")

_SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
_INEXACT = {"real", "double precision", "money"}


def _in_scope(ctx: Context, t: Table) -> bool:
    return t.schema in ctx.config.governed_schemas or ctx.config.is_tenant_scoped(t.key)


def check_conventions(ctx: Context, t: Table) -> Iterable[Finding]:
    if not _in_scope(ctx, t):
        return
    loc = table_location(t)
    for name, obj in [(t.name, t.key)] + [(c, f"{t.key}.{c}") for c in t.columns]:
        # Longer names never get here: the parser truncates them (see check_identifier_length).
        if not _SNAKE.match(name):
            yield finding(NAMING, f"{obj}: {name!r} is not snake_case.", obj, loc)
    for col in t.columns.values():
        kind = base_type(col.type)
        obj = f"{t.key}.{col.name}"
        if kind in _INEXACT:
            yield finding(
                MONEY_TYPE,
                f"{obj} is {col.type}: inexact or locale-bound; amounts and rates must be "
                "numeric (money: numeric(19,4)).",
                obj,
                loc,
                fix=Fix(
                    summary="store it as numeric",
                    sql=f'ALTER TABLE "{t.schema}"."{t.name}" ALTER COLUMN {col.name} TYPE numeric(19,4);',
                    django="models.DecimalField(max_digits=19, decimal_places=4)",
                ),
            )
        elif kind == "timestamp without time zone":
            yield finding(
                TIMESTAMP_TZ,
                f"{obj} is timestamp without time zone: the instant is lost; use timestamptz.",
                obj,
                loc,
                fix=Fix(
                    summary="timestamptz (a rewrite-free change when the session time zone is UTC)",
                    sql=f'ALTER TABLE "{t.schema}"."{t.name}" ALTER COLUMN {col.name} TYPE timestamptz;',
                ),
            )
        elif kind == "json":
            yield finding(JSONB, f"{obj} is json; jsonb is indexable and compact.", obj, loc)
    pk = next((i for i in t.indexes if i.unique and i.columns == ("id",)), None)
    id_col = t.columns.get("id")
    if id_col is not None and pk is not None and base_type(id_col.type) != "uuid":
        yield finding(
            UUID_ID,
            f"{t.key}.id is {id_col.type}: ids are uuid (gen_random_uuid()), which do not leak "
            "row counts or collide across tenants and servers.",
            f"{t.key}.id",
            loc,
        )


def check_identifier_length(ctx: Context, stmt: Statement) -> Iterable[Finding]:
    """PostgreSQL cuts identifiers to 63 bytes with only a NOTICE; the scanner still sees them
    whole (the parse tree already holds the cut name)."""
    if not isinstance(stmt.node, _DDL):
        return
    for tok in pglast.parser.scan(stmt.text):
        if tok.name != "IDENT":
            continue
        # Token offsets are characters, like the parser's.
        ident = stmt.text[tok.start : tok.end + 1].strip('"')
        if len(ident.encode()) > 63:
            yield finding(
                NAMING,
                f"{ident!r} is {len(ident.encode())} bytes: PostgreSQL silently truncates it to "
                f"{ident.encode()[:63].decode(errors='ignore')!r}.",
                ident,
                stmt.location,
                statement=stmt.text,
            )


_DDL = (
    ast.CreateStmt,
    ast.AlterTableStmt,
    ast.IndexStmt,
    ast.ViewStmt,
    ast.RenameStmt,
    ast.CreatePolicyStmt,
    ast.CreateTrigStmt,
    ast.CreateFunctionStmt,
)

TABLE_CHECKS.append(check_conventions)
STATEMENT_CHECKS.append(check_identifier_length)
