"""Posting throughput: 2-line journal entries, one transaction each, and one 500-line entry.

Three paths in the same run, against the `<name>_bench` database:

- bare:     psycopg, INSERT entry + INSERT 2 lines into plain copies of the tables (no RLS, no
            triggers, no audit, no balance upkeep): the limit.
- governed: the same SQL as aibos_finance_role on the real tables, then UPDATE ... POSTED:
            RLS, guard triggers (balance check, numbering, balances), audit rows.
- call:     the service's shape in plain psycopg: tenant variables and
            finance.journal_entry_create(...) in one query, its own transaction (one round
            trip, every protection).
- service:  finance.services.journal_create_draft(post=True) through Django, every protection.
- floor:    the framework floor: the service's unit of work (tenant context, transaction,
            variables) around one `SELECT 1`: what Django costs before any posting work.

- http:     POST /api/v1/journals/ with post: true through gunicorn (one worker, one thread),
            one keep-alive client: middleware, credential, DRF, the service, every protection;
- http-floor: the same server's minimal DRF endpoint that authenticates the same way and does
            one INSERT (bench/http_floor.py): what the framework costs per request.

With 1 and 4 clients (processes). With 4, each client posts to its own company (numbering is
per company, so one company serialises its postings) and, for the service path, also all four to
one company ("hot"). Then a 500-line entry posted with the balance check vs the same posting
with the check removed from the trigger (everything else identical). Interleaved rounds, median.

Run: .venv/bin/python bench/posting.py      (BENCH_ENTRIES, BENCH_ROUNDS to change the size)
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aibos.settings")
os.environ["DJANGO_DEBUG"] = "0"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
# No connection pool: the clients are forked processes, and a pool's connections and worker
# threads do not survive a fork (a child would share the parent's sockets and hang).
os.environ.setdefault("AIBOS_DB_POOL_SIZE", "0")

import django

ENTRIES = int(os.environ.get("BENCH_ENTRIES", "1500"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BIG_LINES = 500
BIG_ROUNDS = int(os.environ.get("BENCH_BIG_ROUNDS", "15"))
TENANT = uuid.UUID(int=515151)
DAY = dt.date(2026, 6, 1)
BENCH = "bench"
ACTOR = f"command:{BENCH}"  # the actor's label, as raw SQL sets it

BARE_SQL = """
CREATE SCHEMA IF NOT EXISTS bench_bare;
CREATE TABLE IF NOT EXISTS bench_bare.journal_entries
    (LIKE finance.journal_entries INCLUDING DEFAULTS INCLUDING INDEXES);
CREATE TABLE IF NOT EXISTS bench_bare.journal_lines
    (LIKE finance.journal_lines INCLUDING DEFAULTS INCLUDING INDEXES);
"""
ENTRY_SQL = (
    "INSERT INTO {schema}.journal_entries (tenant_id, company_id, entry_date, status, reference, "
    "memo, posted_by, created_by, request_hash) "
    "VALUES (%s, %s, %s, 'DRAFT', 'bench', '', '', 'bench', '') RETURNING id"
)
LINES_SQL = (
    "INSERT INTO {schema}.journal_lines (tenant_id, entry_id, account_id, debit, credit, currency, "
    "txn_amount, fx_rate, memo, line_no) VALUES "
    "(%s, %s, %s, %s, 0, 'USD', %s, 1, '', 1), (%s, %s, %s, 0, %s, 'USD', %s, 1, '', 2)"
)
POST_SQL = "UPDATE finance.journal_entries SET status = 'POSTED' WHERE id = %s"
# The service's own shape in plain psycopg: variables with the first statement, one call.
CALL_SQL = (
    "SELECT set_config('app.tenant_id', %s, true), set_config('app.actor', %s, true); "
    'SELECT "finance".journal_entry_create('
    "%s, %s, %s, %s, 'bench', '', 'bench', NULL, '', NULL, "
    "%s::uuid[], %s::text[], %s::numeric[], %s::text[], true)"
)


def _setup_django() -> None:
    django.setup()
    from bench.rls_overhead import _use_bench_database

    _use_bench_database()


def _connect(alias: str) -> Any:
    """A plain psycopg connection with the alias's own parameters (no Django wrappers)."""
    import psycopg
    from django.db import connections

    return psycopg.connect(**connections[alias].get_connection_params())


