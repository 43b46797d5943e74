"""Query Optimizer: report time on the 300k-row fixture, and our advisor beside Postgres MCP Pro.

Against the `<name>_optimizer` database (migrated; the fixture of bench/optimizer_workload.py
rebuilt each run):

- report time: `build_report` over the fixture workload (capture-shaped, as the tests give it),
  median of 5 runs, plus one full `manage.py optimizer_report --format json` as its own process;
- side by side: our advisor and Postgres MCP Pro's DTA (`postgres-mcp` 0.3.0, in a throwaway
  Python 3.12 venv under /tmp, driven by bench/postgres_mcp_driver.py) on the same workload
  with the same weights (calls x mean time). Both chosen configurations are then costed by the
  same HypoPG what-if (generic plans, calls x plan cost over the workload) and sized by
  `hypopg_relation_size`, so neither advisor grades itself.

postgres-mcp needs Python >= 3.12 and, on this index, cannot be installed as published (it pins
pglast==7.2.0, which is not there, and imports FastMCP from mcp<2): the venv gets pglast 7.20,
mcp<2 and postgres-mcp --no-deps. If that fails the bench says so and prints our side only.

Run: .venv/bin/python bench/optimizer.py      (BENCH_MCP_PYTHON: a python3.12 to use)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("AIBOS_DB_POOL_SIZE", "0")

import django

ROOT = Path(__file__).resolve().parent.parent
MCP_VENV = Path("/tmp/aibos-bench-postgres-mcp")
MCP_PYTHON = os.environ.get("BENCH_MCP_PYTHON", "/root/.pyenv/versions/3.12.1/bin/python3")


def _mcp_python() -> Path | None:
    python = MCP_VENV / "bin" / "python"
    if python.exists():
        return python
    if not Path(MCP_PYTHON).exists():
        return None
    steps = [
        [MCP_PYTHON, "-m", "venv", str(MCP_VENV)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "pglast==7.20",
            "mcp[cli]<2",
            "attrs",
            "humanize",
            "instructor",
            "psycopg[binary]",
            "psycopg-pool",
        ],
        [str(python), "-m", "pip", "install", "-q", "--no-deps", "postgres-mcp==0.3.0"],
    ]
    for step in steps:
        if subprocess.run(step, capture_output=True, text=True, timeout=600).returncode:
            return None
    return python


def _literal(sql: str) -> str:
    """The $n form with constants, for postgres-mcp: its parameter sampling fails on a uuid $1
    here ("invalid input"), so it plans custom plans of these; we plan generic ones of $n."""
    from bench.optimizer_workload import CUSTOMER_SQL, STATUS_SQL, UPDATE_SQL

    if sql == CUSTOMER_SQL or "customer_id = $1" in sql:
        return sql.replace("$1", "4242")
    if sql == STATUS_SQL or "status = $1" in sql:
        return sql.replace("$1", "'paid'")
    if sql == UPDATE_SQL:
        return sql.replace("$1", "'paid'").replace("$2", "17")
    return sql.replace("$1", "'00000000-0000-0000-0000-000000000007'")


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from bench.optimizer_workload import BUILD, BUILD_RLS, SCHEMA, WORKLOAD, WORKLOAD_RLS
    from bench.rls_overhead import _ensure_database, _use_bench_database
    from optimizer.report import build_report
    from optimizer.workload import from_sql

    name = _use_bench_database("_optimizer")
    _ensure_database(name)
    call_command("migrate", verbosity=0)
    t0 = time.perf_counter()
    with connections["default"].cursor() as cur:
        cur.execute(BUILD)
        cur.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO aibos_finance_role")
        cur.execute(f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA {SCHEMA} TO aibos_finance_role")
    print(f"fixture: 300,000 rows built and analysed in {time.perf_counter() - t0:.1f} s")
    aliases = {SCHEMA: "finance"}
    workload = from_sql(WORKLOAD)

    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        report = build_report(workload=workload, schema_aliases=aliases)
        times.append(time.perf_counter() - t0)
    advice = report.advice["finance"]
    print(
        f"report (build_report, {len(workload)} templates, {len(report.findings)} findings): "
        f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"over 5 runs; {advice.explains} what-if plans"
    )
    path = Path("/tmp/aibos-bench-optimizer-workload.jsonl")
    path.write_text(
        "".join(json.dumps({"sql": s, "calls": c, "mean_ms": m}) + "\n" for s, c, m in WORKLOAD)
    )
    env = {**os.environ, "DATABASE_URL": _database_url(name)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "optimizer_report",
            "--format",
            "json",
            "--no-pgss",
            "--workload",
            str(path),
            "--alias",
            f"{SCHEMA}=finance",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    print(
        f"manage.py optimizer_report --format json (own process, incl. Django start): "
        f"{time.perf_counter() - t0:.2f} s, exit {proc.returncode}"
    )

    print("\n1. The fixture workload (explicit tenant predicates, as our selectors write them)")
    ours = [c.spec for c in advice.chosen]
    mcp_size = _side_by_side(name, workload, ours, role=None)
    _within(name, workload, aliases, mcp_size, ours, "1b", role=None)

    with connections["default"].cursor() as cur:
        cur.execute(BUILD_RLS)
        # postgres-mcp reads hypopg_list_indexes, which HypoPG does not grant to PUBLIC (our
        # advisor tracks the indexes it creates instead): a bench-only grant so it can run.
        cur.execute("GRANT SELECT ON hypopg_list_indexes TO aibos_finance_role")
        cur.execute(f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA {SCHEMA} TO aibos_finance_role")
    rls_workload = from_sql(WORKLOAD_RLS)
    rls_report = build_report(workload=rls_workload, schema_aliases=aliases)
    print(
        "\n2. The same rows behind the tenant RLS policy, queried through the runtime role "
        "(tenant predicate from the policy; both advisors connect as aibos_finance_role)"
    )
    ours = [c.spec for c in rls_report.advice["finance"].chosen]
    mcp_size = _side_by_side(name, rls_workload, ours, role="aibos_finance_role")
    _within(name, rls_workload, aliases, mcp_size, ours, "2b", role="aibos_finance_role")


def _within(  # type: ignore[type-arg]
    name: str,
    workload: list,
    aliases: dict,
    mcp_size: int,
    ours: list,
    label: str,
    *,
    role: str | None,
) -> None:
    """When postgres-mcp chose less storage than we did: our advisor again, bounded by it."""
    from optimizer.report import build_report
    from optimizer.whatif import what_if_session

    with what_if_session("finance") as whatif:
        our_size = sum(whatif.size(s) for s in ours)
    if not mcp_size or our_size <= mcp_size:
        return
    budgeted = build_report(workload=workload, schema_aliases=aliases, storage_budget=mcp_size)
    ours = [c.spec for c in budgeted.advice["finance"].chosen]
    print(f"\n{label}. Ours again, within postgres-mcp's storage ({mcp_size / 1024 / 1024:.1f} MB)")
    _side_by_side(name, workload, ours, role=role, mcp=False)


def _side_by_side(  # type: ignore[type-arg]
    name: str, workload: list, ours: list, *, role: str | None, mcp: bool = True
) -> int:
    """Print both advisors' configurations costed alike; return postgres-mcp's size."""
    from optimizer.advisor import workload_cost
    from optimizer.whatif import what_if_session

    theirs, mcp_error = _run_mcp(name, workload, role=role) if mcp else (None, "")
    rows = [("ours (aibos)", ours)]
    if theirs is not None:
        rows.append(("postgres-mcp 0.3.0", theirs))
    sizes = {}
    with what_if_session("finance") as whatif:
        base = workload_cost(whatif, workload, [])
        print(f"workload cost with no new index (sum of calls x plan cost): {base:,.0f}")
        print(f"{'advisor':<20} {'indexes':<44} {'size':>9} {'cost after':>12} {'reduction':>9}")
        for label, config in rows:
            cost = workload_cost(whatif, workload, config)
            size = sum(whatif.size(s) for s in config)
            sizes[label] = size
            shown = "; ".join(f"({', '.join(s.columns)})" for s in config) or "(none)"
            print(
                f"{label:<20} {shown:<44} {size / 1024 / 1024:>6.1f} MB {cost:>12,.0f} "
                f"{100 * (1 - cost / base):>8.1f}%"
            )
    if mcp and theirs is None:
        print(f"postgres-mcp did not run: {mcp_error}")
    return sizes.get("postgres-mcp 0.3.0", 0)


def _database_url(name: str) -> str:
    from django.conf import settings

    from config.providers.probes import alias_url

    return alias_url({**settings.DATABASES["default"], "NAME": name})


def _run_mcp(name: str, workload: list, *, role: str | None) -> tuple[list | None, str]:  # type: ignore[type-arg]
    from django.conf import settings

    from bench.optimizer_workload import SCHEMA
    from optimizer.parsing import TableRef
    from optimizer.whatif import IndexSpec

    python = _mcp_python()
    if python is None:
        return None, f"could not create a postgres-mcp venv with {MCP_PYTHON}"
    db = settings.DATABASES["default"]
    # postgres-mcp reads unqualified table names back (size estimates): give it the schema.
    url = (
        f"postgresql://{role or db['USER']}@{db['HOST']}:{db['PORT']}/{name}"
        f"?options=-csearch_path%3D{SCHEMA},public"
    )
    spec = {
        "url": url,
        "seconds": 30,
        "workload": [
            {"query": _literal(q.sql), "calls": q.calls, "avg_exec_time": q.mean_ms}
            for q in workload
        ],
    }
    proc = subprocess.run(
        [str(python), str(ROOT / "bench" / "postgres_mcp_driver.py")],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        timeout=300,
    )
    try:
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return None, (proc.stderr or proc.stdout)[-500:]
    if out.get("error"):
        return None, out["error"]
    return [
        IndexSpec(TableRef(SCHEMA, i["table"]), tuple(i["columns"])) for i in out["indexes"]
    ], ""


if __name__ == "__main__":
    main()
