"""Tenancy: every tenant-scoped table carries tenant_id and created_at, is indexed tenant-first,
and nothing reaches across schemas."""

from __future__ import annotations

from collections.abc import Iterable

from pglast import ast

from ..findings import BLOCK, SHADOW, WARN, Finding, Fix, Location
from ..sql import Statement, qualified, range_vars
from ..state import Table, View
from . import (
    STATEMENT_CHECKS,
    TABLE_CHECKS,
    VIEW_CHECKS,
    Context,
    finding,
    rule,
    table_location,
)

TENANT_ID = rule(
    "tenant-id-missing", BLOCK, "tenancy", "a tenant-scoped table has no tenant_id column"
)
CREATED_AT = rule(
    "created-at-missing", BLOCK, "tenancy", "a tenant-scoped table has no created_at column"
)
UPDATED_AT = rule(
    "updated-at-missing", WARN, "tenancy", "a mutable tenant-scoped table has no updated_at column"
)
TENANT_INDEX = rule(
    "tenant-index-missing",
    SHADOW,
    "tenancy",
    "a tenant-scoped table has no index whose first column is tenant_id",
)
CROSS_SCHEMA = rule(
    "cross-schema-reference",
    WARN,
    "tenancy",
    "a foreign key, join or view reaches from one schema into another",
)
REFERENCE_FK = rule(
    "reference-without-fk",
    WARN,
    "tenancy",
    "a uuid column named like a reference to a table in the same schema has no foreign key",
)

LEAVES = rule(
    "leaves-governed-schema",
    BLOCK,
    "tenancy",
    "a tenant table moved out of the governed schemas (ALTER TABLE … SET SCHEMA)",
)
COLUMNS_UNKNOWN = rule(
    "columns-unknown",
    WARN,
    "tenancy",
    "a tenant-scoped table whose columns the guardian cannot read (CREATE TABLE … OF type, "
    "LIKE an unknown table, expressions in CREATE TABLE … AS)",
)

# Owner-only privileges do not make a table mutable; a runtime UPDATE grant does.
_WRITE = {"UPDATE"}


def _missing(t: Table, column: str) -> str:
    where = t.removed.get(column)
    return f" ({column} was dropped or renamed at {where})" if where else ""


def _removal_location(t: Table, column: str) -> Location:
    return t.removed.get(column) or table_location(t)


def check_tenant_columns(ctx: Context, t: Table) -> Iterable[Finding]:
    if (
        t.moved_from is not None
        and ctx.config.is_tenant_scoped(t.moved_from[0])
        and not ctx.config.is_tenant_scoped(t.key)
    ):
        yield finding(
            LEAVES,
            f"moves {t.moved_from[0]} to {t.key}: out of the governed schemas no rule and no "
            "runtime role's grants apply to it.",
            t.moved_from[0],
            t.moved_from[1],
        )
    if not ctx.config.is_tenant_scoped(t.key):
        return
    if t.columns_unknown and "tenant_id" not in t.columns:
        yield finding(
            COLUMNS_UNKNOWN,
            f"{t.key}: its columns come from somewhere the guardian cannot read, so tenant_id "
            "and created_at cannot be checked; list them explicitly.",
            t.key,
            table_location(t),
        )
        return
    if "tenant_id" not in t.columns:
        yield finding(
            TENANT_ID,
            f"{t.key} is tenant-scoped but has no tenant_id{_missing(t, 'tenant_id')}. Add it, "
            "or declare the table global with a reason in the guardian config.",
            t.key,
            _removal_location(t, "tenant_id"),
            fix=Fix(
                summary="add tenant_id (and the tenant policy, via TableGovernance)",
                sql=f'ALTER TABLE "{t.schema}"."{t.name}" ADD COLUMN tenant_id uuid NOT NULL;',
                django="tenant_id = models.UUIDField()  # or inherit TenantScopedModel",
            ),
        )
    if "created_at" not in t.columns:
        yield finding(
            CREATED_AT,
            f"{t.key} is tenant-scoped but has no created_at{_missing(t, 'created_at')}.",
            t.key,
            _removal_location(t, "created_at"),
            fix=Fix(
                summary="add created_at with a non-volatile default (no table rewrite)",
                sql=(
                    f'ALTER TABLE "{t.schema}"."{t.name}" ADD COLUMN created_at timestamptz '
                    "NOT NULL DEFAULT statement_timestamp();"
                ),
                django="created_at = models.DateTimeField(db_default=Now())",
            ),
        )
    mutable = any(p & _WRITE for r, p in t.grants.items() if r != t.owner) or not t.grants
    if mutable and "updated_at" not in t.columns:
        yield finding(
            UPDATED_AT,
            f"{t.key} can be updated but has no updated_at{_missing(t, 'updated_at')}.",
            t.key,
            _removal_location(t, "updated_at"),
            fix=Fix(
                summary="add updated_at, kept by the touch trigger",
                sql=(
                    f'ALTER TABLE "{t.schema}"."{t.name}" ADD COLUMN updated_at timestamptz '
                    "NOT NULL DEFAULT statement_timestamp();"
                ),
                django="updated_at = models.DateTimeField(db_default=Now())  # TableGovernance(touch=True)",
            ),
        )
    if "tenant_id" in t.columns and not any(i.columns[:1] == ("tenant_id",) for i in t.indexes):
        second = next((c for c in ("created_at", "id") if c in t.columns), "id")
        name = f"{t.name}_tenant_{second}_idx"[:63]
        yield finding(
            TENANT_INDEX,
            f"{t.key} has no index leading with tenant_id: every RLS-scoped read scans all "
            "tenants' rows.",
            t.key,
            table_location(t),
            fix=Fix(
                summary=f"index ({'tenant_id'}, {second}) concurrently",
                sql=(
                    f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON '
                    f'"{t.schema}"."{t.name}" (tenant_id, {second});'
                ),
                django=(
                    "from guardian.operations import AddIndexConcurrentlyIfNotExists\n"
                    "class Migration(migrations.Migration):\n"
                    "    atomic = False\n"
                    "    operations = [AddIndexConcurrentlyIfNotExists(\n"
                    f"        model_name=..., index=models.Index(fields=['tenant', '{second}'], "
                    f"name='{name}'))]"
                ),
            ),
        )