def _prepare(companies: int) -> list[dict[str, Any]]:
    """Tenant, `companies` companies with the demo chart, and the bare tables. Returns, per
    company, the ids a client needs."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    from aibos.actors import Actor
    from aibos.tenancy import tenant_context
    from bench.rls_overhead import _ensure_database
    from finance import demo
    from finance.models import Account, Company

    _ensure_database(settings.DATABASES["default"]["NAME"])
    call_command("migrate", verbosity=0)
    with connections["default"].cursor() as cur:
        cur.execute(BARE_SQL)
        cur.execute("TRUNCATE bench_bare.journal_entries, bench_bare.journal_lines")
    out = []
    for i in range(companies):
        code = f"B{i}"
        with tenant_context(TENANT, using=["finance"]):
            company = Company.objects.filter(tenant_id=TENANT, code=code).first()
        if company is None:
            company = demo.books_create(
                actor=Actor.for_command(TENANT, BENCH),
                code=code,
                name=f"Bench {i}",
                base_currency="USD",
            ).company
        with tenant_context(TENANT, using=["finance"]):
            accounts = {
                a.code: a.pk for a in Account.objects.filter(tenant_id=TENANT, company=company)
            }
        out.append({"company": company.pk, "debit": accounts["5000"], "credit": accounts["1000"]})
    connections.close_all()
    return out


# --- the three paths -----------------------------------------------------------------------


def _sql_client(alias: str, schema: str, post: bool, book: dict[str, Any], n: int) -> float:
    with _connect(alias) as conn:
        cur = conn.cursor()
        started = time.perf_counter()
        for i in range(n):
            amount = Decimal(i % 997 + 1)
            with conn.transaction():
                if schema == "finance":
                    cur.execute(
                        "SELECT set_config('app.tenant_id', %s, true), set_config('app.actor', %s, true)",
                        [str(TENANT), ACTOR],
                    )
                cur.execute(ENTRY_SQL.format(schema=schema), [TENANT, book["company"], DAY])
                (entry,) = cur.fetchone()  # type: ignore[misc]
                cur.execute(
                    LINES_SQL.format(schema=schema),
                    [
                        TENANT,
                        entry,
                        book["debit"],
                        amount,
                        amount,
                        TENANT,
                        entry,
                        book["credit"],
                        amount,
                        amount,
                    ],
                )
                if post:
                    cur.execute(POST_SQL, [entry])
        return time.perf_counter() - started


def _call_client(book: dict[str, Any], n: int) -> float:
    """Governed SQL in the service's shape: one simple-protocol query per entry (the tenant
    variables + ``journal_entry_create``), its own implicit transaction: one round trip."""
    import psycopg

    with _connect("finance") as conn:
        conn.autocommit = True
        cur = psycopg.ClientCursor(conn)
        accounts, sides, memos = [book["debit"], book["credit"]], ["debit", "credit"], ["", ""]
        started = time.perf_counter()
        for i in range(n):
            amount = Decimal(i % 997 + 1)
            cur.execute(
                CALL_SQL,
                [
                    str(TENANT),
                    ACTOR,
                    uuid.uuid4(),
                    TENANT,
                    book["company"],
                    DAY,
                    accounts,
                    sides,
                    [amount, amount],
                    memos,
                ],
            )
        return time.perf_counter() - started


def _floor_client(book: dict[str, Any], n: int) -> float:
    """The framework floor: the service's unit of work with one trivial statement instead of
    the posting (tenant context, transaction, variables, one round trip, COMMIT)."""
    from django.db import connections

    from aibos.actors import Actor
    from finance.services._plumbing import unit

    actor = Actor.for_command(TENANT, BENCH)
    started = time.perf_counter()
    for _ in range(n):
        with unit(actor), connections["finance"].cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    elapsed = time.perf_counter() - started
    connections.close_all()
    return elapsed


def _service_client(book: dict[str, Any], n: int) -> float:
    from django.db import connections

    from aibos.actors import Actor
    from finance import services

    actor = Actor.for_command(TENANT, BENCH)
    lines = lambda amount: [  # noqa: E731
        services.LineInput(book["debit"], "debit", amount),
        services.LineInput(book["credit"], "credit", amount),
    ]
    started = time.perf_counter()
    for i in range(n):
        services.journal_create_draft(
            actor=actor,
            company_id=book["company"],
            entry_date=DAY,
            reference="bench",
            lines=lines(Decimal(i % 997 + 1)),
            post=True,
        )
    elapsed = time.perf_counter() - started
    connections.close_all()
    return elapsed


def _client(args: tuple[str, dict[str, Any], int]) -> float:
    path, book, n = args
    if path == "bare":
        return _sql_client("default", "bench_bare", False, book, n)
    if path == "governed":
        return _sql_client("finance", "finance", True, book, n)
    if path == "call":
        return _call_client(book, n)
    if path == "floor":
        return _floor_client(book, n)
    return _service_client(book, n)


def _run(pool: Any, path: str, books: list[dict[str, Any]], clients: int) -> float:
    """Entries per second with `clients` processes, each posting ENTRIES // clients entries."""
    per_client = ENTRIES // clients if clients > 1 else ENTRIES
    started = time.perf_counter()
    pool.map(_client, [(path, books[i % len(books)], per_client) for i in range(clients)])
    return per_client * clients / (time.perf_counter() - started)


