"""Lists at scale: every list endpoint (API and admin) costs O(page), not O(tenant's rows).

Loads BENCH_ENTRIES journal entries (default 10,000,000) across three tenants (50 % / 30 % /
20 %), each entry with two balanced lines, plus BENCH_PAYMENTS payments (default a tenth of the
entries) and one audit event per inserted entry and payment, into the `<name>_bench` database
next to the one DATABASE_URL names (or BENCH_DATABASE; a second run reuses the data). The
load runs as the owner with triggers skipped (``session_replication_role = replica``) and
reproduces what the guards would have written: 90 % of entries POSTED with
gap-free posting numbers per company, ``posted_at``/``posted_by`` set, the counters in
``posting_sequences``, and ``account_balances`` equal to the posted lines (checked afterwards
with ``ledger_reconcile``'s query). Then, for the largest tenant:

- server side: each list request through Django's full stack in-process (middleware, tenant
  context, RLS as the runtime roles), BENCH_READS times: first page, every page down to page 200
  by following ``next``, and each filter; the admin changelists for journals, lines, payments
  and audit events, signed in as the tenant's administrator;
- over HTTP: the same API requests against gunicorn (BENCH_WORKERS sync workers) on
  127.0.0.1:BENCH_PORT, one keep-alive client;
- the plans: EXPLAIN (ANALYZE, BUFFERS) of every query the first page of each list runs.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/aibos .venv/bin/python bench/list_scale.py
The loader functions are also what tests/finance/test_list_plans.py uses to build its tenant.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BENCH = "bench"
ACTOR = f"command:{BENCH}"  # the actor's label, as the loaded rows carry it
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
CHUNK = 250_000

BOOKS_SQL = """
INSERT INTO finance.companies (tenant_id, code, name, base_currency, created_at, updated_at)
SELECT %(t)s, 'C' || lpad(c::text, 5, '0'), 'Company ' || c, 'USD',
       %(start)s + c * interval '1 ms', %(start)s + c * interval '1 ms'
  FROM generate_series(1, %(companies)s) c;
INSERT INTO finance.accounts (tenant_id, company_id, code, name, type, currency, is_active,
    created_at, updated_at)
SELECT %(t)s, co.id, a.code, a.name, a.type, 'USD', true, co.created_at, co.created_at
  FROM finance.companies co,
       (VALUES ('1000', 'Cash', 'asset'), ('4000', 'Revenue', 'income'),
               ('5000', 'Expenses', 'expense')) a(code, name, type)
 WHERE co.tenant_id = %(t)s;
INSERT INTO finance.bank_accounts (tenant_id, company_id, name, bank_code, account_number,
    currency, is_active, ledger_account_id, created_at, updated_at)
SELECT %(t)s, co.id, 'Main ' || co.code, 'BANKUS33', '0001234567' || co.code, 'USD', true, a.id,
       co.created_at, co.created_at
  FROM finance.companies co
  JOIN finance.accounts a ON a.tenant_id = co.tenant_id AND a.company_id = co.id AND a.code = '1000'
 WHERE co.tenant_id = %(t)s;
INSERT INTO finance.approval_matrices (tenant_id, company_id, payment_type, currency, version,
    status, created_by, created_at, updated_at)
SELECT %(t)s, co.id, pt, 'USD', 1, 'DRAFT', %(actor)s, co.created_at, co.created_at
  FROM finance.companies co, unnest(ARRAY['vendor', 'intercompany', 'treasury']) pt
 WHERE co.tenant_id = %(t)s;
INSERT INTO finance.fx_rates (tenant_id, base, quote, rate, valid_from, valid_to, source,
    created_at, updated_at)
SELECT %(t)s, 'EUR', 'USD', 1.1, DATE '2000-01-01' + d, DATE '2000-01-01' + d + 1, 'bench',
       %(start)s + d * interval '1 ms', %(start)s + d * interval '1 ms'
  FROM generate_series(0, %(fx_rates)s - 1) d;
