"""RLS overhead: a tenant-scoped list through the governed path vs the same query unguarded.

Data: 1,000,000 rows in finance.companies (the real governed table, its real policy and
indexes), 1,000 tenants x 1,000 rows, in a separate database `<name>_rls_bench` so the
application's data is untouched.

Query (what a list endpoint sends): the first 100 companies of one tenant by code.
- governed:   aibos_finance_role, inside tenant_context (RLS on, plus the explicit predicate)
- unguarded:  the owner (RLS does not apply), explicit `WHERE tenant_id = %s`

Two shapes, each timed for both paths in the same run, tenants drawn at random:
1. query:   statements inside one open transaction — the same number of round trips on both
            sides, so the difference is the cost of the policy itself;
2. request: one transaction per list, as a request does. The governed side also pays for
            setting the tenant (it rides with the list's statement), which the unguarded side
            does not have;
3. one statement: the list as its own implicit transaction (no BEGIN/COMMIT): the owner in
            autocommit, the governed side through ``tenant_statement`` (variables and list in
            one query).

Run: make bench   (or DJANGO_SETTINGS_MODULE=aibos.settings python bench/rls_overhead.py)
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
# DEBUG off: no per-query logging in the timed loops.
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")

import django
from django.conf import settings

TENANTS = 1_000
ROWS_PER_TENANT = 1_000
ITERATIONS = int(os.environ.get("BENCH_ITERATIONS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
LIST_SQL = (
    "SELECT id, code, name, base_currency FROM finance.companies "
    "WHERE tenant_id = %s ORDER BY code LIMIT 100"
)
# What the ORM would send without its explicit tenant predicate: RLS alone confines it.
LIST_SQL_RLS_ONLY = (
    "SELECT id, code, name, base_currency FROM finance.companies ORDER BY code LIMIT 100"
)


def _use_bench_database(suffix: str = "_bench") -> str:
    name = f"{settings.DATABASES['default']['NAME']}{suffix}"
    for alias in settings.DATABASES:
        settings.DATABASES[alias]["NAME"] = name
    return name


def _ensure_database(name: str) -> None:
    from django.db import connections

    with connections["default"]._nodb_cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{name}"')


def _tenant_ids() -> list[uuid.UUID]:
    return [uuid.UUID(int=i + 1) for i in range(TENANTS)]


def _load(tenants: list[uuid.UUID]) -> None:
    from django.db import connections, transaction

    with connections["default"].cursor() as cur:
        cur.execute("SELECT count(*) FROM finance.companies")
        (count,) = cur.fetchone()
    if count == TENANTS * ROWS_PER_TENANT:
        print(f"data: {count:,} rows already loaded")
        return
    started = time.perf_counter()
    with transaction.atomic(using="default"), connections["default"].cursor() as cur:
        if count:  # a fresh database has none (and companies is referenced by other tables)
            cur.execute("TRUNCATE finance.companies")
        # Loading, not a governed write: skip the per-row audit trigger for these synthetic rows.
        cur.execute("ALTER TABLE finance.companies DISABLE TRIGGER USER")
        cur.execute(
            """
            INSERT INTO finance.companies (tenant_id, code, name, base_currency, version)
            SELECT ('00000000-0000-0000-0000-' || lpad(to_hex(t), 12, '0'))::uuid,
                   'C' || lpad(r::text, 6, '0'), 'Company ' || r, 'USD', 1
            FROM generate_series(1, %s) t, generate_series(1, %s) r
            """,
            [TENANTS, ROWS_PER_TENANT],
        )
        cur.execute("ALTER TABLE finance.companies ENABLE TRIGGER USER")
    with connections["default"].cursor() as cur:
        cur.execute("VACUUM ANALYZE finance.companies")
    print(
        f"data: loaded {TENANTS * ROWS_PER_TENANT:,} rows in {time.perf_counter() - started:.1f}s"
    )


def _rate(fn, tenants: list[uuid.UUID]) -> float:  # type: ignore[no-untyped-def]
    rng = random.Random(42)
    picks = [rng.choice(tenants) for _ in range(ITERATIONS)]
    started = time.perf_counter()
    fn(picks)
    return ITERATIONS / (time.perf_counter() - started)


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connections, transaction

    from aibos.tenancy import tenant_context, tenant_statement

    # Its own database: the million companies would be in the other benches' way (and they in
    # its: the posting bench's companies have accounts and entries).
    name = _use_bench_database("_rls_bench")
    _ensure_database(name)
    call_command("migrate", verbosity=0)
    tenants = _tenant_ids()
    _load(tenants)

    governed, owner = connections["finance"], connections["default"]

    def governed_query(picks: list[uuid.UUID], sql: str = LIST_SQL) -> None:
        # One transaction per tenant, the list run 50x inside it: only the policy differs.
        for i in range(0, len(picks), 50):
            with tenant_context(picks[i], using=["finance"]), governed.cursor() as cur:
                for _ in range(50):
                    cur.execute(sql, [picks[i]] if "%s" in sql else None)
                    rows = cur.fetchall()
                    assert len(rows) == 100

    def governed_query_rls_only(picks: list[uuid.UUID]) -> None:
        governed_query(picks, LIST_SQL_RLS_ONLY)

    def unguarded_query(picks: list[uuid.UUID]) -> None:
        for i in range(0, len(picks), 50):
            with transaction.atomic(using="default"), owner.cursor() as cur:
                cur.execute("SELECT 1")  # the same statement count as set_config on the other side
                for _ in range(50):
                    cur.execute(LIST_SQL, [picks[i]])
                    rows = cur.fetchall()
                    assert len(rows) == 100

    def governed_request(picks: list[uuid.UUID]) -> None:
        for tenant in picks:
            with tenant_context(tenant, using=["finance"]), governed.cursor() as cur:
                cur.execute(LIST_SQL, [tenant])
                assert len(cur.fetchall()) == 100

    def unguarded_request(picks: list[uuid.UUID]) -> None:
        for tenant in picks:
            with transaction.atomic(using="default"), owner.cursor() as cur:
                cur.execute(LIST_SQL, [tenant])
                assert len(cur.fetchall()) == 100

    def governed_statement(picks: list[uuid.UUID]) -> None:
        for tenant in picks:
            with tenant_statement(tenant, using="finance"), governed.cursor() as cur:
                cur.execute(LIST_SQL, [tenant])
                assert len(cur.fetchall()) == 100

    def unguarded_statement(picks: list[uuid.UUID]) -> None:
        for tenant in picks:
            with owner.cursor() as cur:  # autocommit: its own implicit transaction
                cur.execute(LIST_SQL, [tenant])
                assert len(cur.fetchall()) == 100

    # Sanity: the governed path really is confined, and the plan uses the tenant-leading index.
    with governed.cursor() as cur:
        cur.execute("SELECT count(*) FROM finance.companies")
        assert cur.fetchone() == (0,), "no tenant set must mean no rows"
    with tenant_context(tenants[0], using=["finance"]), governed.cursor() as cur:
        cur.execute("SELECT count(*) FROM finance.companies")
        assert cur.fetchone() == (ROWS_PER_TENANT,)
        cur.execute("EXPLAIN " + LIST_SQL, [tenants[0]])
        plan = "\n".join(r[0] for r in cur.fetchall())
    print("governed plan:\n  " + plan.replace("\n", "\n  "))

    runs = {
        "uq": unguarded_query,
        "gq": governed_query,
        "go": governed_query_rls_only,
        "ur": unguarded_request,
        "gr": governed_request,
        "us": unguarded_statement,
        "gs": governed_statement,
    }
    results: dict[str, list[float]] = {k: [] for k in runs}
    for round_no in range(ROUNDS):
        # Interleaved, and the order flips every round, so drift on the machine hits all alike.
        order = list(runs) if round_no % 2 == 0 else list(reversed(runs))
        for key in order:
            results[key].append(_rate(runs[key], tenants))
    med = {k: statistics.median(v) for k, v in results.items()}

    print(
        f"\nPostgreSQL: {owner.pg_version}, {TENANTS:,} tenants x {ROWS_PER_TENANT:,} rows, "
        f"{ITERATIONS:,} lists x {ROUNDS} rounds (median), 1 client"
    )
    rows = [
        ("query: RLS + explicit tenant_id (as the ORM sends it)", "uq", "gq"),
        ("query: RLS predicate only", "uq", "go"),
        ("request: + setting the tenant (rides with the list)", "ur", "gr"),
        ("one statement, its own transaction (tenant_statement)", "us", "gs"),
    ]
    print(f"{'shape':<56}{'unguarded':>12}{'governed':>12}{'ratio':>8}")
    for label, u, g in rows:
        print(f"{label:<56}{med[u]:>10,.0f}/s{med[g]:>10,.0f}/s{med[g] / med[u]:>8.3f}")
    for alias in connections:
        connections[alias].close()


if __name__ == "__main__":
    main()