# --- over HTTP ----------------------------------------------------------------------------

HTTP_PORT = int(os.environ.get("BENCH_PORT", "8732"))
HTTP_REQUESTS = int(os.environ.get("BENCH_HTTP_REQUESTS", "600"))


def _http_credential() -> str:
    """A Cell credential of the bench tenant (its kernel row created on first use), and the
    floor endpoint's table."""
    from django.db import connections

    from aibos.actors import Actor
    from aibos.tenancy import tenant_context
    from bench.http_floor import FLOOR_TABLE_SQL
    from kernel import services as kernel_services
    from kernel.models import Canon, Tenant

    with connections["default"].cursor() as cur:
        cur.execute(FLOOR_TABLE_SQL)
    with tenant_context(TENANT, using=["kernel"]):
        if not Tenant.objects.filter(pk=TENANT).exists():
            Tenant(id=TENANT, name="Bench posting", slug="bench-posting").save(force_insert=True)
        canon = Canon.objects.filter(tenant_id=TENANT, name="bench").first()
    actor = Actor.for_command(TENANT, BENCH)
    canon = canon or kernel_services.canon_register(actor=actor, name="bench")
    _, token = kernel_services.api_credential_issue(actor=actor, name="bench-http", canon=canon)
    connections.close_all()
    return token


