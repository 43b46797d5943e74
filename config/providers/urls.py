"""Stage 1 of provider detection: what a connection URL's host, port and user shapes say
(guardian-anchors.md §7). Pure functions; :mod:`config.providers.detect` combines this with
the probes' evidence."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

UNKNOWN = "unknown"
DIRECT, SESSION, TRANSACTION, PROXY, READER = (
    "direct",
    "session pooler",
    "transaction pooler",
    "proxy",
    "reader",
)

URL_UNPARSABLE = "not a postgres:// or postgresql:// URL: {url!r}"


@dataclass(frozen=True)
class Evidence:
    stage: str  # "url" | "probe"
    signal: str  # what was looked at: "host", "port", "user", "role", "setting", ...
    observed: str
    meaning: str
    provider: str | None = None  # the provider it points to; None when it only shapes a variant
    weight: float = 0.0


_SUPABASE_DIRECT = re.compile(r"^db\.(?P<ref>[a-z0-9]{20})\.supabase\.co$")
_SUPABASE_POOLER = re.compile(r"^aws-\d+-(?P<region>[a-z0-9-]+)\.pooler\.supabase\.com$")
_NEON = re.compile(
    r"^(?P<endpoint>ep-[a-z0-9-]+?)(?P<pooler>-pooler)?\.(?P<region>[a-z0-9.-]+)\.neon\.tech$"
)
_AURORA = re.compile(
    r"^(?P<name>[a-z0-9-]+)\.cluster-(?P<kind>ro-|custom-)?(?P<hash>[a-z0-9]+)\."
    r"(?P<region>[a-z0-9-]+)\.rds\.amazonaws\.com(\.cn)?$"
)
_RDS_PROXY = re.compile(
    r"^(?P<name>[a-z0-9-]+)\.proxy-(?P<hash>[a-z0-9]+)\.(?P<region>[a-z0-9-]+)\.rds\.amazonaws\.com(\.cn)?$"
)
_RDS = re.compile(
    r"^(?P<name>[a-z0-9-]+)\.(?P<hash>[a-z0-9]+)\.(?P<region>[a-z0-9-]+)\.rds\.amazonaws\.com(\.cn)?$"
)
_AZURE = re.compile(r"^(?P<server>[a-z0-9-]+)\.postgres\.database\.azure\.com$")
_CLOUDSQL_SOCKET = re.compile(r"^/cloudsql/(?P<instance>[^/:]+:[^/:]+:[^/:]+)/?$")
_CLOUDSQL_PSC = re.compile(r"\.sql\.goog\.?$")
_K8S = re.compile(r"(\.svc(\.cluster\.local)?|\.cluster\.local)$")


@dataclass(frozen=True)
class ParsedURL:
    host: str
    port: int
    user: str
    dbname: str


def parse_url(url: str) -> ParsedURL:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(URL_UNPARSABLE.format(url=redact(url)))
    query = parse_qs(parts.query)
    # libpq lets host= in the query name a socket directory (Cloud SQL connectors do this).
    host = unquote(parts.hostname or "") or query.get("host", [""])[0]
    if not parts.hostname and "host" in query:
        host = query["host"][0]
    try:
        port = parts.port or int(query.get("port", ["5432"])[0])
    except ValueError as exc:
        raise ValueError(URL_UNPARSABLE.format(url=redact(url))) from exc
    return ParsedURL(
        host=host.lower() if not host.startswith("/") else host,
        port=port,
        user=unquote(parts.username or query.get("user", [""])[0]),
        dbname=parts.path.lstrip("/") or query.get("dbname", [""])[0],
    )


def redact(url: str) -> str:
    """The URL with any password removed: in the userinfo (with or without a user) and in a
    ``password=`` query parameter."""
    url = re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)
    return re.sub(r"(?i)([?&]password=)[^&]*", r"\1***", url)


def _url_evidence(u: ParsedURL) -> tuple[list[Evidence], str | None]:
    """Evidence from the URL, and the variant the URL implies (None when it does not say)."""
    ev: list[Evidence] = []
    host, port = u.host, u.port
    variant: str | None
    if _SUPABASE_DIRECT.match(host):
        variant = TRANSACTION if port == 6543 else DIRECT
        meaning = (
            "Supabase project host; port 6543 there is the dedicated PgBouncer (transaction mode)"
            if port == 6543
            else "Supabase project host (direct connection)"
        )
        ev.append(Evidence("url", "host", host, meaning, "supabase", 0.9))
        return ev, variant
    if m := _SUPABASE_POOLER.match(host):
        variant = {5432: SESSION, 6543: TRANSACTION}.get(port)
        ev.append(
            Evidence(
                "url", "host", host, f"Supavisor shared pooler in {m['region']}", "supabase", 0.9
            )
        )
        ev.append(
            Evidence(
                "url",
                "port",
                str(port),
                {5432: "Supavisor session mode", 6543: "Supavisor transaction mode"}.get(
                    port, "not a Supavisor port (5432 session, 6543 transaction)"
                ),
            )
        )
        if u.user.startswith("postgres."):
            ev.append(
                Evidence(
                    "url", "user", u.user, "pooler user postgres.<project-ref>", "supabase", 0.9
                )
            )
        return ev, variant
    if m := _NEON.match(host):
        pooled = bool(m["pooler"])
        ev.append(
            Evidence(
                "url",
                "host",
                host,
                "Neon pooled endpoint (-pooler: PgBouncer, transaction mode)"
                if pooled
                else "Neon compute endpoint (direct)",
                "neon",
                0.9,
            )
        )
        return ev, TRANSACTION if pooled else DIRECT
    if m := _AURORA.match(host):
        kind = m["kind"]
        variant = {None: DIRECT, "ro-": READER}.get(kind, UNKNOWN)
        meaning = {
            None: "Aurora cluster (writer) endpoint",
            "ro-": "Aurora reader endpoint (read-only, load-balanced over replicas)",
        }.get(kind, "Aurora custom endpoint: writer or readers as its owner configured it")
        ev.append(Evidence("url", "host", host, meaning, "aws-aurora", 0.9))
        return ev, variant
    if _RDS_PROXY.match(host):
        ev.append(
            Evidence(
                "url",
                "host",
                host,
                "RDS Proxy endpoint: fronts RDS or Aurora (a probe for aurora_version() tells which)",
                "aws-rds",
                0.6,
            )
        )
        return ev, PROXY
    if _RDS.match(host):
        ev.append(
            Evidence(
                "url",
                "host",
                host,
                "RDS instance endpoint; Aurora instance endpoints have the same shape",
                "aws-rds",
                0.9,
            )
        )
        return ev, DIRECT
    if _AZURE.match(host):
        variant = TRANSACTION if port == 6432 else DIRECT
        ev.append(
            Evidence(
                "url", "host", host, "Azure Database for PostgreSQL host", "azure-flexible", 0.9
            )
        )
        if port == 6432:
            ev.append(
                Evidence("url", "port", "6432", "Azure's built-in PgBouncer (transaction mode)")
            )
        if "@" in u.user:
            ev.append(
                Evidence(
                    "url",
                    "user",
                    u.user,
                    "user@server is the retired Single Server's login shape",
                    "azure-flexible",
                )
            )
        return ev, variant
    if m := _CLOUDSQL_SOCKET.match(host):
        ev.append(
            Evidence(
                "url",
                "host",
                host,
                f"Cloud SQL connector socket for instance {m['instance']}",
                "cloud-sql",
                0.9,
            )
        )
        return ev, PROXY
    if _CLOUDSQL_PSC.search(host):
        ev.append(
            Evidence(
                "url", "host", host, "Private Service Connect name (.sql.goog)", "cloud-sql", 0.9
            )
        )
        return ev, DIRECT
    return _generic_host_evidence(u), None


def _generic_host_evidence(u: ParsedURL) -> list[Evidence]:
    ev: list[Evidence] = []
    host = u.host
    local = (
        "a local address: self-hosted, or a local proxy (the Cloud SQL Auth Proxy listens here too)"
    )
    if host.startswith("/") or host in ("", "localhost"):
        ev.append(Evidence("url", "host", host or "(default socket)", local, "self-hosted", 0.6))
    elif _K8S.search(host):
        ev.append(Evidence("url", "host", host, "a Kubernetes service name", "self-hosted", 0.6))
    else:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ev.append(Evidence("url", "host", host, "no provider's hostname shape"))
        else:
            if ip.is_loopback:
                ev.append(Evidence("url", "host", host, local, "self-hosted", 0.6))
            elif ip.is_private:
                ev.append(
                    Evidence(
                        "url",
                        "host",
                        host,
                        "a private address: self-hosted, or a managed server's private IP "
                        "(Cloud SQL, RDS via VPC) - only a probe tells",
                    )
                )
            else:
                ev.append(
                    Evidence(
                        "url",
                        "host",
                        host,
                        "a public IP: no provider can be told from it (Cloud SQL is often "
                        "reached this way)",
                    )
                )
    if u.port == 6432:
        ev.append(
            Evidence("url", "port", "6432", "PgBouncer's default port; its pool mode is unknown")
        )
    return ev
