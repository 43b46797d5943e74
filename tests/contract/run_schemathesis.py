"""Fuzz the live API with schemathesis against its own OpenAPI document (``make fuzz``).

Steps: a fresh database beside the configured one (``<name>_fuzz``; embedded PostgreSQL when
DATABASE_URL is unset, the CI server otherwise), ``migrate`` and ``seed_demo`` into it, an API
credential for the demo administrator (alice@acme.test: superuser and CFO, so every operation is
reachable beyond 401/403), ``runserver`` on loopback, then ``schemathesis run`` with every check,
every phase (examples, coverage, fuzzing, stateful: objects created by one call are acted on by
the next through the document's links), a fixed seed and a time budget. Exits non-zero on any
failure.

Environment: FUZZ_SECONDS (default 180), FUZZ_SEED (default 20261201), FUZZ_PORT (default 8899).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


def fuzz_database_url() -> str:
    """Create (afresh) the fuzz database beside the configured one; return its owner URL."""
    import psycopg

    url = os.environ.get("DATABASE_URL", "")
    if url:
        parts = urllib.parse.urlsplit(url)
        name = parts.path.lstrip("/") + "_fuzz"
        fuzz_url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
        # The maintenance database: the configured one may not exist yet (CI creates only the
        # test database before this runs).
        maintenance = urllib.parse.urlunsplit(parts._replace(path="/postgres"))
        connect = lambda: psycopg.connect(maintenance, autocommit=True)  # noqa: E731
    else:
        sys.path.insert(0, str(ROOT))
        from aibos.embedded_postgres import embedded_database_settings

        data_dir = Path(os.environ.get("AIBOS_PGDATA", ROOT / ".pgdata")).resolve()
        owner = embedded_database_settings(data_dir)
        name = owner["NAME"] + "_fuzz"
        # django-environ reads a socket directory from a percent-encoded first path segment.
        socket = urllib.parse.quote(owner["HOST"], safe="")
        fuzz_url = f"postgres://{owner['USER']}@/{socket}/{name}"
        connect = lambda: psycopg.connect(  # noqa: E731
            host=owner["HOST"], dbname=owner["NAME"], user=owner["USER"], autocommit=True
        )
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise SystemExit(f"unexpected database name {name!r}")
    with connect() as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return fuzz_url


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def wait_for(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer {url} within {seconds} s")


def main() -> int:
    seconds = os.environ.get("FUZZ_SECONDS", "180")
    seed = os.environ.get("FUZZ_SEED", "20261201")
    port = os.environ.get("FUZZ_PORT", "8899")
    env = {
        **os.environ,
        "DATABASE_URL": fuzz_database_url(),
        "DJANGO_DEBUG": os.environ.get("DJANGO_DEBUG", "1"),
        "DJANGO_LOG_LEVEL": "ERROR",
    }
    manage(env, "migrate", "--no-input")
    manage(env, "seed_demo")
    issued = manage(
        env,
        "api_credential_issue",
        "--tenant=acme",
        "--user=alice@acme.test",
        "--name=schemathesis",
    )
    token = re.search(r"(aibos_\S+)", issued)
    if token is None:
        raise SystemExit("no token issued")
    base = f"http://127.0.0.1:{port}"
    # The server's request log (thousands of 4xx lines) goes to a file, shown on failure.
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (kept open for the server's lifetime)
        "w+", prefix="aibos-fuzz-server-", suffix=".log", delete=False
    )
    server = subprocess.Popen(
        [str(BIN / "python"), "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(f"{base}/healthz")
        command = [
            str(BIN / "schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{base}/api/v1/schema/?format=json",
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token.group(1)}",
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--seed",
            seed,
            "--max-time",
            seconds,
            "--workers",
            "1",
            "--generation-database",
            "none",
        ]
        returncode = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    if returncode:
        print(f"schemathesis failed; the server's log is {log.name}", file=sys.stderr)
    else:
        os.unlink(log.name)
    return returncode


if __name__ == "__main__":
    sys.exit(main())