def _singular_candidates(column: str) -> list[str]:
    stem = column.removesuffix("_id")
    # The last word carries the plural: "bank_account_id" -> "bank_accounts".
    head, _, last = stem.rpartition("_")
    prefix = f"{head}_" if head else ""
    plurals = [last + "s", last + "es", (last[:-1] + "ies") if last.endswith("y") else last + "s"]
    return [prefix + p for p in dict.fromkeys(plurals)] + [stem]


def check_references(ctx: Context, t: Table) -> Iterable[Finding]:
    with_fk = {c for fk in t.foreign_keys for c in fk.columns}
    for col in t.columns.values():
        if not col.name.endswith("_id") or col.name == "tenant_id" or col.type != "uuid":
            continue
        if col.name in with_fk:
            continue
        target = next(
            (
                f"{t.schema}.{cand}"
                for cand in _singular_candidates(col.name)
                if f"{t.schema}.{cand}" in ctx.state.tables and cand != t.name
            ),
            None,
        )
        if target is None:
            # No such table in this schema: a reference across schemas (tenant, user ids in
            # finance) is a plain UUID by design, and the services check it.
            continue
        yield finding(
            REFERENCE_FK,
            f"{t.key}.{col.name} looks like a reference to {target} but has no foreign key.",
            f"{t.key}.{col.name}",
            table_location(t),
            fix=Fix(
                summary="add the foreign key without a long lock: NOT VALID, then VALIDATE",
                sql=(
                    f'ALTER TABLE "{t.schema}"."{t.name}" ADD CONSTRAINT '
                    f'"{t.name}_{col.name}_fk" FOREIGN KEY ({col.name}) REFERENCES '
                    f'"{target.replace(".", chr(34) + "." + chr(34))}" (id) NOT VALID;\n'
                    f'ALTER TABLE "{t.schema}"."{t.name}" VALIDATE CONSTRAINT '
                    f'"{t.name}_{col.name}_fk";'
                ),
                django=(
                    "AddConstraintNotValid(...) then ValidateConstraint(...) in a second "
                    "migration (django.contrib.postgres.operations)"
                ),
            ),
        )


def check_cross_schema_fk(ctx: Context, t: Table) -> Iterable[Finding]:
    for fk in t.foreign_keys:
        if fk.target.split(".", 1)[0] != t.schema:
            yield finding(
                CROSS_SCHEMA,
                f"{t.key} has a foreign key ({', '.join(fk.columns)}) into {fk.target}: schemas "
                "are separate roles and may move to separate servers; keep a plain UUID.",
                f"{t.key}.{fk.name or ','.join(fk.columns)}",
                table_location(t),
            )


def _statement_schemas(node: object) -> set[str]:
    return {rv.schemaname for rv in range_vars(node) if rv.schemaname}


def check_cross_schema_query(ctx: Context, stmt: Statement) -> Iterable[Finding]:
    node = stmt.node
    if not isinstance(node, ast.SelectStmt | ast.InsertStmt | ast.UpdateStmt | ast.DeleteStmt):
        return
    schemas = _statement_schemas(node)
    if len(schemas) > 1 and schemas & _scoped_schemas(ctx):
        obj = ",".join(sorted({qualified(rv) for rv in range_vars(node) if rv.schemaname}))
        yield finding(
            CROSS_SCHEMA,
            f"one statement reads or writes across schemas {', '.join(sorted(schemas))}: each "
            "schema is its own role and may move to its own server.",
            obj,
            stmt.location,
            statement=stmt.text,
        )


def check_cross_schema_view(ctx: Context, v: View) -> Iterable[Finding]:
    schemas = {r.split(".", 1)[0] for r in v.reads} | {v.schema}
    if len(schemas) > 1 and schemas & _scoped_schemas(ctx):
        yield finding(
            CROSS_SCHEMA,
            f"view {v.key} reads across schemas {', '.join(sorted(schemas))}: each schema is its "
            "own role and may move to its own server.",
            v.key,
            v.created_at or Location("catalog"),
        )


def _scoped_schemas(ctx: Context) -> set[str]:
    return set(ctx.config.governed_schemas) | set(ctx.config.tenant_schemas)


TABLE_CHECKS += [check_tenant_columns, check_references, check_cross_schema_fk]
STATEMENT_CHECKS.append(check_cross_schema_query)
VIEW_CHECKS.append(check_cross_schema_view)
