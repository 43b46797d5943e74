"""The selection matrix: a fitness function you can read.

Hard filters first (hosting, compliance, region, required features, concurrency, budget): a
profile failing any is excluded with every reason, each naming the fact and its as_of date.
The rest are ranked by a weighted score whose every component is shown. Ties break by profile
name, so the ranking is a pure function of (manifest, profiles).

Budget enters only as a hard ceiling (and the cost component, which is per profile and does not
depend on the ceiling), so raising it can only keep or add feasible providers; compliance only
filters, so demanding an attestation can only remove providers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from config.providers import regions
from config.providers.manifest import Manifest
from config.providers.profiles import Fact, Profile

# Weights per budget_mode (CONT_03 §5.1 names the mode); cost_sensitivity scales the cost
# weight, then the weights are renormalised to sum to 1.
WEIGHTS: dict[str, dict[str, float]] = {
    "cost-sensitive": {
        "cost": 0.40,
        "burstiness": 0.20,
        "concurrency": 0.10,
        "performance": 0.05,
        "workload": 0.10,
        "region": 0.15,
    },
    "balanced": {
        "cost": 0.25,
        "burstiness": 0.15,
        "concurrency": 0.15,
        "performance": 0.15,
        "workload": 0.15,
        "region": 0.15,
    },
    "performance": {
        "cost": 0.05,
        "burstiness": 0.10,
        "concurrency": 0.20,
        "performance": 0.45,
        "workload": 0.10,
        "region": 0.10,
    },
}
COST_SENSITIVITY = {"high": 1.5, "medium": 1.0, "low": 0.5}
# A usage-billed component (I/O, compute hours) makes next month's bill a forecast, not a price.
PREDICTABILITY = {
    "free-tier": 1.0,
    "instance-hourly": 1.0,
    "self-operated": 0.8,
    "subscription+usage": 0.6,
    "instance-hourly+io": 0.6,
}
# $ per month at which the price score halves: the scale of a small production instance.
PRICE_HALF_AT = 50.0
REPLICAS_FULL, FAILOVER_FULL_S, STORAGE_FULL_TIB = 15, 30, 64


@dataclass(frozen=True)
class Component:
    name: str
    value: float  # 0..1
    weight: float
    reason: str

    @property
    def contribution(self) -> float:
        return self.value * self.weight


@dataclass(frozen=True)
class Ranked:
    rank: int
    profile: Profile
    score: float
    components: tuple[Component, ...]
    passed: tuple[str, ...]  # the hard filters it met, with the facts


@dataclass(frozen=True)
class Excluded:
    profile: Profile
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Recommendation:
    manifest: Manifest
    ranked: tuple[Ranked, ...]
    excluded: tuple[Excluded, ...]

    @property
    def best(self) -> Ranked | None:
        return self.ranked[0] if self.ranked else None

    def names(self) -> list[str]:
        return [r.profile.name for r in self.ranked]


def _cite(fact: Fact) -> str:
    return f"as of {fact.as_of}{'' if fact.verified else ', unverified'}"


def _filters(m: Manifest, p: Profile) -> tuple[list[str], list[str]]:
    """(failures, passes), each a sentence naming the fact it used."""
    fail: list[str] = []
    ok: list[str] = []

    def check(passed: bool, good: str, bad: str) -> None:
        (ok if passed else fail).append(good if passed else bad)

    if m.hosting != "any":
        check(
            p.hosting == m.hosting,
            f"hosting {p.hosting} as asked",
            f"excluded: manifest asks for hosting {m.hosting}, this profile is {p.hosting}",
        )
    comp = p.fact("compliance")
    for attestation in m.compliance:
        check(
            attestation in comp.value,
            f"{attestation.upper()} attestation ({_cite(comp)})",
            f"excluded: no {attestation.upper()} attestation in profile ({_cite(comp)}; "
            f"source {comp.source})",
        )
    reg = p.fact("regions")
    wanted = regions.metro(m.region)
    exact = m.region in reg.value
    same_metro = any(regions.metro(r) == wanted for r in reg.value)
    check(
        regions.ANYWHERE in reg.value or exact or same_metro,
        f"region {m.region} available ({_cite(reg)})"
        if exact or regions.ANYWHERE in reg.value
        else f"region {_same_metro(reg.value, wanted)} in {wanted}, as {m.region} ({_cite(reg)})",
        f"excluded: no region in {wanted} (asked {m.region}; {_cite(reg)})",
    )
    for flag in ("branching", "private_networking", "iam_auth"):
        if getattr(m, flag):
            fact = p.fact(flag)
            label = flag.replace("_", " ")
            check(
                bool(fact.value),
                f"{label} ({_cite(fact)})",
                f"excluded: {label} required, profile says no ({_cite(fact)})",
            )
    if m.pitr_days:
        pitr = p.fact("pitr_days")
        enough = pitr.value is None or pitr.value >= m.pitr_days
        shown = "unbounded" if pitr.value is None else f"{pitr.value} days"
        check(
            enough,
            f"PITR {shown} >= {m.pitr_days:g} days ({_cite(pitr)})",
            f"excluded: PITR window {shown} < {m.pitr_days:g} days required ({_cite(pitr)})",
        )
    ext = p.fact("extensions")
    for name in m.extensions:
        check(
            bool(ext.value.get(name)),
            f"extension {name} ({_cite(ext)})",
            f"excluded: extension {name} not available ({_cite(ext)})",
        )
    conn = p.fact("max_client_connections")
    check(
        conn.value >= m.concurrency_target,
        f"{conn.value} client connections >= {m.concurrency_target} ({_cite(conn)})",
        f"excluded: {conn.value} client connections < concurrency target "
        f"{m.concurrency_target} ({_cite(conn)})",
    )
    cost = p.fact("cost_model")
    if m.budget_usd_month is not None:
        base = cost.value["base_usd_month"]
        check(
            base <= m.budget_usd_month,
            f"~${base}/month within budget ${m.budget_usd_month:g} ({_cite(cost)})",
            f"excluded: ~${base}/month ({cost.value['basis']}) over budget "
            f"${m.budget_usd_month:g} ({_cite(cost)})",
        )
    return fail, ok


def _same_metro(names: list[str], metro: str | None) -> str:
    return ", ".join(sorted(r for r in names if regions.metro(r) == metro))


def _weights(m: Manifest) -> dict[str, float]:
    raw = dict(WEIGHTS[m.budget_mode])
    raw["cost"] *= COST_SENSITIVITY[m.cost_sensitivity]
    total = sum(raw.values())
    return {k: v / total for k, v in raw.items()}


def _components(m: Manifest, p: Profile) -> tuple[Component, ...]:
    w = _weights(m)
    cost = p.value("cost_model")
    price = 1 / (1 + cost["base_usd_month"] / PRICE_HALF_AT)
    predictable = PREDICTABILITY.get(cost["model"], 0.5)
    out = [
        Component(
            "cost",
            round(0.7 * price + 0.3 * predictable, 4),
            w["cost"],
            f"~${cost['base_usd_month']}/month ({cost['basis']}); price {price:.2f}, "
            f"predictability {predictable:.1f} ({cost['model']})",
        )
    ]
    s2z, autoscale = bool(p.value("scale_to_zero")), bool(p.value("autoscaling", False))
    if m.burstiness == "spiky":
        burst = 1.0 if s2z else 0.7 if autoscale else 0.3
        why = (
            "scales to zero between spikes"
            if s2z
            else "autoscales compute"
            if autoscale
            else "provisioned: pays for idle capacity between spikes"
        )
    else:
        burst = 0.8 if s2z else 1.0
        why = "cold start after idle suspends" if s2z else "provisioned capacity suits steady load"
    out.append(Component("burstiness", burst, w["burstiness"], f"{m.burstiness}: {why}"))
    limit = p.value("max_client_connections")
    headroom = min(1.0, limit / (4 * m.concurrency_target))
    out.append(
        Component(
            "concurrency",
            round(headroom, 4),
            w["concurrency"],
            f"{limit} client connections for a target of {m.concurrency_target} "
            f"(full marks at 4x headroom)",
        )
    )
    perf = p.value("performance")
    parts = [
        0.5
        if perf["max_read_replicas"] is None
        else min(1.0, perf["max_read_replicas"] / REPLICAS_FULL),
        0.5
        if p.hosting == "self" and perf["failover_seconds"] is None
        else 0.0
        if perf["failover_seconds"] is None
        else min(1.0, FAILOVER_FULL_S / perf["failover_seconds"]),
        0.5
        if perf["max_storage_tib"] is None
        else min(1.0, perf["max_storage_tib"] / STORAGE_FULL_TIB),
    ]
    out.append(
        Component(
            "performance",
            round(sum(parts) / 3, 4),
            w["performance"],
            f"read replicas {perf['max_read_replicas']}, failover {_failover(p, perf)}, "
            f"storage {perf['max_storage_tib']} TiB",
        )
    )
    pooled = any(v["variant"] in ("transaction pooler", "proxy") for v in p.value("pooling"))
    replicas = (perf["max_read_replicas"] or 0) > 0 or p.hosting == "self"
    oltp = 1.0 if pooled else 0.7
    olap = 1.0 if replicas else 0.4
    fit = {"oltp": oltp, "olap": olap, "mixed": (oltp + olap) / 2}[m.workload]
    out.append(
        Component(
            "workload",
            fit,
            w["workload"],
            f"{m.workload}: "
            + (
                "transaction pooler or proxy for many short transactions; "
                if pooled
                else "no transaction pooler; "
            )
            + ("read replicas for analytics" if replicas else "no read replicas"),
        )
    )
    reg = p.value("regions")
    if m.region in reg:
        region, why = 1.0, f"{m.region} is one of its own regions"
    elif regions.ANYWHERE in reg:
        region, why = 0.9, "runs wherever you put it"
    else:
        region, why = (
            0.8,
            f"same metro as {m.region} ({regions.metro(m.region)}), another cloud's name",
        )
    out.append(Component("region", region, w["region"], why))
    return tuple(out)


def _failover(p: Profile, perf: dict[str, Any]) -> str:
    if perf["failover_seconds"] is not None:
        return f"~{perf['failover_seconds']} s"
    return "as you build it" if p.hosting == "self" else "none automatic"


def recommend(manifest: Manifest, profiles: Iterable[Profile]) -> Recommendation:
    scored: list[tuple[float, Profile, tuple[Component, ...], tuple[str, ...]]] = []
    excluded: list[Excluded] = []
    for profile in sorted(profiles, key=lambda p: p.name):
        failures, passes = _filters(manifest, profile)
        if failures:
            excluded.append(Excluded(profile, tuple(failures)))
            continue
        components = _components(manifest, profile)
        score = round(sum(c.contribution for c in components), 4)
        scored.append((score, profile, components, tuple(passes)))
    scored.sort(key=lambda s: (-s[0], s[1].name))
    return Recommendation(
        manifest=manifest,
        ranked=tuple(
            Ranked(rank=i, profile=p, score=score, components=c, passed=passes)
            for i, (score, p, c, passes) in enumerate(scored, start=1)
        ),
        excluded=tuple(excluded),
    )


def render_text(rec: Recommendation) -> str:
    m = rec.manifest
    lines = [
        f"Manifest{f' ({m.profile})' if m.profile else ''}: {m.budget_mode}, cost sensitivity "
        f"{m.cost_sensitivity}, {m.workload}, {m.burstiness}, {m.concurrency_target} connections, "
        f"compliance {', '.join(m.compliance) or 'none'}, region {m.region}, hosting {m.hosting}",
        "",
    ]
    if not rec.ranked:
        lines.append("No provider meets the hard requirements.")
    for r in rec.ranked:
        lines.append(f"{r.rank}. {r.profile.name} ({r.profile.label}) score {r.score:.3f}")
        for c in sorted(r.components, key=lambda c: -c.contribution):
            lines.append(
                f"     {c.name:<12} {c.value:.2f} x {c.weight:.3f} = {c.contribution:.3f}  {c.reason}"
            )
        lines.append(f"     passed: {'; '.join(r.passed)}")
    if rec.excluded:
        lines += ["", "Excluded:"]
        for e in rec.excluded:
            lines.append(f"  {e.profile.name}:")
            lines += [f"     - {reason}" for reason in e.reasons]
    return "\n".join(lines) + "\n"


def as_dict(rec: Recommendation) -> dict[str, object]:
    return {
        "ranked": [
            {
                "rank": r.rank,
                "profile": r.profile.name,
                "score": r.score,
                "components": [
                    {
                        "name": c.name,
                        "value": c.value,
                        "weight": round(c.weight, 4),
                        "contribution": round(c.contribution, 4),
                        "reason": c.reason,
                    }
                    for c in r.components
                ],
                "passed": list(r.passed),
            }
            for r in rec.ranked
        ],
        "excluded": [{"profile": e.profile.name, "reasons": list(e.reasons)} for e in rec.excluded],
    }
