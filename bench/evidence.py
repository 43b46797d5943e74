"""Audit chain and evidence pack at scale: 1M audit events of one tenant.

Against the `<name>_evidence` database (created and filled on first run, ~1 KB events shaped
like a posted entry's, with its two lines):

- sealing: the sealer (aibos_sealer_role) seals the whole backlog: events/s;
- audit_verify: the chains recomputed from the database: events/s;
- export: `manage.py evidence_export` of the tenant, as its own process: seconds, peak memory (PSS, with its workers);
- verify.py: the pack's stdlib verifier, as its own process: seconds, chain events/s;
- 4 writers: four processes posting through finance.journal_entry_create while the sealer
  follows: sealing lag (commit clock -> seal) p50/p99/max.

Run: .venv/bin/python bench/evidence.py     (BENCH_EVIDENCE_EVENTS to change the size)
"""

from __future__ import annotations

import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
os.environ.setdefault("AIBOS_DB_POOL_SIZE", "0")

import django

EVENTS = int(os.environ.get("BENCH_EVIDENCE_EVENTS", "1000000"))
TENANT = uuid.UUID(int=717171)
SLUG = "evidence-bench"
ROOT = Path(__file__).resolve().parent.parent

FILL_SQL = """
INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, row_id,
    operation, old_values, new_values, changed_fields, actor, actor_user_id, db_role,
    correlation_id, txid)
SELECT %(tenant)s, now() + g * interval '1 microsecond', 'finance', 'journal_entries',
    md5(g::text)::uuid::text, 'INSERT', NULL,
    jsonb_build_object(
        'id', md5(g::text)::uuid, 'tenant_id', %(tenant)s, 'status', 'POSTED',
        'entry_date', '2026-06-01', 'reference', 'INV-' || g, 'memo', 'bench entry ' || g,
        'posting_seq', g, 'created_by', 'command:bench', 'line_count', 2,
        'company_id', md5('company')::uuid,
        'lines', jsonb_build_array(
            jsonb_build_object('line_no', 1, 'account_id', md5('a1')::uuid,
                'debit', (g %% 997 + 1)::numeric(20, 4), 'credit', 0::numeric(20, 4),
                'currency', 'USD', 'txn_amount', (g %% 997 + 1)::numeric(20, 4), 'fx_rate', 1),
            jsonb_build_object('line_no', 2, 'account_id', md5('a2')::uuid,
                'debit', 0::numeric(20, 4), 'credit', (g %% 997 + 1)::numeric(20, 4),
                'currency', 'USD', 'txn_amount', (g %% 997 + 1)::numeric(20, 4), 'fx_rate', 1))),
    NULL, 'command:bench', NULL, 'aibos_finance_role', md5(g::text), txid_current()
FROM generate_series(%(first)s, %(last)s) g
"""


def _setup() -> str:
    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from bench.rls_overhead import _ensure_database, _use_bench_database

    name = _use_bench_database("_evidence")
    _ensure_database(name)
    call_command("migrate", verbosity=0)
    with connections["default"].cursor() as cur:
        cur.execute(
            "INSERT INTO kernel.tenants (id, name, slug, status, plan, version, created_at, "
            "updated_at) VALUES (%s, 'Evidence bench', %s, 'active', 'standard', 1, now(), now()) "
            "ON CONFLICT (id) DO NOTHING",
            [TENANT, SLUG],
        )
        cur.execute("SELECT count(*) FROM kernel.audit_events WHERE tenant_id = %s", [TENANT])
        have = cur.fetchone()[0]
        step = 100_000
        for first in range(have + 1, EVENTS + 1, step):
            cur.execute(
                FILL_SQL, {"tenant": TENANT, "first": first, "last": min(first + step - 1, EVENTS)}
            )
            print(f"  filled {min(first + step - 1, EVENTS):,} events", flush=True)
        cur.execute("VACUUM ANALYZE kernel.audit_events")
    connections.close_all()
    return name


def _reseal() -> tuple[int, float]:
    from django.db import connections

    from assurance.chain.sealer import seal_until_caught_up

    with connections["default"].cursor() as cur:
        cur.execute("SET session_replication_role = replica")  # the bench's owner resets the chain
        cur.execute("TRUNCATE kernel.audit_seals, kernel.audit_seal_batches")
        cur.execute("SET session_replication_role = DEFAULT")
    started = time.perf_counter()
    sealed = seal_until_caught_up().events
    elapsed = time.perf_counter() - started
    connections.close_all()
    return sealed, elapsed


