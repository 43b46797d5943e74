"""Schema Guardian throughput, beside squawk and the bare parser on the same SQL.

- the project's own migrations: every migration rendered as `sqlmigrate` would (Django's schema
  editor in collect mode) and judged from an empty database — what `migrate` adds to a fresh
  deploy: seconds, statements/s;
- a generated 1,000-table schema in one .sql file (governed tables with their index, grants,
  RLS and policy, one table in ten carrying a mistake): the guardian's engine (parse, state,
  every rule) in statements/s, against
  - pglast parsing alone (the floor: no rule can be cheaper than reading the SQL), and
  - squawk 2.70 on the same file, as its own process (a DDL linter that knows nothing of tenants
    or table sizes; installed into a throwaway venv on first run).

Run: .venv/bin/python bench/guardian.py     (needs DATABASE_URL or the embedded server; BENCH_TABLES)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("AIBOS_DB_POOL_SIZE", "0")

import django

TABLES = int(os.environ.get("BENCH_TABLES", "1000"))
RUNS = 5
SQUAWK = "squawk-cli==2.70.0"
TOOLS = Path(tempfile.gettempdir()) / "aibos-bench-squawk"
PREDICATE = "tenant_id = (SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid)"


def generated_schema(n: int) -> str:
    parts = []
    for i in range(n):
        t = f"finance.bench_t{i:04d}"
        mistake = i % 10 == 0
        amount = "amount real" if mistake else "amount numeric(19,4)"
        # Columns of their own, so the tables are distinct entities (as a real schema's are).
        own = ", ".join(f"c{i:04d}_{k} text" for k in range(4))
        parts.append(
            f"CREATE TABLE {t} (id uuid DEFAULT gen_random_uuid() NOT NULL PRIMARY KEY, "
            f"tenant_id uuid NOT NULL, created_at timestamptz DEFAULT statement_timestamp() NOT NULL, "
            f"updated_at timestamptz DEFAULT statement_timestamp() NOT NULL, code varchar(32) NOT NULL, "
            f"{amount}, company_id uuid NOT NULL, {own});\n"
            f"CREATE INDEX bench_t{i:04d}_tenant ON {t} (tenant_id, created_at);\n"
            f"REVOKE ALL ON {t} FROM PUBLIC;\n"
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON {t} TO aibos_finance_role;\n"
            f"ALTER TABLE {t} ENABLE ROW LEVEL SECURITY;\n"
            + ("" if mistake else f"ALTER TABLE {t} FORCE ROW LEVEL SECURITY;\n")
            + f"CREATE POLICY tenant_isolation ON {t} USING ({PREDICATE}) WITH CHECK ({PREDICATE});\n"
        )
    return "".join(parts)


def timed(fn, runs: int = RUNS) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def squawk_binary() -> Path | None:
    exe = TOOLS / "bin" / "squawk"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
        r = subprocess.run(
            [str(TOOLS / "bin" / "pip"), "install", "-q", SQUAWK], capture_output=True, text=True
        )
        if r.returncode != 0:
            print(f"  squawk could not be installed: {r.stderr.strip()[:200]}")
            return None
    return exe


def main() -> None:
    django.setup()
    import pglast
    from django.db import connections

    from guardian.config import project_config
    from guardian.engine import analyse
    from guardian.findings import Location
    from guardian.runner import run_migrations
    from guardian.sources.migrations import full_history, plan_from_migrations
    from guardian.sql import split_statements
    from guardian.state import SchemaState

    config = project_config()
    conn = connections["default"]
    connections["default"].ensure_connection()

    print("Schema Guardian on the project's own migrations (rendered + judged, from empty):")
    history = full_history(conn)
    n_statements = len(plan_from_migrations(conn, *full_history(conn)).statements)
    secs, run = timed(
        lambda: run_migrations(migrations=full_history(conn), history=True, config=config), runs=3
    )
    print(
        f"  {len(history[0])} migrations, {n_statements} statements: {secs:.2f} s median of 3 "
        f"({n_statements / secs:,.0f} statements/s); {len(run.verdict.findings)} findings, "  # type: ignore[attr-defined]
        f"{len(run.verdict.stopping)} stopping"  # type: ignore[attr-defined]
    )
    render_s, _ = timed(lambda: plan_from_migrations(conn, *full_history(conn)), runs=3)
    print(f"  of which rendering the SQL (Django's schema editor): {render_s:.2f} s")

    sql = generated_schema(TABLES)
    path = Path(tempfile.mkdtemp()) / "schema.sql"
    path.write_text(sql)
    statements = split_statements(sql, Location("file", path=str(path)))
    n = len(statements)
    print(f"\nGenerated schema: {TABLES:,} tables, {n:,} statements, {len(sql) / 1e6:.1f} MB")

    parse_s, _ = timed(lambda: pglast.parse_sql(sql))
    print(f"  pglast parse only (floor):     {parse_s:6.2f} s  {n / parse_s:>9,.0f} statements/s")

    def guardian_run() -> list:  # type: ignore[type-arg]
        return analyse(
            split_statements(sql, Location("file", path=str(path))), SchemaState(), config
        )

    g_s, found = timed(guardian_run)
    stopping = {f.rule for f in found if f.level == "block"}  # type: ignore[attr-defined]
    print(
        f"  guardian (parse+state+rules):  {g_s:6.2f} s  {n / g_s:>9,.0f} statements/s  "
        f"{len(found):,} findings; blocks: {', '.join(sorted(stopping))}"  # type: ignore[arg-type]
    )

    exe = squawk_binary()
    if exe is not None:

        def squawk_run() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(exe), "--reporter", "json", str(path)], capture_output=True, text=True
            )

        s_s, res = timed(squawk_run)
        import json

        try:
            issues = json.loads(res.stdout)  # type: ignore[attr-defined]
        except ValueError:
            issues = []
        rules = sorted({i.get("rule_name", "?") for i in issues})
        print(
            f"  squawk 2.70 (whole process):   {s_s:6.2f} s  {n / s_s:>9,.0f} statements/s  "
            f"{len(issues):,} issues; rules: {', '.join(rules[:6])}{'…' if len(rules) > 6 else ''}"
        )
        tenant_aware = [
            i
            for i in issues
            if "tenant" in json.dumps(i).lower() or "row level" in json.dumps(i).lower()
        ]
        print(
            f"    of squawk's issues, about tenants or RLS: {len(tenant_aware)} (the {TABLES // 10} unforced-RLS tables and real-typed amounts go unseen)"
        )


if __name__ == "__main__":
    main()