@contextmanager
def _served() -> Iterator[None]:
    """The application under gunicorn, one worker with one thread (keep-alive), with the floor
    endpoint in front (bench/http_settings.py), on the database measured here."""
    from urllib.parse import urlsplit, urlunsplit

    from django.conf import settings

    root = Path(__file__).resolve().parent.parent
    url = urlsplit(os.environ["DATABASE_URL"])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.http_settings",
        "DATABASE_URL": urlunsplit(url._replace(path=f"/{settings.DATABASES['default']['NAME']}")),
    }
    env.pop("AIBOS_DB_POOL_SIZE", None)  # the served process pools its connections, as deployed
    server = subprocess.Popen(
        [
            str(root / ".venv/bin/gunicorn"),
            "aibos.wsgi:application",
            "--bind",
            f"127.0.0.1:{HTTP_PORT}",
            "--workers",
            "1",
            "--worker-class",
            "gthread",
            "--threads",
            "1",
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=root,
        env=env,
    )
    try:
        for _ in range(150):
            try:
                http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=1).connect()
                break
            except OSError:
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def _http_rate(path: str, book: dict[str, Any], token: str, n: int) -> float:
    """Requests per second, one keep-alive client, each answered 201."""
    conn = http.client.HTTPConnection("127.0.0.1", HTTP_PORT, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    started = time.perf_counter()
    for i in range(n):
        amount = f"{i % 997 + 1}.00"
        if path == "http":
            body = {
                "company_id": str(book["company"]),
                "entry_date": DAY.isoformat(),
                "reference": "bench",
                "post": True,
                "lines": [
                    {"account_id": str(book["debit"]), "side": "debit", "amount": amount},
                    {"account_id": str(book["credit"]), "side": "credit", "amount": amount},
                ],
            }
            target = "/api/v1/journals/"
            headers["Idempotency-Key"] = str(uuid.uuid4())
        else:
            body, target = {"reference": f"bench {amount}"}, "/bench/floor/"
        conn.request("POST", target, body=json.dumps(body), headers=headers)
        response = conn.getresponse()
        answer = response.read()
        if response.status != 201:
            raise RuntimeError(f"{target} answered {response.status}: {answer[:300]!r}")
    elapsed = time.perf_counter() - started
    conn.close()
    return n / elapsed


# --- the 500-line entry --------------------------------------------------------------------

PATHS = ("bare", "governed", "call", "service", "floor")
LABELS = {
    "bare": "bare SQL (no protections) = limit",
    "governed": "governed SQL, 5 statements, all guards",
    "call": "governed SQL, one call, all guards",
    "service": "service (Django), all guards",
    "floor": "framework floor (unit of work, SELECT 1)",
}

CHECK_START = (
    "v_lines := 0; v_debit := 0; v_credit := 0; v_foreign := 0;"  # in finance.triggers.entry_check
)
CHECK_END = "IF NEW.reversal_of_id IS NOT NULL THEN"


BIG_PATHS = {
    # path: (what it measures, the trigger function whose balance check is removed for "without")
    "call": ("one call (inserted as POSTED)", "finance.guard_finance_journalentry_check_insert"),
    "draft": ("draft, then UPDATE to POSTED", "finance.guard_finance_journalentry_check_update"),
}


def _big_entry_seconds(path: str, book: dict[str, Any], accounts: list[Any]) -> float:
    """A 500-line balanced entry as the finance role, seconds: through the one-call function, or
    as a draft (one INSERT of its lines) then posted."""
    sides = ["debit" if i % 2 == 0 else "credit" for i in range(BIG_LINES)]
    accounts_ = [accounts[i % len(accounts)] for i in range(BIG_LINES)]
    amounts = [Decimal("10.00")] * BIG_LINES
    with _connect("finance") as conn:
        cur = conn.cursor()
        started = time.perf_counter()
        with conn.transaction():
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(TENANT)])
            if path == "call":
                cur.execute(
                    "SELECT \"finance\".journal_entry_create(%s, %s, %s, %s, 'big', '', "
                    "'bench', NULL, '', NULL, %s::uuid[], %s::text[], %s::numeric[], %s::text[], true)",
                    [
                        uuid.uuid4(),
                        TENANT,
                        book["company"],
                        DAY,
                        accounts_,
                        sides,
                        amounts,
                        [""] * BIG_LINES,
                    ],
                )
            else:
                cur.execute(ENTRY_SQL.format(schema="finance"), [TENANT, book["company"], DAY])
                (entry,) = cur.fetchone()  # type: ignore[misc]
                cur.execute(
                    "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, "
                    "credit, currency, txn_amount, fx_rate, memo, line_no) "
                    "SELECT %s, %s, a, CASE WHEN s = 'debit' THEN 10 ELSE 0 END, "
                    "CASE WHEN s = 'credit' THEN 10 ELSE 0 END, 'USD', 10, 1, '', n "
                    "FROM unnest(%s::uuid[], %s::text[]) WITH ORDINALITY AS x(a, s, n)",
                    [TENANT, entry, accounts_, sides],
                )
                cur.execute(POST_SQL, [entry])
        return time.perf_counter() - started


def _swap_check(function: str, without_check: bool, originals: dict[str, str]) -> None:
    """Replace a posting trigger's function with a copy lacking the line and balance checks (the
    rest — numbering, balances, audit — unchanged), or put the original back."""
    from django.db import connections

    with connections["default"].cursor() as cur:
        if function not in originals:
            cur.execute("SELECT pg_get_functiondef(%s::regproc)", [function])
            originals[function] = cur.fetchone()[0]
        definition = originals[function]
        if without_check:
            start, end = definition.index(CHECK_START), definition.index(CHECK_END)
            definition = definition[:start] + definition[end:]
        cur.execute(definition)


def _sealing_section(pool_factory: Any, books: list[dict[str, Any]]) -> None:
    """The service path with the audit sealer following in its own process vs. not running,
    interleaved rounds; and how far sealing lagged behind the writers."""
    from bench.sealing import catch_up, lag_since, sealer_running

    catch_up()  # everything written so far: not part of the measurement
    rates: dict[tuple[bool, int], list[float]] = {}
    lags: dict[int, list[tuple[float, float, float, int]]] = {}
    for _ in range(ROUNDS):
        for clients in (1, 4):
            for sealing in (False, True):
                if sealing:
                    started = time.time()
                    with sealer_running(), pool_factory() as pool:
                        rates.setdefault((True, clients), []).append(
                            _run(pool, "service", books, clients)
                        )
                    lags.setdefault(clients, []).append(lag_since(started))
                else:
                    with pool_factory() as pool:
                        rates.setdefault((False, clients), []).append(
                            _run(pool, "service", books, clients)
                        )
                    catch_up()
    print(f"\nAudit sealing (service path, median of {ROUNDS}; sealer = its own process)")
    print(f"{'':<44}{'1 client':>12}{'4 clients':>12}")
    off = [statistics.median(rates[(False, c)]) for c in (1, 4)]
    on = [statistics.median(rates[(True, c)]) for c in (1, 4)]
    print(f"{'sealing off':<44}{off[0]:>10,.0f}/s{off[1]:>10,.0f}/s")
    print(f"{'sealing on':<44}{on[0]:>10,.0f}/s{on[1]:>10,.0f}/s")
    print(f"{'on / off':<44}{on[0] / off[0]:>12.3f}{on[1] / off[1]:>12.3f}")
    for clients in (1, 4):
        worst = max(lags[clients], key=lambda x: x[1])
        print(
            f"seal lag, {clients} client(s): p50 {statistics.median(x[0] for x in lags[clients]):.3f} s, "
            f"p99 {worst[1]:.3f} s, max {max(x[2] for x in lags[clients]):.3f} s "
            f"({sum(x[3] for x in lags[clients])} events)"
        )