def _db_verify() -> tuple[int, float]:
    from django.db import connections

    from assurance.chain.verifier import verify_all

    started = time.perf_counter()
    reports, inserted = verify_all([TENANT])
    elapsed = time.perf_counter() - started
    assert not inserted and not reports[0].breaks, "the bench chain does not verify"
    connections.close_all()
    return reports[0].size, elapsed


def _tree_rss_kb(pid: int) -> int:
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            # PSS: shared pages (a forked worker's inherited ones) split between the sharers,
            # so the sum is the memory the tree really holds.
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except (OSError, ValueError):
            continue
        pending += [int(c) for c in children]
    return total


def _child(cmd: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak PSS (MB, with its children) and output of one child process."""
    # Peak memory: the largest sum of PSS over the process and its children (the export's
    # workers), sampled every 20 ms; rusage would also count the parent's memory a forked
    # child inherited before exec, and a sum of RSS would count shared pages twice.
    started = time.perf_counter()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read back below, closed with the process
    proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, _tree_rss_kb(proc.pid))
        time.sleep(0.02)
    elapsed = time.perf_counter() - started
    log.seek(0)
    out = log.read().decode()
    log.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{out}")
    return elapsed, peak_kb // 1024, out


def _writers_with_sealer(name: str) -> None:
    from bench import posting
    from bench.sealing import catch_up, lag_since, sealer_running

    books = posting._prepare(4)
    catch_up()
    per_client = int(os.environ.get("BENCH_WRITER_ENTRIES", "2000"))
    started = time.time()
    with sealer_running(), mp.get_context("fork").Pool(4) as pool:
        t0 = time.perf_counter()
        pool.map(posting._client, [("call", b, per_client) for b in books])
        write_seconds = time.perf_counter() - t0
    p50, p99, worst, n = lag_since(started)
    print(
        f"4 writers ({4 * per_client:,} entries in {write_seconds:.1f} s, "
        f"{4 * per_client / write_seconds:,.0f}/s) with the sealer following: {n:,} events sealed, "
        f"lag p50 {p50:.3f} s, p99 {p99:.3f} s, max {worst:.3f} s"
    )


def main() -> None:
    name = _setup()
    from django.conf import settings

    print(f"database {name}: {EVENTS:,} audit events of one tenant")
    sealed, seconds = _reseal()
    print(
        f"sealing the backlog: {sealed:,} events in {seconds:.1f} s = {sealed / seconds:,.0f} events/s"
    )
    size, seconds = _db_verify()
    print(
        f"audit_verify (database): {size:,} links in {seconds:.1f} s = {size / seconds:,.0f} events/s"
    )

    work = Path(tempfile.mkdtemp(prefix="aibos-evidence-"))
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}",
        "AIBOS_SIGNING_KEY_FILE": str(work / "key"),
        "AIBOS_CHECKPOINT_DIR": str(work / "checkpoints"),
    }
    python = sys.executable
    _child([python, "manage.py", "signing_keygen"], env)
    pack = work / "pack.zip"
    seconds, rss, _ = _child(
        [python, "manage.py", "evidence_export", "--tenant", SLUG, "--out", str(pack)], env
    )
    print(
        f"evidence_export: {seconds:.1f} s, peak PSS {rss} MB (with its workers), {pack.stat().st_size / 1e6:,.0f} MB ZIP"
    )
    seconds, rss, out = _child(
        [python, "-I", str(ROOT / "assurance/evidence/verify.py"), str(pack)], env
    )
    assert "VERIFIED" in out, out
    print(
        f"verify.py (stdlib, whole pack: signature, every file's SHA-256, chain, checkpoints, "
        f"ledger): {seconds:.1f} s, peak PSS {rss} MB = {EVENTS / seconds:,.0f} events/s"
    )
    import json
    import zipfile

    from assurance.evidence import verify as pack_verify

    with zipfile.ZipFile(pack) as z:
        chain = json.loads(z.read("manifest.json"))["chain"]
        started = time.perf_counter()
        report = pack_verify.Report()
        pack_verify.verify_chain(z, chain, report, set())
        seconds = time.perf_counter() - started
    assert not report.failures, report.failures
    print(
        f"verify.py chain step alone (hash each canonical line after the previous link): "
        f"{chain['events']:,} links in {seconds:.1f} s = {chain['events'] / seconds:,.0f} events/s"
    )
    _writers_with_sealer(name)


if __name__ == "__main__":
    main()
