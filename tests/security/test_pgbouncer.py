"""Through a real PgBouncer in transaction mode, tenant variables never cross clients.

Many client threads share two server connections; each unit of work runs in
``tenant_context``. If any variable survived a transaction, a later client on the same server
connection would see another tenant's rows. A control run with a session-level ``set_config``
shows the harness does catch such a leak.

Needs the ``pgbouncer`` binary (Debian package ``pgbouncer``). Without it the test says so and
skips; ``.ci/run`` installs it and sets AIBOS_REQUIRE_PGBOUNCER=1, which turns the skip into a
failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import connections

from aibos.tenancy import tenant_context, tenant_statement
from kernel.models import Tenant, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

THREADS = 8
ROUNDS = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def pgbouncer() -> Iterator[dict[str, str | int]]:
    binary = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if binary is None:
        if os.environ.get("AIBOS_REQUIRE_PGBOUNCER"):
            pytest.fail("pgbouncer is required (AIBOS_REQUIRE_PGBOUNCER=1) but not installed")
        pytest.skip("pgbouncer is not installed (apt-get install pgbouncer); CI runs this test")
    db = connections["kernel"].settings_dict
    host = db["HOST"] or "127.0.0.1"
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    workdir.chmod(0o777)  # pgbouncer refuses to run as root and drops to another user
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={host} port={db["PORT"] or 5432} dbname={db["NAME"]}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {workdir}/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 100
ignore_startup_parameters = extra_float_digits,options
server_connect_timeout = 5
query_wait_timeout = 15
logfile = {workdir}/pgbouncer.log
pidfile = {workdir}/pgbouncer.pid
"""
    )
    (workdir / "users.txt").write_text('"aibos_kernel_role" ""\n')
    cmd = [binary, "-d", str(workdir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        # A Unix-socket server (the embedded one) is reachable by the socket directory's owner.
        cmd[1:1] = ["-u", Path(host).owner() if host.startswith("/") else "nobody"]
    subprocess.run(cmd, check=True, timeout=20)
    try:
        for _ in range(50):
            try:
                with psycopg.connect(
                    host="127.0.0.1",
                    port=port,
                    dbname=db["NAME"],
                    user="aibos_kernel_role",
                    connect_timeout=5,
                ) as probe:
                    probe.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                time.sleep(0.1)
        else:
            pytest.fail(
                "PgBouncer did not reach the server:\n" + (workdir / "pgbouncer.log").read_text()
            )
        yield {"host": "127.0.0.1", "port": port, "dbname": db["NAME"]}
    finally:
        pid = int((workdir / "pgbouncer.pid").read_text())
        os.kill(pid, 15)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def two_tenants(committed: None, tenant_a: Tenant, tenant_b: Tenant) -> dict[uuid.UUID, set[str]]:
    emails: dict[uuid.UUID, set[str]] = {}
    for tenant in (tenant_a, tenant_b):
        emails[tenant.id] = {UserFactory(tenant=tenant).email for _ in range(3)}
    return emails


def _through(pgbouncer: dict[str, str | int]) -> None:
    """Point the kernel alias at PgBouncer for connections opened from now on."""
    # The persistent or pooled connections (and the pool, built from the old address) would
    # otherwise outlive the switch; PgBouncer is the pool here.
    connections["kernel"].close()
    connections["kernel"].close_pool()
    settings_dict = connections.settings["kernel"]
    settings_dict["HOST"], settings_dict["PORT"] = pgbouncer["host"], pgbouncer["port"]
    settings_dict["CONN_MAX_AGE"] = 0
    settings_dict["OPTIONS"] = {}


def test_tenant_context_never_leaks_through_transaction_pooling(
    pgbouncer: dict[str, str | int], two_tenants: dict[uuid.UUID, set[str]]
) -> None:
    original = dict(connections.settings["kernel"])
    _through(pgbouncer)
    tenants = list(two_tenants)
    violations: list[str] = []
    done = [0]

    def worker(index: int) -> None:
        try:
            conn = connections["kernel"]
            assert conn.settings_dict["PORT"] == pgbouncer["port"]
            for i in range(ROUNDS):
                tenant = tenants[(index + i) % 2]
                with tenant_context(tenant, using=["kernel"]):
                    seen = set(User.objects.values_list("email", flat=True))
                    with conn.cursor() as cur:
                        cur.execute("SELECT DISTINCT tenant_id FROM kernel.users")
                        raw = {r[0] for r in cur.fetchall()}
                # A one-statement unit: variables and statement in one implicit transaction.
                with tenant_statement(tenant, using="kernel"), conn.cursor() as cur:
                    cur.execute("SELECT array_agg(DISTINCT tenant_id) FROM kernel.users")
                    single = set(cur.fetchone()[0] or [])
                if seen != two_tenants[tenant] or raw != {tenant} or single != {tenant}:
                    violations.append(f"tenant {tenant} saw {seen} / {raw} / {single}")
                # Between units of work, on whatever server connection PgBouncer hands out now.
                with conn.cursor() as cur:
                    cur.execute(
                        "SELECT count(*), current_setting('app.tenant_id', true) FROM kernel.users"
                    )
                    count, leftover = cur.fetchone()
                if count != 0 or leftover not in ("", None):
                    violations.append(
                        f"outside any context: {count} rows, app.tenant_id={leftover!r}"
                    )
                done[0] += 1
        except Exception as exc:  # surfaced below, not swallowed
            violations.append(f"worker {index} crashed: {exc!r}")
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
    finally:
        connections.settings["kernel"].clear()
        connections.settings["kernel"].update(original)
    assert violations == []
    assert done[0] == THREADS * ROUNDS


def test_control_a_session_level_set_does_leak_through_the_pool(
    pgbouncer: dict[str, str | int], two_tenants: dict[uuid.UUID, set[str]]
) -> None:
    """What the design forbids, shown to be caught: a session-level variable set by one client
    is seen by another client that never set anything."""
    tenant = next(iter(two_tenants))
    params = {**pgbouncer, "user": "aibos_kernel_role", "autocommit": True}
    with psycopg.connect(**params) as polluter:  # type: ignore[arg-type]
        polluter.execute("SELECT set_config('app.tenant_id', %s, false)", [str(tenant)])
        seen_by_others = 0
        for _ in range(10):
            with psycopg.connect(**params) as victim:  # type: ignore[arg-type]
                seen_by_others = max(
                    seen_by_others,
                    victim.execute("SELECT count(*) FROM kernel.users").fetchone()[0],
                )
    assert seen_by_others == len(two_tenants[tenant])
