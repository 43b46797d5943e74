"""Pass/fail checks of what PostgreSQL enforces, read from its catalog as deployed.

``governance_report`` prints them with a verdict each and exits non-zero when one fails; the
tests in ``tests/security`` check the same properties in more detail. Every check reads the
catalog only and changes nothing, through catalogs every role may read (pg_class ACLs, not
information_schema, which shows a role only its own grants): the monitor role runs them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps

from aibos.db.governance import TableGovernance
from aibos.db.roles import (
    MONITOR_ROLE,
    PLATFORM_ROLES,
    RUNTIME_ALIASES,
    SCHEMA_DEFAULT_GRANTS,
    SCHEMAS,
    SEALER_ROLE,
)

# Privileges no platform role may hold on any table: they would bypass row-level triggers
# (TRUNCATE) or let a role attach its own code or keys to a governed table.
FORBIDDEN_PRIVILEGES = ("TRUNCATE", "TRIGGER", "REFERENCES")


@dataclass(frozen=True)
class CheckResult:
    name: str
    description: str
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def _rows(cursor: Any, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    cursor.execute(sql, params)
    return list(cursor.fetchall())


def _roles(cursor: Any) -> list[str]:
    rows = _rows(
        cursor,
        "SELECT rolname, rolcanlogin, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb "
        "FROM pg_roles WHERE rolname = ANY(%s)",
        [list(PLATFORM_ROLES)],
    )
    problems = [f"{r} does not exist" for r in sorted(set(PLATFORM_ROLES) - {r[0] for r in rows})]
    for name, login, superuser, bypass, createrole, createdb in sorted(rows):
        flags = {
            "cannot log in": not login,
            "is a superuser": superuser,
            "has BYPASSRLS": bypass,
            "has CREATEROLE": createrole,
            "has CREATEDB": createdb,
        }
        problems += [f"{name} {what}" for what, bad in flags.items() if bad]
    return problems


def _ownership(cursor: Any) -> list[str]:
    rows = _rows(
        cursor,
        """
        SELECT r.rolname, 'table ' || c.oid::regclass::text FROM pg_class c
        JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = ANY(%(roles)s)
        UNION ALL
        SELECT r.rolname, 'function ' || p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_roles r ON r.oid = p.proowner WHERE r.rolname = ANY(%(roles)s)
        UNION ALL
        SELECT r.rolname, 'schema ' || n.nspname FROM pg_namespace n
        JOIN pg_roles r ON r.oid = n.nspowner WHERE r.rolname = ANY(%(roles)s)
        ORDER BY 1, 2
        """,
        {"roles": list(PLATFORM_ROLES)},
    )
    owner_bypasses = _rows(
        cursor,
        """
        SELECT DISTINCT c.oid::regclass::text, r.rolname FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_roles r ON r.oid = c.relowner
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'v', 'm', 'p')
          AND (r.rolsuper OR r.rolbypassrls) ORDER BY 1
        """,
        [list(SCHEMAS)],
    )
    return [f"{role} owns {what}" for role, what in rows] + [
        f"{table} is owned by {role}, a superuser or BYPASSRLS role"
        for table, role in owner_bypasses
    ]


def _rls(cursor: Any) -> list[str]:
    rows = _rows(
        cursor,
        """
        SELECT c.oid::regclass::text, c.relrowsecurity, c.relforcerowsecurity
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                      AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY 1
        """,
        [list(SCHEMAS)],
    )
    problems = [f"{table}: RLS not enabled" for table, enabled, _ in rows if not enabled]
    return problems + [f"{table}: RLS not forced" for table, _, forced in rows if not forced]


SERVICE_POLICIES = (
    ("SELECT", [MONITOR_ROLE], "true", None),
    ("SELECT", [SEALER_ROLE], "true", None),
    ("INSERT", [SEALER_ROLE], None, "true"),
)
# The only tables those policies may sit on: what the governance views read (their column grants
# keep the monitor to ids, statuses and amounts) and the audit chain the sealer works on.
SERVICE_POLICY_TABLES = {
    MONITOR_ROLE: (
        "kernel.users",
        "finance.companies",
        "finance.journal_entries",
        "finance.journal_lines",
    ),
    SEALER_ROLE: ("kernel.audit_events", "kernel.audit_seals"),
}


def _policies(cursor: Any) -> list[str]:
    rows = _rows(
        cursor,
        """
        SELECT c.oid::regclass::text, p.policyname, p.cmd, p.roles::text[], p.qual, p.with_check
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname
        WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 'p') AND c.relrowsecurity
        ORDER BY 1, 2
        """,
        [list(SCHEMAS)],
    )
    problems: list[str] = []
    for table, policy, cmd, roles, qual, with_check in rows:
        if policy is None:
            problems.append(f"{table}: RLS enabled but no policy (every row hidden)")
            continue
        # Granted by role name, in exactly these forms, never by a setting: the governance
        # views' reader (its column grants keep it to ids, statuses and amounts) and the audit
        # sealer (reads every tenant's events and seals, appends seals).
        if (cmd, roles, qual, with_check) in SERVICE_POLICIES and table in SERVICE_POLICY_TABLES[
            roles[0]
        ]:
            continue
        # INSERT-only policies (the audit log's `append`) have no USING clause to check.
        for clause, expr in (("USING", qual), ("WITH CHECK", with_check)):
            if expr is None or (cmd == "INSERT" and clause == "WITH CHECK"):
                continue
            if "current_setting('app.tenant_id'" not in expr or "NULLIF(" not in expr:
                problems.append(
                    f"{table}.{policy}: {clause} is not the fail-closed tenant predicate"
                )
    return problems


def _grants(cursor: Any) -> list[str]:
    rows = _rows(
        cursor,
        """
        SELECT pg_get_userbyid(a.grantee), n.nspname, c.relname, a.privilege_type
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a
        WHERE pg_get_userbyid(a.grantee) = ANY(%s) AND n.nspname = ANY(%s)
          AND c.relkind IN ('r', 'p', 'v', 'm')
        ORDER BY 1, 2, 3, 4
        """,
        [list(PLATFORM_ROLES), list(SCHEMAS)],
    )
    runtime_roles = set(RUNTIME_ALIASES.values())
    problems: list[str] = []
    for role, schema, table, privilege in rows:
        if privilege in FORBIDDEN_PRIVILEGES:
            problems.append(f"{role} has {privilege} on {schema}.{table}")
        elif role in runtime_roles and privilege not in SCHEMA_DEFAULT_GRANTS[schema].get(role, ()):
            problems.append(
                f"{role} has {privilege} on {schema}.{table}, outside its schema grants"
            )
    return problems


def _triggers(cursor: Any) -> list[str]:
    installed = {
        (table, name): enabled
        for table, name, enabled in _rows(
            cursor,
            """
            SELECT c.oid::regclass::text, t.tgname, t.tgenabled IN ('O', 'A')
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE NOT t.tgisinternal AND n.nspname = ANY(%s)
            """,
            [list(SCHEMAS)],
        )
    }
    problems = [
        # 'D' is disabled and 'R' (ENABLE REPLICA) fires only in replica mode: neither guards.
        f"{table}: trigger {name} is disabled"
        for (table, name), on in installed.items()
        if not on
    ]
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, TableGovernance) and constraint.audit is not None:
                schema, table = model._meta.db_table.split('"."')
                key = (f"{schema}.{table}", f"{constraint.name}_audit")
                if key not in installed:
                    problems.append(f"{key[0]}: audit trigger {key[1]} is missing")
    return sorted(problems)


CHECKS: list[tuple[str, str, Callable[[Any], list[str]]]] = [
    ("roles", "platform roles log in, are not superuser, no BYPASSRLS/CREATEROLE/CREATEDB", _roles),
    (
        "ownership",
        "platform roles own nothing; no governed table is owned by a bypassing role",
        _ownership,
    ),
    ("rls", "every table with tenant_id has row-level security enabled and forced", _rls),
    ("policies", "every RLS table has a policy, each the fail-closed tenant predicate", _policies),
    (
        "grants",
        "runtime roles stay within their schema grants; no TRUNCATE/TRIGGER/REFERENCES",
        _grants,
    ),
    ("triggers", "every declared audit trigger is installed; no trigger is disabled", _triggers),
]


def run_checks(cursor: Any) -> list[CheckResult]:
    return [
        CheckResult(name=name, description=description, problems=check(cursor))
        for name, description, check in CHECKS
    ]
