"""Governance the product depends on: forced RLS with the inlinable tenant predicate, views that
run as their caller, no dangerous grant to and no ownership by a runtime role."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ObjectType

from aibos.db.governance import TENANT_PREDICATE
from aibos.db.governance_checks import FORBIDDEN_PRIVILEGES, SERVICE_POLICIES
from aibos.db.roles import PLATFORM_ROLES

from ..findings import BLOCK, Finding, Fix
from ..sql import Statement, deparse, func_names, normalize_expression, qualified
from ..state import Table, View, grant_privileges
from . import STATEMENT_CHECKS, TABLE_CHECKS, VIEW_CHECKS, Context, finding, rule, table_location

RLS_FORCED = rule(
    "rls-not-forced",
    BLOCK,
    "governance",
    "a tenant-scoped table does not have row-level security enabled and forced",
)
POLICY = rule(
    "policy-not-tenant-predicate",
    BLOCK,
    "governance",
    "a policy on a tenant table is not the inlinable, fail-closed tenant predicate",
)
VIEW_INVOKER = rule(
    "view-without-security-invoker",
    BLOCK,
    "governance",
    "a view in a governed schema runs as its owner (bypassing RLS), not as its caller",
)
GRANT = rule(
    "runtime-grant-forbidden",
    BLOCK,
    "governance",
    "TRUNCATE, TRIGGER or REFERENCES granted to a runtime role",
)
OWNER = rule("runtime-role-owner", BLOCK, "governance", "a runtime role owns a database object")

RUNTIME_ROLES = frozenset(PLATFORM_ROLES)


@cache
def tenant_predicate() -> str:
    """The canonical predicate, deparsed the way pglast deparses a policy's expression."""
    return normalize_expression(TENANT_PREDICATE)


@cache
def _service_policies() -> frozenset[tuple[str, tuple[str, ...], str | None, str | None]]:
    def norm(expr: str | None) -> str | None:
        return None if expr is None else normalize_expression(expr)

    return frozenset((cmd, tuple(roles), norm(q), norm(c)) for cmd, roles, q, c in SERVICE_POLICIES)


def check_rls(ctx: Context, t: Table) -> Iterable[Finding]:
    if not ctx.config.is_tenant_scoped(t.key) or "tenant_id" not in t.columns:
        return
    if not (t.rls_enabled and t.rls_forced):
        missing = " and ".join(
            w for w, ok in (("ENABLE", t.rls_enabled), ("FORCE", t.rls_forced)) if not ok
        )
        yield finding(
            RLS_FORCED,
            f"{t.key} is tenant-scoped without {missing} ROW LEVEL SECURITY: a runtime "
            "connection would see every tenant's rows.",
            t.key,
            table_location(t),
            fix=Fix(
                summary="declare TableGovernance(rls='tenant') on the model",
                sql=(
                    f'ALTER TABLE "{t.schema}"."{t.name}" ENABLE ROW LEVEL SECURITY;\n'
                    f'ALTER TABLE "{t.schema}"."{t.name}" FORCE ROW LEVEL SECURITY;'
                ),
            ),
        )
    elif not t.policies:
        yield finding(
            POLICY,
            f"{t.key} has RLS but no policy: every row is hidden from the runtime roles.",
            t.key,
            table_location(t),
        )
    canonical = tenant_predicate()
    inserters = {r for r, p in t.grants.items() if "INSERT" in p and r in RUNTIME_ROLES}
    for p in t.policies.values():
        if (p.command, p.roles, p.using, p.check) in _service_policies():
            continue
        for clause, expr in (("USING", p.using), ("WITH CHECK", p.check)):
            if expr is None or expr == canonical:
                continue
            # An insert-only `WITH CHECK (true)` is the audit log's append policy: harmless
            # while no runtime role may INSERT directly (rows arrive through a definer function).
            if (
                p.command == "INSERT"
                and clause == "WITH CHECK"
                and expr == "TRUE"
                and not inserters
            ):
                continue
            parsed = pglast.parse_sql(f"SELECT {expr}")[0].stmt
            calls = [f for f in func_names(parsed) if f not in {"current_setting", "nullif"}]
            why = (
                f"it calls {', '.join(sorted(set(calls)))}, which the planner cannot inline "
                "(measured: 4.4 tps against 8,453 for the inline predicate)"
                if calls
                else "it is not the fail-closed predicate"
            )
            yield finding(
                POLICY,
                f"{t.key} policy {p.name} {clause} ({expr}): {why}.",
                f"{t.key}.{p.name}",
                table_location(t),
                fix=Fix(summary="use the tenant predicate", sql=f"{clause} ({TENANT_PREDICATE})"),
            )


