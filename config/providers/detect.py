"""Which provider a connection reaches, with the evidence: stage 1 reads the URL (host, port,
user shapes), stage 2 reads SQL probe results (roles, settings, functions, behaviour).

Pure functions: :func:`detect` takes a URL and optional :class:`ProbeResults`, so the URL table
needs no network; :mod:`config.providers.probes` gathers the results from a live server.

Confidence means how strong the strongest agreeing evidence is, not a probability:
  0.95+  two stages agree, or a probe found something only that provider creates;
  0.9    one provider-unique signal (a hostname suffix only that provider issues);
  0.8    self-hosted because probes found none of the managed providers' signatures;
  0.6    circumstantial only (a local or private address, a conventional port);
  0.0    ``unknown``: nothing matched; the evidence says what was seen.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
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

# Roles, settings prefixes and functions only one provider creates (guardian-anchors.md §7;
# unverified against the providers themselves: this machine reaches none of them).
PROVIDER_ROLES = {
    "rds_superuser": "aws-rds",
    "rdsadmin": "aws-rds",
    "cloudsqlsuperuser": "cloud-sql",
    "cloudsqladmin": "cloud-sql",
    "azure_pg_admin": "azure-flexible",
    "azuresu": "azure-flexible",
    "supabase_admin": "supabase",
    "authenticator": "supabase",
    "neon_superuser": "neon",
}
SETTING_PREFIXES = {
    "rds.": "aws-rds",
    "apg_": "aws-aurora",
    "cloudsql.": "cloud-sql",
    "azure.": "azure-flexible",
    "neon.": "neon",
}
PROVIDER_EXTENSIONS = {"neon": "neon", "supabase_vault": "supabase", "pg_graphql": "supabase"}

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
class Evidence:
    stage: str  # "url" | "probe"
    signal: str  # what was looked at: "host", "port", "user", "role", "setting", ...
    observed: str
    meaning: str
    provider: str | None = None  # the provider it points to; None when it only shapes a variant
    weight: float = 0.0


@dataclass(frozen=True)
class ProbeResults:
    """What a live server answered; every field optional so partial probes still count."""

    roles: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()  # names of settings that exist (pg_settings)
    functions: frozenset[str] = frozenset()
    extensions: frozenset[str] = frozenset()  # installed or available
    version: str = ""  # version()
    server_port: int | None = None  # inet_server_port(): the port the backend listens on
    pooled_by_behaviour: bool | None = None  # backend changed across transactions / clients
    behaviour_note: str = ""


@dataclass(frozen=True)
class Detection:
    provider: str
    variant: str
    confidence: float
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, object]:
        return {
            "provider": self.provider,
            "variant": self.variant,
            "confidence": self.confidence,
            "evidence": [
                {
                    "stage": e.stage,
                    "signal": e.signal,
                    "observed": e.observed,
                    "meaning": e.meaning,
                    **({"provider": e.provider} if e.provider else {}),
                }
                for e in self.evidence
            ],
        }


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


def _probe_evidence(p: ProbeResults) -> list[Evidence]:
    ev: list[Evidence] = []
    for role in sorted(p.roles & PROVIDER_ROLES.keys()):
        provider = PROVIDER_ROLES[role]
        ev.append(Evidence("probe", "role", role, f"role only {provider} creates", provider, 0.95))
    for name in sorted(p.settings):
        for prefix, provider in SETTING_PREFIXES.items():
            if name.startswith(prefix):
                ev.append(Evidence("probe", "setting", name, f"{provider} setting", provider, 0.95))
                break
    if "aurora_version" in p.functions:
        ev.append(
            Evidence(
                "probe", "function", "aurora_version()", "Aurora's own function", "aws-aurora", 0.99
            )
        )
    for ext in sorted(p.extensions & PROVIDER_EXTENSIONS.keys()):
        provider = PROVIDER_EXTENSIONS[ext]
        ev.append(Evidence("probe", "extension", ext, f"{provider}'s extension", provider, 0.9))
    if p.version:
        distro = next(
            (d for d in ("Debian", "Ubuntu", "Red Hat", "Alpine") if d in p.version), None
        )
        if distro:
            ev.append(
                Evidence(
                    "probe",
                    "version",
                    p.version[:80],
                    f"a {distro} distribution build, as installed from OS packages",
                )
            )
    return ev


def _pick(ev: list[Evidence]) -> tuple[str, float]:
    weights: dict[str, float] = {}
    for e in ev:
        if e.provider:
            weights[e.provider] = max(weights.get(e.provider, 0.0), e.weight)
    # Aurora is a kind of RDS: an aurora_version() probe refines an RDS-shaped host or an RDS
    # role rather than contradicting it.
    if "aws-aurora" in weights and "aws-rds" in weights:
        weights["aws-aurora"] = max(weights["aws-aurora"], weights.pop("aws-rds"))
    if not weights:
        return UNKNOWN, 0.0
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))
    provider, weight = ranked[0]
    if len(ranked) > 1 and ranked[1][1] >= 0.9 and weight - ranked[1][1] < 0.05:
        return UNKNOWN, 0.0  # two provider-unique signals disagree: saying either is a guess
    # Absence of every provider's signature is weaker than a signature: it never counts as the
    # second stage agreeing.
    stages = {e.stage for e in ev if e.provider == provider and e.signal != "absence"}
    if stages == {"url", "probe"}:
        weight = max(weight, 0.97)
    return provider, round(weight, 2)


def detect(url: str, probes: ProbeResults | None = None) -> Detection:
    u = parse_url(url)
    ev, variant = _url_evidence(u)
    if probes is not None:
        probe_ev = _probe_evidence(probes)
        ev.extend(probe_ev)
        if not any(e.provider for e in probe_ev) and not any(
            e.provider and e.provider != "self-hosted" for e in ev
        ):
            # Absence as evidence, stated as such: none of the managed providers' roles,
            # settings or functions exist on this server.
            ev.append(
                Evidence(
                    "probe",
                    "absence",
                    "no provider role, setting, function or extension",
                    "none of the managed providers' signatures is present",
                    "self-hosted",
                    0.8,
                )
            )
        variant = _probe_variant(u, probes, variant, ev)
    provider, confidence = _pick(ev)
    if provider == UNKNOWN:
        variant = variant or UNKNOWN
    return Detection(
        provider=provider,
        variant=variant or (DIRECT if probes is not None else UNKNOWN),
        confidence=confidence,
        evidence=tuple(ev),
    )


def _probe_variant(
    u: ParsedURL, p: ProbeResults, url_variant: str | None, ev: list[Evidence]
) -> str | None:
    if p.pooled_by_behaviour:
        ev.append(
            Evidence(
                "probe",
                "behaviour",
                p.behaviour_note,
                "server connections are shared per transaction",
            )
        )
        return TRANSACTION
    through_something = p.server_port is not None and p.server_port != u.port
    if p.server_port is not None:
        ev.append(
            Evidence(
                "probe",
                "server port",
                f"backend listens on {p.server_port}, URL port {u.port}",
                "something sits between client and server (pooler or proxy)"
                if through_something
                else "the URL reaches the backend's own port",
            )
        )
    if p.pooled_by_behaviour is False:
        ev.append(
            Evidence(
                "probe",
                "behaviour",
                p.behaviour_note,
                "each client keeps its own backend across transactions (direct or session pooling)",
            )
        )
        if url_variant in (None, UNKNOWN):
            return SESSION if through_something else DIRECT
    return url_variant
