"""A test run stops the embedded PostgreSQL it started and leaves alone one already running.

Runs the suite's own pytest (one test that needs no database, so only the settings start the
cluster) in a subprocess with DATABASE_URL unset and a data directory of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from aibos.embedded_postgres import is_running, stop_embedded

A_TEST_WITHOUT_DATABASE = (
    "tests/aibos/test_settings_env.py::test_a_deployment_with_a_secret_key_starts"
)


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "DATABASE_URL": "", "AIBOS_PGDATA": str(data_dir)}


def _pytest(data_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", A_TEST_WITHOUT_DATABASE],
        cwd=settings.BASE_DIR,
        env=_env(data_dir),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _start_elsewhere(data_dir: Path) -> None:
    """Start the cluster from another process, as `make run` would."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from aibos.embedded_postgres import embedded_database_settings; "
            "embedded_database_settings(Path(sys.argv[1]))",
            str(data_dir),
        ],
        cwd=settings.BASE_DIR,
        check=True,
        timeout=120,
    )


def test_a_test_run_stops_the_cluster_it_started_and_only_that_one(tmp_path: Path) -> None:
    data_dir = tmp_path / "pgdata"
    try:
        _pytest(data_dir)
        assert (data_dir / "PG_VERSION").exists(), "the run did not use the embedded cluster"
        assert not is_running(data_dir), "the run left the cluster it started running"

        _start_elsewhere(data_dir)
        assert is_running(data_dir)
        _pytest(data_dir)
        assert is_running(data_dir), "the run stopped a cluster it had not started"
    finally:
        stop_embedded(data_dir)
