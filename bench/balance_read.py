"""Balance reads: the stored running total (one indexed row) vs summing the lines.

Loads BENCH_LINES posted lines (default 10,000,000) on two accounts of one company in the
`<name>_bench` database, as the owner with triggers skipped for the bulk load only (then the
balance rows are computed from the lines, exactly what the posting trigger would have written,
and `ledger_reconcile`'s query confirms it). Then, as aibos_finance_role in a tenant context:

- stored: finance.selectors.account_balance (what GET /accounts/<id>/balance/ runs)
- sum:    SELECT sum(debit), sum(credit) over the account's lines (django-hordak's approach)

Run: .venv/bin/python bench/balance_read.py      (BENCH_LINES to change the size)
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

LINES = int(os.environ.get("BENCH_LINES", "10000000"))
READS = int(os.environ.get("BENCH_READS", "2000"))
SUM_READS = int(os.environ.get("BENCH_SUM_READS", "5"))
TENANT = uuid.UUID(int=616161)
BENCH = "bench"
ACTOR = f"command:{BENCH}"  # the actor's label, as raw SQL sets it

LOAD_SQL = """
SET session_replication_role = replica;  -- bulk load only: no per-row guard or audit triggers
SELECT set_config('app.tenant_id', %(t)s, false);
INSERT INTO finance.journal_entries (id, tenant_id, company_id, entry_date, status, reference,
    memo, posted_by, created_by, request_hash, posting_seq, posted_at)
SELECT md5('e' || g)::uuid, %(t)s, %(c)s, DATE '2026-01-01' + (g %% 300), 'POSTED', 'load', '',
       'command:bench', 'command:bench', '', g, now()
  FROM generate_series(1, %(entries)s) g;
INSERT INTO finance.journal_lines (tenant_id, entry_id, line_no, account_id, debit, credit,
    currency, txn_amount, fx_rate, memo)
SELECT %(t)s, md5('e' || g)::uuid, side + 1,
       CASE side WHEN 0 THEN %(debit)s::uuid ELSE %(credit)s::uuid END,
       CASE side WHEN 0 THEN (g %% 1000 + 1)::numeric ELSE 0 END,
       CASE side WHEN 1 THEN (g %% 1000 + 1)::numeric ELSE 0 END,
       'USD', (g %% 1000 + 1)::numeric, 1, ''
  FROM generate_series(1, %(entries)s) g, generate_series(0, 1) side;
INSERT INTO finance.posting_sequences (tenant_id, company_id, last_seq) VALUES (%(t)s, %(c)s, %(entries)s);
INSERT INTO finance.account_balances (tenant_id, account_id, company_id, debit_total, credit_total,
    txn_balance, line_count)
SELECT %(t)s, account_id, %(c)s, sum(debit), sum(credit),
       sum(CASE WHEN debit > 0 THEN txn_amount ELSE -txn_amount END), count(*)
  FROM finance.journal_lines WHERE tenant_id = %(t)s GROUP BY account_id;
SET session_replication_role = DEFAULT;
"""


def main() -> None:
    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from aibos.actors import Actor
    from aibos.tenancy import tenant_context
    from bench.rls_overhead import _ensure_database, _use_bench_database
    from finance import demo, selectors
    from finance.models import Company

    name = _use_bench_database()
    _ensure_database(name)
    call_command("migrate", verbosity=0)
    with tenant_context(TENANT, using=["finance"]):
        company = Company.objects.filter(tenant_id=TENANT, code="BAL").first()
    if company is None:
        books = demo.books_create(
            actor=Actor.for_command(TENANT, BENCH), code="BAL", name="Balances", base_currency="USD"
        )
        debit, credit = books.accounts["5000"].pk, books.accounts["1000"].pk
        started = time.perf_counter()
        with connections["default"].cursor() as cur:
            cur.execute(
                LOAD_SQL,
                {
                    "t": str(TENANT),
                    "c": books.company.pk,
                    "entries": LINES // 2,
                    "debit": str(debit),
                    "credit": str(credit),
                },
            )
            cur.execute("ANALYZE finance.journal_lines")
            cur.execute("ANALYZE finance.journal_entries")
        print(f"loaded {LINES:,} lines in {time.perf_counter() - started:.0f} s")
    with tenant_context(TENANT, using=["finance"]):
        company = Company.objects.get(tenant_id=TENANT, code="BAL")
        from finance.models import Account

        account = Account.objects.get(tenant_id=TENANT, company=company, code="5000")
        lines = selectors.account_balance(tenant_id=TENANT, account_id=account.pk)["line_count"]
        assert selectors.balance_differences(tenant_id=TENANT) == [], "balances do not reconcile"
    connections.close_all()

    def stored() -> float:
        started = time.perf_counter()
        with tenant_context(TENANT, using=["finance"]):
            selectors.account_balance(tenant_id=TENANT, account_id=account.pk)
        return time.perf_counter() - started

    def summed() -> float:
        started = time.perf_counter()
        with tenant_context(TENANT, using=["finance"]), connections["finance"].cursor() as cur:
            cur.execute(
                "SELECT sum(debit), sum(credit) FROM finance.journal_lines "
                "WHERE tenant_id = %s AND account_id = %s",
                [TENANT, account.pk],
            )
            cur.fetchone()
        return time.perf_counter() - started

    for _ in range(50):
        stored()
    fast = sorted(stored() for _ in range(READS))
    slow = sorted(summed() for _ in range(SUM_READS))
    p = lambda xs, q: xs[min(len(xs) - 1, int(len(xs) * q))] * 1000  # noqa: E731
    print(f"account with {lines:,} posted lines ({LINES:,} lines in the table)")
    print(
        f"stored balance (selector, runtime role, RLS): p50 {p(fast, 0.5):.2f} ms  "
        f"p99 {p(fast, 0.99):.2f} ms  ({READS} reads)"
    )
    print(
        f"sum over lines (hordak-style):                 median {statistics.median(slow) * 1000:.0f} ms  ({SUM_READS} reads)"
    )
    print(f"speed-up: {statistics.median(slow) / statistics.median(fast):,.0f}x")


if __name__ == "__main__":
    main()
