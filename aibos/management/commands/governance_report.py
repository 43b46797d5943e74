"""Print what PostgreSQL enforces, read from its catalog: roles, RLS, policies, grants, triggers.

Runs as the owner (`default`): it reads pg_catalog only and changes nothing. Ends with a
PASS/FAIL verdict per check (aibos.db.governance_checks), then the governance views' verdicts
(``kernel.v_governance_summary``, which also checks the ledger's rows) read as the monitor role,
the one role that sees every tenant; exits 1 when one fails.
"""

from __future__ import annotations

import textwrap
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections

from aibos.db.governance_checks import run_checks
from aibos.db.roles import PLATFORM_ROLES, SCHEMAS
from assurance.governance_views import read_governance_summary

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
        SELECT policyname AS policy, cmd, permissive, array_to_string(roles, ',') AS roles,
               qual AS using, with_check,
               string_agg(format('%%I.%%I', schemaname, tablename), ', '
                          ORDER BY schemaname, tablename) AS tables
        FROM pg_policies WHERE schemaname = ANY(%(schemas)s)
        GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2
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


# Cells wider than this wrap onto continuation lines, so no line runs off a terminal.
MAX_CELL = 40
WIDTH = 100
# Sections printed as blocks rather than a table: their values are long expressions.
BLOCK_SECTIONS = {"Policies"}


def _wrap(value: Any) -> list[str]:
    text = "" if value is None else str(value)
    if len(text) <= MAX_CELL:
        return [text]
    # Lists (", ") break between items; long expressions anywhere.
    return textwrap.wrap(text, MAX_CELL, break_on_hyphens=False) or [""]


def _blocks(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    """One block per row: the first column as a heading, the others as wrapped `name: value`
    lines (for rows with long expressions, such as policies)."""
    out: list[str] = []
    for row in rows:
        out.append(str(row[0]))
        for name, value in zip(columns[1:], row[1:], strict=True):
            if value is not None:
                out += textwrap.wrap(
                    f"{name}: {value}",
                    WIDTH,
                    initial_indent="    ",
                    subsequent_indent="        ",
                    break_on_hyphens=False,
                )
    return "\n".join(out)


def _table(columns: list[str], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return "(none)"
    cells = [[_wrap(v) for v in row] for row in rows]
    widths = [
        max([len(c)] + [len(line) for r in cells for line in r[i]]) for i, c in enumerate(columns)
    ]
    out = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * w for w in widths))
    for row in cells:
        for n in range(max(len(c) for c in row)):
            parts = [
                (c[n] if n < len(c) else "").ljust(w) for c, w in zip(row, widths, strict=True)
            ]
            out.append("  ".join(parts).rstrip())
    return "\n".join(out)


class Command(BaseCommand):
    help = (
        "Print the roles, RLS, policies, grants and triggers as deployed (from pg_catalog), then "
        "a PASS/FAIL verdict per check; exits 1 when a check fails."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--checks-only", action="store_true", help="Print the verdicts without the catalog."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        params = {"roles": list(PLATFORM_ROLES), "schemas": list(SCHEMAS)}
        with connections["default"].cursor() as cur:
            if not options["checks_only"]:
                for title, sql in QUERIES:
                    cur.execute(sql, params)
                    columns = [d.name for d in cur.description]
                    self.stdout.write(f"\n## {title}\n")
                    layout = _blocks if title in BLOCK_SECTIONS else _table
                    self.stdout.write(layout(columns, cur.fetchall()))
            results = run_checks(cur)
        self.stdout.write("\n## Checks\n")
        for result in results:
            verdict = self.style.SUCCESS("PASS") if result.passed else self.style.ERROR("FAIL")
            self.stdout.write(f"{verdict}  {result.name:<10} {result.description}")
            for problem in result.problems:
                self.stdout.write(f"      - {problem}")
        failed = [r.name for r in results if not r.passed]
        failed_views = self._views()
        if failed or failed_views:
            message = (
                f"{len(failed)} of {len(results)} governance checks failed: {', '.join(failed)}"
            )
            if failed_views:
                message += f"; governance views failed: {', '.join(failed_views)}"
            raise CommandError(message + ".")
        self.stdout.write(self.style.SUCCESS(f"\nAll {len(results)} governance checks passed."))

    def _views(self) -> list[str]:
        """Print the governance views' verdicts; return the names of those that failed."""
        self.stdout.write("\n## Governance views (as aibos_monitor_role)\n")
        try:
            rows = read_governance_summary("monitor")
        except DatabaseError as exc:  # e.g. no AIBOS_MONITOR_ROLE_PASSWORD: fail, do not skip
            self.stdout.write(f"{self.style.ERROR('FAIL')}  cannot read the views: {exc}".strip())
            return ["unreadable"]
        for row in rows:
            passed = row["status"] == "PASS"
            verdict = self.style.SUCCESS("PASS") if passed else self.style.ERROR("FAIL")
            self.stdout.write(
                f"{verdict}  {row['check_name']:<30} {row['checked']} checked, {row['failed']} failed"
            )
            for failure in row["failures"]:
                self.stdout.write(
                    "\n".join(
                        textwrap.wrap(
                            f"- {failure}",
                            WIDTH,
                            initial_indent="      ",
                            subsequent_indent="        ",
                        )
                    )
                )
        return [row["check_name"] for row in rows if row["status"] != "PASS"]
