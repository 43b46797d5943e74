"""The served app stays within its connection budget, whatever the client concurrency.

The app is served the way `make run` serves it (`runserver`, one thread per client connection)
in a subprocess on the test database, with AIBOS_DB_POOL_SIZE=4: a budget of 3 runtime aliases
x 4 = 12 server connections. 50 concurrent clients share 5,000 requests (authenticated API
reads on the kernel and finance aliases, and /healthz) while a sampler watches
pg_stat_activity for the runtime roles. 50 x 5,000 = 250,000 requests would not fit CI's time;
the budget is reached within the first second either way.

Without the pool (AIBOS_DB_POOL_SIZE=0) every server thread keeps its own connection per alias:
the same run opens ~150 connections and, on a server with the default max_connections=100,
fails requests with "remaining connection slots are reserved".
"""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from aibos.db.roles import RUNTIME_ALIASES
from kernel import services
from kernel.models import Tenant, User
from tests.factories import CanonFactory, system

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

CLIENTS = 50
REQUESTS = 5_000
POOL_SIZE = 4
BUDGET = len(RUNTIME_ALIASES) * POOL_SIZE
PATHS = ("/healthz", "/api/v1/me/", "/api/v1/companies/", "/api/v1/payments/")


def _free_port() -> int:
    # Loopback only, in the range set aside for live servers on development machines.
    for port in range(8900, 9000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in 8900-8999")


def _database_url(db: dict[str, object]) -> str:
    """The owner's settings as a DATABASE_URL. A Unix-socket directory goes in the path,
    percent-encoded (django-environ reads `postgres://user@/%2Fsocket%2Fdir%2Fdbname`)."""
    user = quote(str(db["USER"]), safe="")
    if db.get("PASSWORD"):
        user += ":" + quote(str(db["PASSWORD"]), safe="")
    host, name = str(db["HOST"] or ""), str(db["NAME"])
    if host.startswith("/"):
        return f"postgres://{user}@/{quote(f'{host}/{name}', safe='')}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}@{host}{port}/{name}"


@dataclass
class Served:
    url: str
    token: str
    log: Path


@pytest.fixture
def served(
    committed: None, tenant_a: Tenant, alice: User, books: SimpleNamespace
) -> Iterator[Served]:
    _, token = services.api_credential_issue(
        actor=system(tenant_a), name="load", canon=CanonFactory(tenant=tenant_a)
    )
    # Nothing of this process may count against the served app's budget.
    for alias in connections:
        connections[alias].close()
        connections[alias].close_pool()
    port = _free_port()
    log = Path(tempfile.mkstemp(prefix="budget-runserver-", suffix=".log")[1])
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aibos.settings",
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "connection-budget-test",
        "AIBOS_DB_POOL_SIZE": str(POOL_SIZE),
        "AIBOS_DB_POOL_TIMEOUT": "30",
    }
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail(f"the served app did not start:\n{log.read_text()}")
        yield Served(url=f"127.0.0.1:{port}", token=token, log=log)
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.unlink(missing_ok=True)


@dataclass
class Sampler:
    """Counts the runtime roles' server connections to the test database every 20 ms."""

    peak_total: int = 0
    peak_by_role: dict[str, int] = field(default_factory=dict)
    samples: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        params = connections["default"].get_connection_params()
        with psycopg.connect(**params, autocommit=True) as conn:
            while not self.stop.is_set():
                rows = conn.execute(
                    "SELECT usename, count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND usename = ANY(%s) GROUP BY 1",
                    [list(RUNTIME_ALIASES.values())],
                ).fetchall()
                self.samples += 1
                self.peak_total = max(self.peak_total, sum(n for _, n in rows))
                for role, n in rows:
                    self.peak_by_role[role] = max(self.peak_by_role.get(role, 0), n)
                time.sleep(0.02)


def test_fifty_concurrent_clients_stay_within_the_connection_budget(served: Served) -> None:
    tickets = itertools.count()
    lock = threading.Lock()
    errors: list[str] = []
    done = [0]
    headers = {"Authorization": f"Bearer {served.token}"}

    def client() -> None:
        conn = http.client.HTTPConnection(served.url, timeout=60)
        while True:
            with lock:
                n = next(tickets)
            if n >= REQUESTS:
                break
            path = PATHS[n % len(PATHS)]
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200:
                    errors.append(f"{path}: {response.status} {body[:200]!r}")
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{path}: {exc!r}")
                conn.close()
                conn = http.client.HTTPConnection(served.url, timeout=60)
            with lock:
                done[0] += 1
        conn.close()

    sampler = Sampler()
    watcher = threading.Thread(target=sampler.run)
    watcher.start()
    started = time.monotonic()
    try:
        clients = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in clients:
            t.start()
        for t in clients:
            t.join(timeout=180)
    finally:
        sampler.stop.set()
        watcher.join(timeout=10)
    elapsed = time.monotonic() - started
    print(
        f"\n{done[0]} requests from {CLIENTS} clients in {elapsed:.1f}s "
        f"({done[0] / elapsed:.0f}/s), {len(errors)} errors; peak server connections "
        f"{sampler.peak_total} (budget {BUDGET}), by role {sampler.peak_by_role}, "
        f"{sampler.samples} samples"
    )
    assert not any(t.is_alive() for t in clients), "a client is stuck"
    assert done[0] == REQUESTS
    assert errors == [], (
        f"{len(errors)} errors, first: {errors[:5]}\n{served.log.read_text()[-3000:]}"
    )
    assert sampler.samples >= 10
    assert 0 < sampler.peak_total <= BUDGET, sampler.peak_by_role
    assert all(n <= POOL_SIZE for n in sampler.peak_by_role.values()), sampler.peak_by_role