def main() -> None:
    _setup_django()
    books = _prepare(4)
    ctx = mp.get_context("fork")
    results: dict[tuple[str, int], list[float]] = {}
    with ctx.Pool(4) as pool:
        pool.map(_client, [("governed", b, 20) for b in books])  # warm-up
        for _ in range(ROUNDS):
            for clients in (1, 4):
                for path in PATHS:
                    results.setdefault((path, clients), []).append(_run(pool, path, books, clients))
                results.setdefault(("service-hot", 4), []).append(
                    _run(pool, "service", books[:1], 4)
                )
    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"2-line entries, one transaction each ({ENTRIES} per measurement, median of {ROUNDS})")
    print(f"{'path':<44}{'1 client':>12}{'4 clients':>12}{'ratio 1':>9}{'ratio 4':>9}")
    for path, label in LABELS.items():
        r1, r4 = med[(path, 1)], med[(path, 4)]
        print(
            f"{label:<44}{r1:>10,.0f}/s{r4:>10,.0f}/s"
            f"{r1 / med[('bare', 1)]:>9.3f}{r4 / med[('bare', 4)]:>9.3f}"
        )
    hot = med[("service-hot", 4)]
    print(
        f"{'service, 4 clients on one company':<44}{'':>12}{hot:>10,.0f}/s{'':>9}{hot / med[('bare', 4)]:>9.3f}"
    )
    print("ratios are to bare SQL of the same run")

    _sealing_section(pool_factory=lambda: ctx.Pool(4), books=books)

    token = _http_credential()
    http_rates: dict[str, list[float]] = {}
    with _served():
        for path in ("http", "http-floor"):
            _http_rate(path, books[0], token, 30)  # warm-up
        for _ in range(ROUNDS):
            for path in ("http", "http-floor"):
                http_rates.setdefault(path, []).append(
                    _http_rate(path, books[0], token, HTTP_REQUESTS)
                )
    governed, floor = (statistics.median(http_rates[k]) for k in ("http", "http-floor"))
    print(
        f"\nOver HTTP (gunicorn, 1 worker, 1 thread; one keep-alive client; {HTTP_REQUESTS} requests)"
    )
    print(f"{'POST /api/v1/journals/ (post: true)':<44}{governed:>10,.0f}/s")
    print(f"{'framework floor: same auth, one INSERT':<44}{floor:>10,.0f}/s")
    print(f"{'governed / floor':<44}{governed / floor:>12.3f}")

    from django.db import connections

    from aibos.tenancy import tenant_context
    from finance.models import Account

    with tenant_context(TENANT, using=["finance"]):
        accounts = list(
            Account.objects.filter(tenant_id=TENANT, company_id=books[0]["company"]).values_list(
                "pk", flat=True
            )
        )
    connections.close_all()
    originals: dict[str, str] = {}
    timings: dict[tuple[str, bool], list[float]] = {}
    try:
        for _ in range(BIG_ROUNDS):
            for path, (_, function) in BIG_PATHS.items():
                for check in (True, False):
                    _swap_check(function, not check, originals)
                    timings.setdefault((path, check), []).append(
                        _big_entry_seconds(path, books[0], accounts)
                    )
    finally:
        for function in originals:
            _swap_check(function, False, originals)
    print(f"\n{BIG_LINES}-line entry, median of {BIG_ROUNDS}")
    for path, (label, _) in BIG_PATHS.items():
        with_check, without = (statistics.median(timings[(path, k)]) for k in (True, False))
        print(
            f"{label:<32} with the balance check {with_check * 1000:7.1f} ms, "
            f"without {without * 1000:7.1f} ms: speed ratio {without / with_check:.3f}"
        )


if __name__ == "__main__":
    main()
