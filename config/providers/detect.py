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

from dataclasses import dataclass, field

# The URL stage, and the names the rest of the package imports from here.
from config.providers.urls import (  # noqa: F401 - re-exported
    DIRECT,
    PROXY,
    READER,
    SESSION,
    TRANSACTION,
    UNKNOWN,
    URL_UNPARSABLE,
    Evidence,
    ParsedURL,
    _url_evidence,
    parse_url,
    redact,
)

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
