"""Audit capture cost: writes to a governed table with the audit trigger on vs off.

Same table (finance.companies in the `<name>_bench` database), same role (aibos_finance_role in
tenant_context, RLS on), same statements; between phases the owner switches only the
`finance_company_audit` trigger. Interleaved rounds, median.

- single: one-row INSERT + UPDATE per transaction (what a service call does)
- bulk:   one INSERT ... SELECT of 1,000 rows per transaction (row-level trigger: 1,000 audit rows)

Run: .venv/bin/python bench/audit_overhead.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
SINGLE = int(os.environ.get("BENCH_SINGLE", "1000"))
BULK_BATCHES = 10
TENANT = uuid.UUID(int=424242)


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from aibos.tenancy import tenant_context
    from bench.rls_overhead import _ensure_database, _use_bench_database

    name = _use_bench_database()
    _ensure_database(name)
    call_command("migrate", verbosity=0)
    owner, finance = connections["default"], connections["finance"]

    def set_audit(on: bool) -> None:
        with owner.cursor() as cur:
            verb = "ENABLE" if on else "DISABLE"
            cur.execute(f"ALTER TABLE finance.companies {verb} TRIGGER finance_company_audit")

    def single(n: int) -> float:
        started = time.perf_counter()
        for _ in range(n):
            with tenant_context(TENANT, using=["finance"]), finance.cursor() as cur:
                cur.execute(
                    "INSERT INTO finance.companies (tenant_id, code, name, base_currency) "
                    "VALUES (%s, %s, 'Bench', 'USD') RETURNING id",
                    [TENANT, uuid.uuid4().hex[:20]],
                )
                (row_id,) = cur.fetchone()
                cur.execute("UPDATE finance.companies SET name = 'Bench 2' WHERE id = %s", [row_id])
        return n / (time.perf_counter() - started)

    def bulk(batches: int) -> float:
        started = time.perf_counter()
        for _ in range(batches):
            with tenant_context(TENANT, using=["finance"]), finance.cursor() as cur:
                cur.execute(
                    "INSERT INTO finance.companies (tenant_id, code, name, base_currency) "
                    "SELECT %s, md5(random()::text), 'Bulk', 'USD' FROM generate_series(1, 1000)",
                    [TENANT],
                )
        return batches * 1000 / (time.perf_counter() - started)

    def cleanup() -> None:
        with owner.cursor() as cur:
            cur.execute("ALTER TABLE finance.companies DISABLE TRIGGER USER")
            cur.execute("DELETE FROM finance.companies WHERE tenant_id = %s", [TENANT])
            cur.execute("ALTER TABLE finance.companies ENABLE TRIGGER USER")

    results: dict[str, list[float]] = {
        k: [] for k in ("single_on", "single_off", "bulk_on", "bulk_off")
    }
    try:
        for round_no in range(ROUNDS):
            for on in (True, False) if round_no % 2 == 0 else (False, True):
                set_audit(on)
                suffix = "on" if on else "off"
                results[f"single_{suffix}"].append(single(SINGLE))
                results[f"bulk_{suffix}"].append(bulk(BULK_BATCHES))
            cleanup()
    finally:
        set_audit(True)
    med = {k: statistics.median(v) for k, v in results.items()}
    print(
        f"PostgreSQL {owner.pg_version}, aibos_finance_role with RLS, {ROUNDS} rounds (median), 1 client"
    )
    print(f"{'shape':<44}{'audit off':>14}{'audit on':>14}{'ratio':>8}")
    print(
        f"{'single: INSERT+UPDATE, 1 tx each (tx/s)':<44}{med['single_off']:>12,.0f}/s{med['single_on']:>12,.0f}/s{med['single_on'] / med['single_off']:>8.3f}"
    )
    print(
        f"{'bulk: INSERT..SELECT 1,000 rows (rows/s)':<44}{med['bulk_off']:>12,.0f}/s{med['bulk_on']:>12,.0f}/s{med['bulk_on'] / med['bulk_off']:>8.3f}"
    )
    for alias in connections:
        connections[alias].close()


if __name__ == "__main__":
    main()
