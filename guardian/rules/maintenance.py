"""Maintenance statements and destructive changes: REINDEX, VACUUM FULL, CLUSTER and DROP INDEX
take the same locks as the statements in :mod:`.locks` and are sized the same way; DROP TABLE,
DROP COLUMN and TRUNCATE on a table that existed before the plan warn."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ObjectType

from ..findings import WARN, Finding, Fix
from ..sql import Statement, names, qualified
from ..state import Table
from . import STATEMENT_CHECKS, Context, finding, rule
from .locks import INDEX, REWRITE, _lock

DESTRUCTIVE = rule(
    "destructive-change",
    WARN,
    "locks",
    "DROP TABLE, DROP COLUMN or TRUNCATE on a table that holds data: the release still running "
    "breaks, and the data is gone",
)


def _table_of_index(ctx: Context, schema: str, index: str) -> Table | None:
    return next(
        (
            t
            for t in ctx.state.tables.values()
            if t.schema == schema and any(i.name == index for i in t.indexes)
        ),
        None,
    )


def _destructive(ctx: Context, t: Table, what: str, obj: str, stmt: Statement) -> Finding:
    rows = f"~{int(t.rows):,} rows" if t.live else "size unknown"
    return finding(
        DESTRUCTIVE,
        f"{what} ({rows}): the release still running may use it, and its data is gone.",
        obj,
        stmt.location,
        statement=stmt.text,
        fix=Fix(
            summary="expand/contract: stop using it in one release, drop it in the next, after a backup"
        ),
    )


def _maintenance_and_drops(ctx: Context, stmt: Statement, node: Any) -> Iterable[Finding]:
    if isinstance(node, ast.ReindexStmt) and not any(
        p.defname == "concurrently" for p in node.params or ()
    ):
        key = qualified(node.relation) if node.relation is not None else str(node.name)
        t = ctx.state.table(key) if node.relation is not None else None
        yield _lock(
            ctx,
            INDEX,
            t,
            f"REINDEX of {key} without CONCURRENTLY blocks writes.",
            key,
            stmt,
            Fix(summary="REINDEX … CONCURRENTLY"),
        )
    elif isinstance(node, ast.VacuumStmt) and any(o.defname == "full" for o in node.options or ()):
        for rel in node.rels or ():
            key = qualified(rel.relation)
            yield _lock(
                ctx,
                REWRITE,
                ctx.state.table(key),
                f"VACUUM FULL rewrites {key} under ACCESS EXCLUSIVE.",
                key,
                stmt,
                Fix(summary="pg_repack, or plain VACUUM"),
            )
    elif isinstance(node, ast.ClusterStmt) and node.relation is not None:
        key = qualified(node.relation)
        yield _lock(
            ctx,
            REWRITE,
            ctx.state.table(key),
            f"CLUSTER rewrites {key} under ACCESS EXCLUSIVE.",
            key,
            stmt,
            Fix(summary="pg_repack --order-by"),
        )
    elif (
        isinstance(node, ast.DropStmt)
        and node.removeType == ObjectType.OBJECT_INDEX
        and not node.concurrent
    ):
        for obj in node.objects or ():
            parts = names(obj)
            schema, index = (parts[0], parts[-1]) if len(parts) > 1 else ("public", parts[-1])
            t = _table_of_index(ctx, schema, index)
            yield _lock(
                ctx,
                INDEX,
                t,
                f"DROP INDEX {schema}.{index} without CONCURRENTLY blocks the table.",
                f"{schema}.{index}",
                stmt,
                Fix(summary="DROP INDEX CONCURRENTLY IF EXISTS (non-atomic migration)"),
            )
    elif isinstance(node, ast.DropStmt) and node.removeType == ObjectType.OBJECT_TABLE:
        for obj in node.objects or ():
            parts = names(obj)
            key = ".".join(parts) if len(parts) > 1 else f"public.{parts[-1]}"
            t = ctx.state.table(key)
            if t is not None and not t.new:
                yield _destructive(ctx, t, f"drops table {key}", key, stmt)
    elif isinstance(node, ast.TruncateStmt):
        for rel in node.relations or ():
            t = ctx.state.table(qualified(rel))
            if t is not None and not t.new:
                yield _destructive(ctx, t, f"truncates {t.key}", t.key, stmt)


def check_drop_column(ctx: Context, stmt: Statement) -> Iterable[Finding]:
    node: Any = stmt.node
    if not isinstance(node, ast.AlterTableStmt) or node.objtype != ObjectType.OBJECT_TABLE:
        return
    key = qualified(node.relation)
    t = ctx.state.table(key)
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_DropColumn and t is not None and not t.new:
            yield _destructive(
                ctx, t, f"drops column {cmd.name} of {t.key}", f"{key}.{cmd.name}", stmt
            )


def check_maintenance(ctx: Context, stmt: Statement) -> Iterable[Finding]:
    yield from _maintenance_and_drops(ctx, stmt, stmt.node)


STATEMENT_CHECKS += [check_maintenance, check_drop_column]
