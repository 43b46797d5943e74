"""The connection `migrate` runs on: direct, never through a transaction-mode pooler, and with
the lock and statement timeouts a migration should carry (docs/providers.md, adapters).

Behind a transaction pooler (Supabase 6543, Neon `-pooler`, Azure 6432, PgBouncer) each
transaction may land on another server connection: session settings such as `lock_timeout`
vanish, `CREATE INDEX CONCURRENTLY` cannot run, and a migration that mixes the two half-applies.
So `migrate` detects the pooler (the URL, then the server's behaviour) and refuses, naming the
direct endpoint when the URL's shape gives it away.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from config.providers.detect import PROXY, TRANSACTION, Detection, detect, parse_url, redact
from config.providers.probes import run_probes

ERR_POOLED = (
    "migrate refuses to run through a transaction-mode pooler or proxy: {url} is {provider}, {variant} "
    "({evidence}). DDL, CREATE INDEX CONCURRENTLY and the migration's lock_timeout need one "
    "server connection for the whole run. {direct} Set AIBOS_MIGRATION_DATABASE_URL to the "
    "direct endpoint and run migrate again."
)
DERIVED = "The direct endpoint is probably {url}."
ASK = "The direct endpoint cannot be derived from this URL: ask the provider for it."


def direct_url(url: str) -> str | None:
    """The direct endpoint a pooled URL's shape implies, or None when it implies none."""
    u = parse_url(url)
    parts = urlsplit(url)
    host, port = u.host, u.port

    def with_host(new_host: str, new_port: int, user: str | None = None) -> str:
        userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
        if user is not None:
            _, colon, password = userinfo.partition(":")
            userinfo = f"{user}{colon}{password}"
        at = "@" if userinfo else ""
        return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{new_host}:{new_port}"))

    if host.endswith(".pooler.supabase.com") and port == 6543 and u.user.startswith("postgres."):
        # Supavisor: user postgres.<project-ref>; the project's direct host is db.<ref>.supabase.co.
        ref = u.user.split(".", 1)[1]
        return with_host(f"db.{ref}.supabase.co", 5432, user="postgres")
    if host.endswith(".supabase.co") and port == 6543:
        return with_host(host, 5432)  # the dedicated pooler listens beside the server
    first, _, rest = host.partition(".")
    if first.endswith("-pooler") and host.endswith(".neon.tech"):
        return with_host(f"{first.removesuffix('-pooler')}.{rest}", port)
    if host.endswith(".postgres.database.azure.com") and port == 6432:
        return with_host(host, 5432)  # Flexible Server's built-in PgBouncer listens on 6432
    return None


def check_migration_connection(url: str, params: Mapping[str, Any]) -> Detection:
    """Detect what ``url`` reaches; raise :class:`PooledMigrationError` for a transaction pooler."""
    detection = detect(url, run_probes(params))
    # RDS Proxy and the like multiplex too (and pin, or not, by rules of their own).
    if detection.variant in (TRANSACTION, PROXY):
        derived = direct_url(url)
        # The evidence that made it a pooler (the behaviour probe, a pooler port or host).
        pooled = [
            e
            for e in detection.evidence
            if e.signal == "behaviour" or any(w in e.meaning.lower() for w in ("pool", "pgbouncer"))
        ]
        evidence = "; ".join(
            f"{e.signal}: {e.observed}" for e in (pooled or detection.evidence[:3])
        )
        raise PooledMigrationError(
            ERR_POOLED.format(
                url=redact(url),
                provider=detection.provider,
                variant=detection.variant,
                evidence=evidence,
                direct=DERIVED.format(url=redact(derived)) if derived else ASK,
            )
        )
    return detection


class PooledMigrationError(RuntimeError):
    pass


def session_statements(lock_timeout: str, statement_timeout: str) -> list[str]:
    """Run on every connection migrate opens: fail fast on a lock instead of queueing every
    other query behind the migration's ALTER (strong_migrations' advice), and bound a statement."""
    return [
        f"SET lock_timeout = '{_duration(lock_timeout)}'",
        f"SET statement_timeout = '{_duration(statement_timeout)}'",
    ]


_DURATION = re.compile(r"^\d+(\.\d+)?\s*(ms|s|min|h|d)?$")


def _duration(value: str) -> str:
    text = str(value).strip()
    if not _DURATION.match(text):
        raise ValueError(f"not a PostgreSQL duration (e.g. 10s, 500ms, 1h, 0 for none): {value!r}")
    return text
