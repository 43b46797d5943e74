"""Lock safety, sized by the live table: a statement that takes ACCESS EXCLUSIVE or scans the
table under lock is *info* on a table created in the same plan or below the thresholds, and
blocks above them (``pg_class.reltuples``, writes per second from ``pg_stat_user_tables``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pglast import ast
from pglast.enums import AlterTableType as AT
from pglast.enums import ConstrType, ObjectType

from ..findings import BLOCK, INFO, WARN, Finding, Fix
from ..sql import Statement, base_type, func_names, names, qualified, quoted, type_name
from ..state import Table
from . import STATEMENT_CHECKS, Context, Rule, finding, rule

INDEX = rule(
    "index-not-concurrent",
    BLOCK,
    "locks",
    "an index (or UNIQUE / PRIMARY KEY constraint) built without CONCURRENTLY blocks writes",
)
REWRITE = rule(
    "table-rewrite",
    BLOCK,
    "locks",
    "a column type change or volatile default rewrites the table under ACCESS EXCLUSIVE",
)
NOT_NULL = rule(
    "not-null-without-check",
    BLOCK,
    "locks",
    "SET NOT NULL without a validated CHECK (col IS NOT NULL) scans the table under lock",
)
NOT_VALID = rule(
    "constraint-without-not-valid",
    BLOCK,
    "locks",
    "a CHECK or FOREIGN KEY added without NOT VALID scans the table under lock",
)
RENAME = rule(
    "rename-breaks-clients",
    WARN,
    "locks",
    "renaming a table or column breaks the application version still running during a deploy",
)

# Volatile functions seen in defaults; anything volatile forces a rewrite of existing rows.
# Compared by the function's own name: pg_catalog.gen_random_uuid() is gen_random_uuid().
VOLATILE = {
    "gen_random_uuid",
    "uuid_generate_v4",
    "uuid_generate_v1",
    "random",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "txid_current",
}


def _volatile(expr: Any) -> set[str]:
    return {name.rsplit(".", 1)[-1] for name in func_names(expr)} & VOLATILE


def sized_level(ctx: Context, r: Rule, t: Table | None) -> tuple[str, str]:
    """The level of a lock finding on ``t`` and why."""
    th = ctx.config.thresholds
    if t is not None and t.new:
        return INFO, "table created in this plan"
    if t is None or not t.live:
        return r.default, "table size unknown (not in the live database)"
    size = f"~{int(t.rows):,} rows, {t.writes_per_second:.1f} writes/s"
    if t.rows >= th.lock_rows or t.writes_per_second >= th.lock_writes_per_second:
        return (
            r.default,
            f"{size}: at or above the thresholds ({th.lock_rows:,} rows, {th.lock_writes_per_second:g} writes/s)",
        )
    return INFO, f"{size}: below the thresholds"


def _lock(
    ctx: Context, r: Rule, t: Table | None, msg: str, obj: str, stmt: Statement, fix: Fix
) -> Finding:
    level, why = sized_level(ctx, r, t)
    return finding(
        r, msg, obj, stmt.location, statement=stmt.text, fix=fix, level=level, level_reason=why
    )


def _safe_type_change(old: str, new: str) -> bool:
    """Changes PostgreSQL makes without a rewrite (as strong_migrations lists them)."""
    ob, nb = base_type(old), base_type(new)
    if ob == "character varying" and nb == "text":
        return True
    if ob == nb == "character varying":
        o, n = _mod(old), _mod(new)
        return n is None or (o is not None and n[0] >= o[0])
    if ob == nb == "numeric":
        o, n = _mod(old), _mod(new)
        return n is None or (o is not None and n[0] >= o[0] and n[1:] == o[1:])
    return ob == nb and old == new


def _mod(t: str) -> tuple[int, ...] | None:
    if "(" not in t:
        return None
    return tuple(int(x) for x in t.split("(", 1)[1].rstrip(")[]").split(","))


def _index_fix(table: str, cols: str, name: str, unique: bool) -> Fix:
    u = "UNIQUE " if unique else ""
    return Fix(
        summary="build it CONCURRENTLY in a non-atomic migration (idempotent: IF NOT EXISTS, "
        "an INVALID leftover dropped first)",
        sql=f'CREATE {u}INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON {table} ({cols});',
        django=(
            "from guardian.operations import AddIndexConcurrentlyIfNotExists\n\n"
            "class Migration(migrations.Migration):\n"
            "    atomic = False\n"
            "    operations = [\n"
            "        AddIndexConcurrentlyIfNotExists(\n"
            f"            model_name='…', index=models.Index(fields=[…], name='{name}')\n"
            "        ),\n"
            "    ]"
        ),
    )


def check_locks(ctx: Context, stmt: Statement) -> Iterable[Finding]:
    node: Any = stmt.node
    if isinstance(node, ast.IndexStmt) and not node.concurrent:
        key = qualified(node.relation)
        t = ctx.state.table(key)
        cols = ", ".join(p.name or "expr" for p in node.indexParams or ())
        yield _lock(
            ctx,
            INDEX,
            t,
            f"CREATE INDEX on {key} without CONCURRENTLY blocks every write to it while it builds.",
            key,
            stmt,
            _index_fix(
                quoted(node.relation),
                cols,
                node.idxname or "…",
                bool(node.unique),
            ),
        )
        return
    if isinstance(node, ast.RenameStmt) and node.renameType in (
        ObjectType.OBJECT_COLUMN,
        ObjectType.OBJECT_TABLE,
    ):
        t = ctx.state.table(qualified(node.relation)) if node.relation else None
        if t is not None and not t.new:
            what = f"column {node.subname}" if node.subname else "table"
            yield finding(
                RENAME,
                f"renames {what} of {t.key} to {node.newname}: the running application still "
                "uses the old name until it is redeployed.",
                t.key,
                stmt.location,
                statement=stmt.text,
                fix=Fix(
                    summary="expand/contract: add the new name, write both, backfill, switch "
                    "reads, then drop the old one in a later release",
                    django=(
                        "from guardian.operations import ContractColumnRename, ExpandColumnRename\n"
                        "# release N: the model renames at once; the database keeps both, in step\n"
                        "migrations.SeparateDatabaseAndState(\n"
                        "    state_operations=[migrations.RenameField('model', 'old', 'new')],\n"
                        "    database_operations=[ExpandColumnRename('schema.table', 'old', 'new')],\n"
                        ")\n"
                        "# release N+1, once nothing reads the old name:\n"
                        "ContractColumnRename('schema.table', 'old', 'new')"
                    ),
                ),
            )
        return
    if not isinstance(node, ast.AlterTableStmt) or node.objtype != ObjectType.OBJECT_TABLE:
        return
    key = qualified(node.relation)
    t = ctx.state.table(key)
    table_sql = quoted(node.relation)
    for cmd in node.cmds or ():
        if cmd.subtype == AT.AT_AlterColumnType:
            old = t.columns[cmd.name].type if t is not None and cmd.name in t.columns else "?"
            new = type_name(cmd.def_.typeName)
            if old != "?" and _safe_type_change(old, new):
                continue
            yield _lock(
                ctx,
                REWRITE,
                t,
                f"changes {key}.{cmd.name} from {old} to {new}: PostgreSQL rewrites the table and "
                "its indexes under ACCESS EXCLUSIVE.",
                f"{key}.{cmd.name}",
                stmt,
                Fix(
                    summary="expand/contract: add a new column of the new type, backfill in "
                    "batches, switch reads and writes, drop the old column later"
                ),
            )
        elif cmd.subtype in _REWRITING:
            yield _lock(
                ctx,
                REWRITE,
                t,
                f"{_REWRITING[cmd.subtype]} on {key}: PostgreSQL rewrites the table under ACCESS "
                "EXCLUSIVE.",
                key,
                stmt,
                Fix(summary="do it in a maintenance window, or build a copy and swap"),
            )
        elif cmd.subtype == AT.AT_AddColumn:
            col = cmd.def_.colname
            if names(cmd.def_.typeName.names)[-1:] in (["serial"], ["bigserial"], ["smallserial"]):
                yield _lock(
                    ctx,
                    REWRITE,
                    t,
                    f"adds {key}.{col} as a serial: its nextval() default rewrites every row "
                    "under ACCESS EXCLUSIVE.",
                    f"{key}.{col}",
                    stmt,
                    Fix(summary="add it nullable, backfill in batches, then set the default"),
                )
            for c in cmd.def_.constraints or ():
                if c.contype in (ConstrType.CONSTR_UNIQUE, ConstrType.CONSTR_PRIMARY):
                    yield _lock(
                        ctx,
                        INDEX,
                        t,
                        f"adds {key}.{col} with an inline {'PRIMARY KEY' if c.contype == ConstrType.CONSTR_PRIMARY else 'UNIQUE'}: "
                        "its index is built under ACCESS EXCLUSIVE.",
                        f"{key}.{col}",
                        stmt,
                        _index_fix(table_sql, col, f"{key.split('.', 1)[1]}_{col}_key", True),
                    )
                elif c.contype == ConstrType.CONSTR_FOREIGN and not c.skip_validation:
                    yield _lock(
                        ctx,
                        NOT_VALID,
                        t,
                        f"adds {key}.{col} with an inline REFERENCES {qualified(c.pktable)}: validated "
                        "under lock on both tables.",
                        f"{key}.{col}",
                        stmt,
                        Fix(
                            summary="add the column, then the foreign key NOT VALID, then VALIDATE it"
                        ),
                    )
            for c in cmd.def_.constraints or ():
                volatile = (
                    c.contype == ConstrType.CONSTR_DEFAULT
                    and c.raw_expr is not None
                    and _volatile(c.raw_expr)
                ) or ({"identity"} if c.contype == ConstrType.CONSTR_IDENTITY else set())
                stored = c.contype == ConstrType.CONSTR_GENERATED
                if volatile or stored:
                    why = (
                        f"a volatile default ({', '.join(sorted(volatile))})"
                        if volatile
                        else "a stored generated column"
                    )
                    yield _lock(
                        ctx,
                        REWRITE,
                        t,
                        f"adds {key}.{cmd.def_.colname} with {why}: every existing row is "
                        "rewritten under ACCESS EXCLUSIVE.",
                        f"{key}.{cmd.def_.colname}",
                        stmt,
                        Fix(
                            summary="add the column without the default (or with a constant "
                            "one), backfill in batches, then SET DEFAULT",
                            django="AddField(null=True) + RunPython backfill in batches + "
                            "AlterField(db_default=...)",
                        ),
                    )
        elif cmd.subtype == AT.AT_SetNotNull:
            if t is not None and any(
                valid and expr.replace('"', "") in {f"{cmd.name} IS NOT NULL"}
                for expr, valid in t.checks.values()
            ):
                continue
            cname = f"{key.split('.', 1)[1]}_{cmd.name}_not_null"[:63]
            yield _lock(
                ctx,
                NOT_NULL,
                t,
                f"SET NOT NULL on {key}.{cmd.name} scans every row under ACCESS EXCLUSIVE.",
                f"{key}.{cmd.name}",
                stmt,
                Fix(
                    summary="add CHECK (… IS NOT NULL) NOT VALID, VALIDATE it (no write lock), "
                    "then SET NOT NULL (PostgreSQL 12+ skips the scan) and drop the check",
                    sql=(
                        f'ALTER TABLE {table_sql} ADD CONSTRAINT "{cname}" CHECK ({cmd.name} IS NOT NULL) NOT VALID;\n'
                        f'ALTER TABLE {table_sql} VALIDATE CONSTRAINT "{cname}";\n'
                        f"ALTER TABLE {table_sql} ALTER COLUMN {cmd.name} SET NOT NULL;\n"
                        f'ALTER TABLE {table_sql} DROP CONSTRAINT "{cname}";'
                    ),
                    django=(
                        "AddConstraintNotValid(model_name, CheckConstraint(condition=Q(col__isnull=False), name=...)); "
                        "ValidateConstraint(model_name, name=...); then AlterField(null=False)"
                    ),
                ),
            )
        elif cmd.subtype == AT.AT_AddConstraint:
            con = cmd.def_
            if (
                con.contype in (ConstrType.CONSTR_CHECK, ConstrType.CONSTR_FOREIGN)
                and not con.skip_validation
            ):
                kind = "FOREIGN KEY" if con.contype == ConstrType.CONSTR_FOREIGN else "CHECK"
                also = (
                    f" and locks {qualified(con.pktable)} (SHARE ROW EXCLUSIVE)"
                    if con.contype == ConstrType.CONSTR_FOREIGN
                    else ""
                )
                yield _lock(
                    ctx,
                    NOT_VALID,
                    t,
                    f"adds {kind} {con.conname or ''} to {key} without NOT VALID: it scans the "
                    f"table under lock{also}.",
                    f"{key}.{con.conname or kind.lower()}",
                    stmt,
                    Fix(
                        summary="add it NOT VALID, then VALIDATE CONSTRAINT in a second migration",
                        django=(
                            "from django.contrib.postgres.operations import AddConstraintNotValid, ValidateConstraint\n"
                            "# migration 1: AddConstraintNotValid(model_name=..., constraint=...)\n"
                            "# migration 2: ValidateConstraint(model_name=..., name=...)"
                        ),
                    ),
                )
            elif (
                con.contype
                in (
                    ConstrType.CONSTR_UNIQUE,
                    ConstrType.CONSTR_PRIMARY,
                    ConstrType.CONSTR_EXCLUSION,
                )
                and not con.indexname
            ):
                cols = ", ".join(names(con.keys))
                yield _lock(
                    ctx,
                    INDEX,
                    t,
                    f"adds {'PRIMARY KEY' if con.contype == ConstrType.CONSTR_PRIMARY else 'UNIQUE'} "
                    f"({cols}) to {key}: its index is built under ACCESS EXCLUSIVE.",
                    f"{key}.{con.conname or cols}",
                    stmt,
                    _index_fix(table_sql, cols, con.conname or "…", True),
                )


_REWRITING = {
    AT.AT_SetTableSpace: "SET TABLESPACE",
    AT.AT_SetUnLogged: "SET UNLOGGED",
    AT.AT_SetLogged: "SET LOGGED",
    AT.AT_SetAccessMethod: "SET ACCESS METHOD",
}


STATEMENT_CHECKS.append(check_locks)
