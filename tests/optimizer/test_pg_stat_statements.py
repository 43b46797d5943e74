"""The pg_stat_statements reader against a real server that loads it: a private, throwaway
PostgreSQL 15 cluster (loopback, its own port and socket directory), stopped and removed at the
end. The shared server of this machine does not preload the library, and is not restarted."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from optimizer.parsing import parse
from optimizer.workload import pgss_status_on, read_pg_stat_statements_on

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def pgss_server() -> Iterator[int]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no PostgreSQL 15 binaries in {PG_BIN} to start a private cluster")
    base = Path(tempfile.mkdtemp(prefix="aibos-pgss-"))
    base.chmod(0o777)  # initdb and the server run as postgres when the tests run as root
    data, port = base / "data", _free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    pg_ctl = [*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data)]
    subprocess.run(
        [*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
         "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={base} "
        "-c shared_preload_libraries=pg_stat_statements -c fsync=off"
    )
    subprocess.run(
        [*pg_ctl, "-w", "-t", "60", "-l", str(base / "log"), "-o", options, "start"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    try:
        yield port
    finally:
        subprocess.run([*pg_ctl, "-m", "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


def test_reader_merges_offset_depths_into_one_template(pgss_server: int) -> None:
    with psycopg.connect(
        host="127.0.0.1", port=pgss_server, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute("CREATE EXTENSION pg_stat_statements")
        conn.execute("CREATE TABLE orders (id int, tenant_id uuid, created_at timestamptz)")
        for depth in (100, 5000):
            for _ in range(5):
                conn.execute(f"SELECT * FROM orders ORDER BY created_at LIMIT 50 OFFSET {depth}")
        cur = conn.cursor()
        status = pgss_status_on(cur, conn.transaction)
        assert (status.loaded, status.installed) == (True, True)
        workload, notes = read_pg_stat_statements_on(cur, conn.transaction, min_calls=5)
    (listing,) = [q for q in workload if "OFFSET" in q.sql]
    # Two depths, one entry: pg_stat_statements normalises them away (the research's finding),
    # which is why the OFFSET finding says "depth unknown" without the capture.
    assert listing.calls == 10 and listing.source == "pg_stat_statements"
    shape = parse(listing.sql)
    assert shape is not None and shape.has_offset and shape.offset_literal is None
    assert notes == []  # a superuser sees every statement
