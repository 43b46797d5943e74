"""Stage 2 of detection against a live server: read-only catalog probes and one behaviour test.

A transaction-mode pooler cannot be asked (``SHOW pool_mode`` lives on PgBouncer's admin
console, which an application login does not reach), so it is detected by what it does: two
clients that are both connected get the same backend, or one client's backend changes between
its transactions while another client holds a transaction open. Direct connections and session
pooling never do either.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import psycopg

from config.providers.detect import PROVIDER_EXTENSIONS, PROVIDER_ROLES, ProbeResults

SETTINGS_QUERY = (
    "SELECT name FROM pg_settings WHERE name LIKE ANY (ARRAY['rds.%%', 'apg_%%', 'cloudsql.%%', "
    "'azure.%%', 'neon.%%']) ORDER BY name"
)
# If a pooler has a single server connection, the second client waits for it; release the
# holder after this long so the probe never hangs.
HOLD_SECONDS = 3.0


def run_probes(params: Mapping[str, Any]) -> ProbeResults:
    """``params``: psycopg connect keywords (host, port, dbname, user, password, ...)."""
    with psycopg.connect(**params, autocommit=True, connect_timeout=10) as conn:
        roles = {
            r[0]
            for r in conn.execute(
                "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)", [list(PROVIDER_ROLES)]
            )
        }
        settings = {r[0] for r in conn.execute(SETTINGS_QUERY)}
        functions = {
            r[0]
            for r in conn.execute(
                "SELECT proname FROM pg_proc WHERE proname = ANY(%s)", [["aurora_version"]]
            )
        }
        extensions = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM pg_available_extensions WHERE name = ANY(%s)",
                [list(PROVIDER_EXTENSIONS)],
            )
        }
        version, port = conn.execute("SELECT version(), inet_server_port()").fetchone()  # type: ignore[misc]
    pooled, note = _pooling_behaviour(params)
    return ProbeResults(
        roles=frozenset(roles),
        settings=frozenset(settings),
        functions=frozenset(functions),
        extensions=frozenset(extensions),
        version=str(version),
        server_port=int(port) if port is not None else None,
        pooled_by_behaviour=pooled,
        behaviour_note=note,
    )


def _pid(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def _pooling_behaviour(params: Mapping[str, Any]) -> tuple[bool, str]:
    with (
        psycopg.connect(**params, connect_timeout=10) as a,
        psycopg.connect(**params, connect_timeout=10) as b,
    ):
        first = _pid(a)
        a.commit()  # A's backend goes back to the pool, if there is one
        held = _pid(b)  # B now holds a backend inside an open transaction
        if held == first:
            b.rollback()
            return True, f"two connected clients got the same backend pid {first}"
        timer = threading.Timer(HOLD_SECONDS, b.rollback)
        timer.start()
        try:
            second = _pid(a)
            a.commit()
        finally:
            timer.cancel()
        b.rollback()
    if second != first:
        return True, f"client A's backend pid changed across transactions ({first} -> {second})"
    return False, f"client A kept backend pid {first} across transactions; client B had {held}"


def alias_url(settings_dict: dict[str, Any]) -> str:
    host = settings_dict.get("HOST") or ""
    user = quote(settings_dict.get("USER") or "", safe="")
    netloc = f"{user}@" if user else ""
    if host.startswith("/"):
        # A socket directory cannot sit in the authority part; libpq takes it as host=.
        return f"postgresql://{netloc}/{settings_dict['NAME']}?host={quote(host)}"
    host = host or "localhost"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL's authority
    return (
        f"postgresql://{netloc}{host}:{settings_dict.get('PORT') or 5432}/{settings_dict['NAME']}"
    )


def alias_params(settings_dict: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = {
        "host": settings_dict.get("HOST") or None,
        "port": settings_dict.get("PORT") or None,
        "dbname": settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
    }
    for key in ("sslmode", "sslrootcert", "sslcert", "sslkey"):
        if key in (settings_dict.get("OPTIONS") or {}):
            params[key] = settings_dict["OPTIONS"][key]
    return {k: v for k, v in params.items() if v is not None}