INSERT INTO finance.posting_sequences (tenant_id, company_id, last_seq)
SELECT %(t)s, id, 0 FROM finance.companies WHERE tenant_id = %(t)s;
"""

# Entries g in [lo, hi] of one tenant, on its first `busy` companies (by code). Numbers continue
# each company's counter; the lines and the audit rows come from the same statement.
ENTRIES_SQL = """
WITH co AS (
    SELECT c.id, row_number() OVER (ORDER BY c.code) - 1 AS k, s.last_seq
      FROM finance.companies c
      JOIN finance.posting_sequences s ON s.tenant_id = c.tenant_id AND s.company_id = c.id
     WHERE c.tenant_id = %(t)s
     ORDER BY c.code LIMIT %(busy)s
), src AS (
    SELECT g, co.id AS company_id, g %% 10 <> 0 AS posted,
           %(start)s + g * interval '1 second' AS at,
           co.last_seq + sum((g %% 10 <> 0)::int) OVER (PARTITION BY co.id ORDER BY g) AS seq
      FROM generate_series(%(lo)s, %(hi)s) g JOIN co ON co.k = g %% %(busy)s
), e AS (
    INSERT INTO finance.journal_entries (tenant_id, company_id, entry_date, reference, memo,
        status, posting_seq, posted_at, posted_by, created_by, request_hash, created_at,
        updated_at, line_count)
    SELECT %(t)s, company_id, at::date, 'L-' || g, '',
           CASE WHEN posted THEN 'POSTED' ELSE 'DRAFT' END, CASE WHEN posted THEN seq END,
           CASE WHEN posted THEN at END, CASE WHEN posted THEN %(actor)s ELSE '' END,
           %(actor)s, '', at, at, 2
      FROM src
    RETURNING id, company_id, reference, status, created_at
), audit AS (
    INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, row_id,
        operation, new_values, actor, db_role, txid)
    SELECT %(t)s, created_at, 'finance', 'journal_entries', id::text, 'INSERT',
           jsonb_build_object('id', id, 'reference', reference, 'status', status), %(actor)s,
           'aibos_finance_role', txid_current()
      FROM e
)
INSERT INTO finance.journal_lines (tenant_id, entry_id, line_no, account_id, debit, credit,
    currency, txn_amount, fx_rate, memo, created_at, updated_at)
SELECT %(t)s, e.id, side, a.id,
       CASE side WHEN 1 THEN amount ELSE 0 END, CASE side WHEN 2 THEN amount ELSE 0 END,
       'USD', amount, 1, '', e.created_at, e.created_at
  FROM e
 CROSS JOIN LATERAL (SELECT (substr(e.reference, 3)::bigint %% 1000 + 1)::numeric AS amount) m
 CROSS JOIN generate_series(1, 2) side
  JOIN finance.accounts a
    ON a.tenant_id = %(t)s AND a.company_id = e.company_id
   AND a.code = CASE side WHEN 1 THEN '1000' ELSE '4000' END;
UPDATE finance.posting_sequences s
   SET last_seq = coalesce((SELECT max(posting_seq) FROM finance.journal_entries e
                             WHERE e.tenant_id = s.tenant_id AND e.company_id = s.company_id), 0)
 WHERE s.tenant_id = %(t)s;
"""

# Payments g in [lo, hi]: 95 % DRAFT, 5 % CANCELLED before submission (no policy snapshot).
PAYMENTS_SQL = """
WITH co AS (
    SELECT c.id, row_number() OVER (ORDER BY c.code) - 1 AS k, b.id AS bank_id, x.id AS expense_id
      FROM finance.companies c
      JOIN finance.bank_accounts b ON b.tenant_id = c.tenant_id AND b.company_id = c.id
      JOIN finance.accounts x ON x.tenant_id = c.tenant_id AND x.company_id = c.id AND x.code = '5000'
     WHERE c.tenant_id = %(t)s
     ORDER BY c.code LIMIT %(busy)s
), p AS (
    INSERT INTO finance.payments (tenant_id, company_id, payment_type, amount, currency,
        beneficiary_name, beneficiary_account, reference, status, requested_by, idempotency_key,
        request_hash, request_payload, cancelled_at, policy_currency, approver_roles,
        required_roles, bank_account_id, debit_account_id, created_at, updated_at)
    SELECT %(t)s, co.id, 'vendor', g %% 5000 + 1, 'USD', 'Supplier ' || g %% 1000,
           'GB00BENCH' || g, 'P-' || g, CASE WHEN g %% 20 = 0 THEN 'CANCELLED' ELSE 'DRAFT' END,
           %(actor)s, 'bench-' || g, '', '{}'::jsonb,
           CASE WHEN g %% 20 = 0 THEN %(start)s + g * interval '10 second' END, '', '{}', '{}',
           co.bank_id, co.expense_id, %(start)s + g * interval '10 second',
           %(start)s + g * interval '10 second'
      FROM generate_series(%(lo)s, %(hi)s) g JOIN co ON co.k = g %% %(busy)s
    RETURNING id, status, created_at
)
INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, row_id,
    operation, new_values, actor, db_role, txid)
