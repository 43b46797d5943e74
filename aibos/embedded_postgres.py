"""Embedded PostgreSQL for machines without ``DATABASE_URL``.

The ``pgserver`` wheel ships PostgreSQL 16 binaries. ``get_server`` starts a private cluster in
``data_dir`` (or reuses the one already running there) listening on a Unix socket inside that
directory. The cluster keeps running after this process exits so that ``runserver``'s reloader
and management commands share it; ``make db-stop`` stops it. The test run stops the cluster if
it started it (``stop_started_here``) and leaves alone one that was already running.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

# pgserver asks platformdirs for a runtime directory that headless machines do not have; the
# warning is noise on every command.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

EMBEDDED_DB_NAME = "aibos"
# The cluster's bootstrap role: the owner used by `default` (migrate) only, never by requests.
EMBEDDED_OWNER = "postgres"

# Data directories whose cluster this process started (rather than found running).
_started_here: set[Path] = set()


def is_running(data_dir: Path) -> bool:
    # PostgreSQL removes its pid file on shutdown.
    return (data_dir / "postmaster.pid").exists()


def embedded_database_settings(data_dir: Path) -> dict[str, Any]:
    """Start (or reuse) the embedded cluster and return a Django DATABASES entry for its owner."""
    import pgserver  # imported lazily: only the embedded path needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    was_running = is_running(data_dir)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    if not was_running:
        _started_here.add(data_dir.resolve())
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DB_NAME};")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DB_NAME,
        "USER": EMBEDDED_OWNER,
        "PASSWORD": "",
        # pgserver puts the Unix socket in the data directory.
        "HOST": str(data_dir),
        "PORT": "",
    }


def stop_started_here() -> list[Path]:
    """Stop the clusters this process started; returns their data directories."""
    stopped = sorted(_started_here)
    for data_dir in stopped:
        stop_embedded(data_dir)
    _started_here.clear()
    return stopped


def stop_embedded(data_dir: Path) -> None:
    """Stop the cluster in `data_dir` if it is running (fast shutdown)."""
    if not is_running(data_dir):
        return
    import pgserver

    # pgserver==0.1.4 has no public stop API; its pg_ctl wrapper runs as the right OS user.
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    server = pgserver.get_server(data_dir, cleanup_mode=None)
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=server.system_user)
