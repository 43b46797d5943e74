"""Embedded PostgreSQL for machines without ``DATABASE_URL``.

The ``pgserver`` wheel ships PostgreSQL 16 binaries. ``get_server`` starts a private cluster in
``data_dir`` (or reuses the one already running there) listening on a Unix socket inside that
directory. The cluster keeps running after this process exits so that ``runserver``'s reloader,
the test runner and management commands share it; ``make db-stop`` stops it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EMBEDDED_DB_NAME = "aibos"
EMBEDDED_SUPERUSER = "postgres"


def embedded_database_settings(data_dir: Path) -> dict[str, Any]:
    """Start (or reuse) the embedded cluster and return a Django DATABASES entry for its owner."""
    import pgserver  # imported lazily: only the embedded path needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DB_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DB_NAME};")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": EMBEDDED_DB_NAME,
        "USER": EMBEDDED_SUPERUSER,
        "PASSWORD": "",
        # pgserver puts the Unix socket in the data directory.
        "HOST": str(data_dir),
        "PORT": "",
    }


def stop_embedded(data_dir: Path) -> None:
    import pgserver

    if (data_dir / "postmaster.pid").exists():
        pgserver.get_server(data_dir, cleanup_mode="stop").cleanup()