SELECT %(t)s, created_at, 'finance', 'payments', id::text, 'INSERT',
       jsonb_build_object('id', id, 'status', status), %(actor)s, 'aibos_finance_role',
       txid_current()
  FROM p;
"""

# What the posting trigger accumulates, computed once from the posted lines.
BALANCES_SQL = """
DELETE FROM finance.account_balances WHERE tenant_id = %(t)s;
INSERT INTO finance.account_balances (tenant_id, account_id, company_id, debit_total,
    credit_total, txn_balance, line_count)
SELECT %(t)s, l.account_id, e.company_id, sum(l.debit), sum(l.credit),
       sum(CASE WHEN l.debit > 0 THEN l.txn_amount ELSE -l.txn_amount END), count(*)
  FROM finance.journal_lines l
  JOIN finance.journal_entries e ON e.tenant_id = l.tenant_id AND e.id = l.entry_id
 WHERE l.tenant_id = %(t)s AND e.status = 'POSTED'
 GROUP BY l.account_id, e.company_id;
"""

TABLES = (
    "finance.companies",
    "finance.accounts",
    "finance.bank_accounts",
    "finance.fx_rates",
    "finance.approval_matrices",
    "finance.journal_entries",
    "finance.journal_lines",
    "finance.payments",
    "finance.posting_sequences",
    "finance.account_balances",
    "kernel.audit_events",
)


@contextmanager
def bulk(cur: Any) -> Iterator[None]:
    """Owner-only bulk mode: no per-row guard, audit or key triggers (superuser needed); the
    loader writes their effects itself."""
    cur.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        cur.execute("SET session_replication_role = DEFAULT")


def load_books(cur: Any, tenant_id: uuid.UUID, *, companies: int = 4, fx_rates: int = 10) -> None:
    params = {
        "t": tenant_id,
        "companies": companies,
        "fx_rates": fx_rates,
        "start": START,
        "actor": ACTOR,
    }
    cur.execute(BOOKS_SQL, params)


def load_entries(cur: Any, tenant_id: uuid.UUID, lo: int, hi: int, *, busy: int = 4) -> None:
    params = {"t": tenant_id, "lo": lo, "hi": hi, "busy": busy, "start": START, "actor": ACTOR}
    cur.execute(ENTRIES_SQL, params)


def load_payments(cur: Any, tenant_id: uuid.UUID, lo: int, hi: int, *, busy: int = 4) -> None:
    params = {"t": tenant_id, "lo": lo, "hi": hi, "busy": busy, "start": START, "actor": ACTOR}
    cur.execute(PAYMENTS_SQL, params)


def load_balances(cur: Any, tenant_id: uuid.UUID) -> None:
    cur.execute(BALANCES_SQL, {"t": tenant_id})


def analyze(cur: Any) -> None:
    for table in TABLES:
        cur.execute(f"ANALYZE {table}")


# --- the benchmark -------------------------------------------------------------------------

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "10000000"))
PAYMENTS = int(os.environ.get("BENCH_PAYMENTS", str(ENTRIES // 10)))
READS = int(os.environ.get("BENCH_READS", "200"))
ADMIN_READS = int(os.environ.get("BENCH_ADMIN_READS", "20"))
PORT = int(os.environ.get("BENCH_PORT", "8731"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
SHARES = (("lists-a", 0.5), ("lists-b", 0.3), ("lists-c", 0.2))
PASSWORD = "bench-Lists-2026!"


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000


def _summary(name: str, xs: list[float]) -> str:
    return f"| {name} | {_pct(xs, 0.5):.1f} | {_pct(xs, 0.99):.1f} | {len(xs)} |"


def _setup() -> dict[str, Any]:
    """Tenants (with an admin user and a Cell credential) and the loaded ledger; idempotent."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from aibos.actors import Actor
    from aibos.tenancy import tenant_context
    from bench.rls_overhead import _ensure_database, _use_bench_database
    from kernel import services
    from kernel.models import Canon, Tenant, User

    if os.environ.get("BENCH_DATABASE"):
        for alias in settings.DATABASES:
            settings.DATABASES[alias]["NAME"] = os.environ["BENCH_DATABASE"]
    else:
        _use_bench_database()
    _ensure_database(settings.DATABASES["default"]["NAME"])
    call_command("migrate", verbosity=0)
    out: dict[str, Any] = {}
    for slug, share in SHARES:
        tenant = Tenant.objects.filter(slug=slug).first() or services.tenant_create(
            name=slug, slug=slug
        )
        actor = Actor.for_command(tenant.id, BENCH)
        with tenant_context(actor, using=["kernel"]):
            user = User.objects.filter(email=f"admin@{slug}.test").first()
            if user is None:
                user = services.user_create(
                    actor=actor,
                    email=f"admin@{slug}.test",
                    password=PASSWORD,
                    is_staff=True,
                    is_superuser=True,
                )
            canon = Canon.objects.filter(name="bench").first() or services.canon_register(
                actor=actor, name="bench"
            )
            _, token = services.api_credential_issue(actor=actor, name="bench", canon=canon)
        out[slug] = {"tenant": tenant, "token": token, "user": user}
        entries, payments = int(ENTRIES * share), int(PAYMENTS * share)
        with connections["default"].cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM finance.journal_entries WHERE tenant_id = %s", [tenant.id]
            )
            (have,) = cur.fetchone()
            if have >= entries:
                print(f"{slug}: {have:,} entries already loaded")
                continue
            started = time.perf_counter()
            with bulk(cur):
                if have == 0:
                    load_books(cur, tenant.id)
                for lo in range(have, entries, CHUNK):
                    load_entries(cur, tenant.id, lo, min(lo + CHUNK, entries) - 1)
                    print(f"  {slug}: {min(lo + CHUNK, entries):,} entries", flush=True)
                cur.execute(
                    "SELECT count(*) FROM finance.payments WHERE tenant_id = %s", [tenant.id]
                )
                (have_p,) = cur.fetchone()
                for lo in range(have_p, payments, CHUNK):
                    load_payments(cur, tenant.id, lo, min(lo + CHUNK, payments) - 1)
                load_balances(cur, tenant.id)
            print(
                f"{slug}: loaded {entries:,} entries, {2 * entries:,} lines, {payments:,} "
                f"payments in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
    started = time.perf_counter()
    with connections["default"].cursor() as cur:
        cur.execute("VACUUM (ANALYZE) finance.journal_entries")
        cur.execute("VACUUM (ANALYZE) finance.journal_lines")
        cur.execute("VACUUM (ANALYZE) finance.payments")
        cur.execute("VACUUM (ANALYZE) kernel.audit_events")
        analyze(cur)
    print(f"vacuum/analyze: {time.perf_counter() - started:.0f} s")
    return out


def _check_books(tenant_id: uuid.UUID) -> None:
    from aibos.actors import Actor
    from aibos.tenancy import tenant_context
    from finance import selectors

    with tenant_context(Actor.for_command(tenant_id, BENCH), using=["finance"]):
        assert selectors.balance_differences(tenant_id=tenant_id) == [], "balances differ"
        assert selectors.numbering_gaps(tenant_id=tenant_id) == [], "numbering gaps"


def _api_cases(tenant_id: uuid.UUID) -> list[tuple[str, str]]:
    from aibos.tenancy import tenant_context
    from finance.models import Company

    with tenant_context(tenant_id, using=["finance"]):
        company = Company.objects.filter(tenant_id=tenant_id).order_by("code").first()
    assert company is not None
    c = company.pk
    return [
        ("journals, first page", "/api/v1/journals/?limit=50"),
        ("journals ?status=POSTED", "/api/v1/journals/?limit=50&status=POSTED"),
        ("journals ?status=DRAFT", "/api/v1/journals/?limit=50&status=DRAFT"),
        ("journals ?company_id", f"/api/v1/journals/?limit=50&company_id={c}"),
        ("journals ?company_id&status=DRAFT", f"/api/v1/journals/?company_id={c}&status=DRAFT"),
        ("payments, first page", "/api/v1/payments/?limit=50"),
        ("payments ?status=CANCELLED", "/api/v1/payments/?limit=50&status=CANCELLED"),
        ("payments ?company_id", f"/api/v1/payments/?limit=50&company_id={c}"),
        (
            "payments ?company_id&status=CANCELLED",
            f"/api/v1/payments/?company_id={c}&status=CANCELLED",
        ),
        ("companies", "/api/v1/companies/"),
        ("accounts", "/api/v1/accounts/"),
        ("accounts ?company_id", f"/api/v1/accounts/?company_id={c}"),
        ("bank-accounts", "/api/v1/bank-accounts/"),
        ("fx-rates", "/api/v1/fx-rates/"),
        ("approval-matrices", "/api/v1/approval-matrices/"),
    ]


def _time(fn: Callable[[], Any], n: int) -> list[float]:
    for _ in range(5):
        fn()  # warm
    xs = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - started)
    return xs