def check_view(ctx: Context, v: View) -> Iterable[Finding]:
    if v.schema in ctx.config.governed_schemas and not v.security_invoker:
        yield finding(
            VIEW_INVOKER,
            f"{v.key} runs with its owner's rights, so RLS on {', '.join(v.reads) or 'its tables'} "
            "does not apply to its readers.",
            v.key,
            v.created_at or table_location(Table(v.schema, v.name)),
            fix=Fix(
                summary="make the view run as its caller",
                sql=f'ALTER VIEW "{v.schema}"."{v.name}" SET (security_invoker = true);',
            ),
        )


def check_owner_and_grants(ctx: Context, t: Table) -> Iterable[Finding]:
    owner = ctx.state.owners.get(t.key, (t.owner, None))[0]
    if owner in RUNTIME_ROLES:
        yield finding(
            OWNER,
            f"{t.key} is owned by {owner}: an owner can disable RLS and triggers on it.",
            t.key,
            table_location(t),
        )
    if not ctx.live:
        return  # in a plan, the GRANT statement itself is reported, with its line
    for role, privileges in sorted(t.grants.items()):
        bad = sorted(privileges & set(FORBIDDEN_PRIVILEGES))
        if bad and role in RUNTIME_ROLES:
            yield finding(
                GRANT,
                f"{role} holds {', '.join(bad)} on {t.key}: TRUNCATE skips row triggers and "
                "audit, TRIGGER lets the role switch triggers off.",
                f"{t.key}:{role}",
                table_location(t),
                fix=Fix(
                    summary="revoke it",
                    sql=f'REVOKE {", ".join(bad)} ON "{t.schema}"."{t.name}" FROM {role};',
                ),
            )


def check_grant_and_owner_statements(ctx: Context, stmt: Statement) -> Iterable[Finding]:
    node: Any = stmt.node
    if (
        isinstance(node, ast.GrantStmt)
        and node.is_grant
        and node.objtype == ObjectType.OBJECT_TABLE
    ):
        bad = sorted(set(grant_privileges(node)) & set(FORBIDDEN_PRIVILEGES))
        roles = sorted({g.rolename for g in node.grantees or () if g.rolename in RUNTIME_ROLES})
        if bad and roles:
            objs = ", ".join(
                qualified(o) for o in node.objects or () if isinstance(o, ast.RangeVar)
            )
            yield finding(
                GRANT,
                f"grants {', '.join(bad)} on {objs} to {', '.join(roles)}: TRUNCATE skips row "
                "triggers and audit, TRIGGER lets the role switch triggers off.",
                objs,
                stmt.location,
                statement=stmt.text,
                fix=Fix(summary="grant only SELECT, INSERT, UPDATE, DELETE as the schema needs"),
            )
    owner_cmds = []
    if isinstance(node, ast.AlterTableStmt):
        owner_cmds = [
            (qualified(node.relation), c.newowner.rolename)
            for c in node.cmds or ()
            if c.subtype == AlterTableType.AT_ChangeOwner
        ]
    elif isinstance(node, ast.AlterOwnerStmt) and node.newowner is not None:
        owner_cmds = [
            (deparse(node.object) if node.object is not None else "?", node.newowner.rolename)
        ]
    for obj, role in owner_cmds:
        if role in RUNTIME_ROLES:
            yield finding(
                OWNER,
                f"makes {role} the owner of {obj}: an owner can disable RLS and triggers.",
                obj,
                stmt.location,
                statement=stmt.text,
            )


TABLE_CHECKS += [check_rls, check_owner_and_grants]
VIEW_CHECKS.append(check_view)
STATEMENT_CHECKS.append(check_grant_and_owner_statements)
