"""Print what PostgreSQL enforces, read from its catalog: roles, RLS, policies, grants, triggers.

Runs as the owner (`default`): it reads pg_catalog only and changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import connections

from aibos.db.roles import PLATFORM_ROLES, SCHEMAS

QUERIES: list[tuple[str, str]] = [
    (
        "Platform roles",
        """
        SELECT rolname AS role, rolcanlogin AS login, rolsuper AS superuser,
               rolbypassrls AS bypassrls, rolcreaterole AS createrole, rolcreatedb AS createdb,
               (SELECT count(*) FROM pg_class c WHERE c.relowner = r.oid) AS owns_relations
        FROM pg_roles r WHERE rolname = ANY(%(roles)s) ORDER BY rolname
        """,
    ),
    (
        "Tables: row-level security",
        """
        SELECT format('%%I.%%I', n.nspname, c.relname) AS "table",
               EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                       AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS tenant_id,
               c.relrowsecurity AS rls_enabled, c.relforcerowsecurity AS rls_forced,
               pg_get_userbyid(c.relowner) AS owner
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ANY(%(schemas)s) AND c.relkind = 'r' ORDER BY 1
        """,
    ),
    (
        "Policies",
        """
        SELECT format('%%I.%%I', schemaname, tablename) AS "table", policyname AS policy,
               cmd, permissive, array_to_string(roles, ',') AS roles,
               qual AS using, with_check
        FROM pg_policies WHERE schemaname = ANY(%(schemas)s) ORDER BY 1, 2
        """,
    ),
    (
        "Grants to platform roles",
        """
        WITH per_table AS (
            SELECT grantee, table_schema, table_name,
                   string_agg(privilege_type, ',' ORDER BY privilege_type) AS privileges
            FROM information_schema.role_table_grants
            WHERE grantee = ANY(%(roles)s) AND table_schema = ANY(%(schemas)s || '{public}'::text[])
            GROUP BY 1, 2, 3
        )
        SELECT grantee AS role, table_schema AS schema, privileges,
               string_agg(table_name, ', ' ORDER BY table_name) AS tables
        FROM per_table GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
    ),
    (
        "Triggers",
        """
        SELECT format('%%I.%%I', n.nspname, c.relname) AS "table",
               string_agg(t.tgname, ', ' ORDER BY t.tgname) AS triggers
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE NOT t.tgisinternal AND n.nspname = ANY(%(schemas)s)
        GROUP BY 1 ORDER BY 1
        """,
    ),
]


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))
    out = [line, "-+-".join("-" * w for w in widths)]
    out += [" | ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(out)


class Command(BaseCommand):
    help = "Print the roles, RLS, policies, grants and triggers as deployed (from pg_catalog)."

    def handle(self, *args: Any, **options: Any) -> None:
        params = {"roles": list(PLATFORM_ROLES), "schemas": list(SCHEMAS)}
        with connections["default"].cursor() as cur:
            for title, sql in QUERIES:
                cur.execute(sql, params)
                columns = [d.name for d in cur.description]
                self.stdout.write(f"\n## {title}\n")
                self.stdout.write(_table(columns, cur.fetchall()))