def _walk(get: Callable[[str], dict[str, Any]], path: str, pages: int) -> tuple[list[float], float]:
    """Follow `next` from the first page to page `pages`; per-page times and page `pages`'s."""
    xs = []
    url: str | None = path
    for _ in range(pages):
        if url is None:
            break  # a short list (small BENCH_PAYMENTS)
        started = time.perf_counter()
        body = get(url)
        xs.append(time.perf_counter() - started)
        url = body["next"]
        if url is not None and url.startswith("http"):
            url = url[url.index("/api/") :]
    return xs, xs[-1]


def _explain_first_pages(tenant_id: uuid.UUID, token: str, cases: list[tuple[str, str]]) -> None:
    from django.db import connections
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from aibos.tenancy import tenant_context, without_variables

    client = Client()
    for name, path in cases[:5] + cases[5:6]:
        with CaptureQueriesContext(connections["finance"]) as queries:
            client.get(path, HTTP_AUTHORIZATION=f"Bearer {token}")
        for q in queries.captured_queries:
            sql = without_variables(q["sql"])  # EXPLAIN the list's statement, not set_config's
            big = "journal_entries" in sql or "payments" in sql
            if not sql.lstrip().upper().startswith("SELECT") or not big:
                continue
            with (
                tenant_context(tenant_id, using=["finance"]),
                connections["finance"].cursor() as cur,
            ):
                cur.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
                plan = "\n".join(r[0] for r in cur.fetchall())
            print(f"\n### plan: {name}\n```\n{sql}\n\n{plan}\n```")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
    os.environ["DJANGO_DEBUG"] = "0"
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    import django

    django.setup()
    from django.db import connections
    from django.test import Client

    started = time.perf_counter()
    tenants = _setup()
    print(f"setup: {time.perf_counter() - started:.0f} s")
    big = tenants[SHARES[0][0]]
    tenant_id, token = big["tenant"].id, big["token"]
    _check_books(tenant_id)
    with connections["default"].cursor() as cur:
        cur.execute("SELECT count(*) FROM finance.journal_entries")
        (total,) = cur.fetchone()
        cur.execute(
            "SELECT count(*) FROM finance.journal_entries WHERE tenant_id = %s", [tenant_id]
        )
        (mine,) = cur.fetchone()
        cur.execute("SELECT count(*) FROM kernel.audit_events")
        (audit,) = cur.fetchone()
        cur.execute("SELECT version()")
        (version,) = cur.fetchone()
    print(
        f"\n{version}\n{total:,} entries in all; {mine:,} in the measured tenant; {audit:,} audit events"
    )
    connections.close_all()
    cases = _api_cases(tenant_id)

    client = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}

    def in_process(path: str) -> dict[str, Any]:
        response = client.get(path, **auth)
        assert response.status_code == 200, (path, response.content[:300])
        return response.json()  # type: ignore[no-any-return]

    print("\n## server side (Django in-process, full middleware; ms)\n")
    print("| list | p50 | p99 | n |\n|---|---|---|---|")
    for name, path in cases:
        print(_summary(name, _time(lambda p=path: in_process(p), READS)), flush=True)
    walk, last = _walk(in_process, "/api/v1/journals/?limit=50", 200)
    print(_summary("journals, pages 1-200 via next", walk) + f" last page: {last * 1000:.1f} ms")
    walk, last = _walk(in_process, "/api/v1/payments/?limit=50", 200)
    print(_summary("payments, pages 1-200 via next", walk) + f" last page: {last * 1000:.1f} ms")

    print("\n## admin changelists (server side, signed in as the tenant's admin; ms)\n")
    admin = Client()
    response = admin.post(
        "/admin/login/?next=/admin/",
        {"tenant": SHARES[0][0], "username": big["user"].email, "password": PASSWORD},
    )
    assert response.status_code == 302, response.content[:500]
    print("| changelist | p50 | p99 | n |\n|---|---|---|---|")
    for name, path in (
        ("journal entries", "/admin/finance/journalentry/"),
        ("journal entries ?status=DRAFT", "/admin/finance/journalentry/?status__exact=DRAFT"),
        ("journal entries, page 100", "/admin/finance/journalentry/?p=100"),
        ("journal lines", "/admin/finance/journalline/"),
        ("payments", "/admin/finance/payment/"),
        ("payments ?status=CANCELLED", "/admin/finance/payment/?status__exact=CANCELLED"),
        ("audit events", "/admin/kernel/auditevent/"),
        ("audit events ?table=payments", "/admin/kernel/auditevent/?table_name=payments"),
    ):

        def get_admin(p: str = path) -> None:
            r = admin.get(p)
            assert r.status_code == 200, (p, r.status_code)

        print(_summary(name, _time(get_admin, ADMIN_READS)), flush=True)

    print("\n## over HTTP (gunicorn, one keep-alive client; ms)\n")
    root = Path(__file__).resolve().parent.parent
    from django.conf import settings

    # The server reads DATABASE_URL itself: point it at the database measured here.
    url = urlsplit(os.environ["DATABASE_URL"])
    name = settings.DATABASES["default"]["NAME"]
    env = {
        **os.environ,
        "DJANGO_DEBUG": "0",
        "DATABASE_URL": urlunsplit(url._replace(path=f"/{name}")),
    }
    server = subprocess.Popen(
        [
            str(root / ".venv/bin/gunicorn"),
            "aibos.wsgi:application",
            "--bind",
            f"127.0.0.1:{PORT}",
            "--workers",
            str(WORKERS),
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                http.client.HTTPConnection("127.0.0.1", PORT, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.2)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
        headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1"}

        def over_http(path: str) -> dict[str, Any]:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, (path, response.status, body[:300])
            return json.loads(body)  # type: ignore[no-any-return]

        print("| list | p50 | p99 | n |\n|---|---|---|---|")
        for name, path in cases:
            print(_summary(name, _time(lambda p=path: over_http(p), READS)), flush=True)
        walk, last = _walk(over_http, "/api/v1/journals/?limit=50", 200)
        print(
            _summary("journals, pages 1-200 via next", walk) + f" last page: {last * 1000:.1f} ms"
        )
    finally:
        server.terminate()
        server.wait(timeout=30)

    print("\n## plans (first page of each list, EXPLAIN ANALYZE as aibos_finance_role)")
    _explain_first_pages(tenant_id, token, cases)


if __name__ == "__main__":
    main()
