"""The compliance mapping, generated from live checks (seeds PRD §14.1-14.2).

Each control names the checks that evidence it; every check runs now (or, for Trust Test
attacks, is read from the latest run, with its time). A control is ``satisfied`` only when at
least one check evidences it and every one passes; ``failing`` when one fails; ``not evidenced``
when nothing here checks it — never satisfied by declaration.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from django.db import DatabaseError, connections

SATISFIED, FAILING, NOT_EVIDENCED = "satisfied", "failing", "not evidenced"


@dataclass(frozen=True)
class Evidence:
    kind: str  # catalog | governance view | audit chain | trust test attack | monitoring
    ref: str
    passed: bool
    detail: str
    verified_at: str


@dataclass(frozen=True)
class Control:
    framework: str
    control_id: str
    title: str
    # Names of evidence sources (below) and Trust Test TSC tags that evidence the control.
    sources: tuple[str, ...]
    trust_tags: tuple[str, ...] = ()


CONTROLS = (
    Control(
        "SOC 2",
        "CC6.1",
        "Logical access: tenants cannot reach each other's rows",
        ("catalog:rls", "catalog:policies", "catalog:roles", "views"),
        ("CC6.1",),
    ),
    Control(
        "SOC 2",
        "CC6.2",
        "Role-based access: least-privilege database roles per schema",
        ("catalog:roles", "catalog:ownership", "catalog:grants"),
        ("CC6.2",),
    ),
    Control(
        "SOC 2",
        "CC6.6",
        "Boundary protection: the API refuses cross-tenant ids and bypasses",
        (),
        ("CC6.6",),
    ),
    Control(
        "SOC 2",
        "CC7.2",
        "Monitoring: audit capture is installed and sealing keeps up",
        ("catalog:triggers", "monitoring:seal_lag"),
        ("CC7.2",),
    ),
    Control(
        "SOC 2",
        "CC8.1",
        "Change control: posted entries immutable, every change recorded",
        ("catalog:triggers", "audit_chain", "views"),
        ("CC8.1",),
    ),
    Control(
        "SOC 2",
        "PI1.3",
        "Processing integrity: every posted journal balances",
        ("views",),
        ("PI1.3", "PI1.2", "PI1.4"),
    ),
    Control(
        "SOC 2",
        "PI1.5",
        "Stored outputs complete and accurate: the audit chain verifies",
        ("audit_chain",),
        ("PI1.5",),
    ),
    # Refusing TRUNCATE is not evidence of backups: only a restore drill would be (none yet).
    Control("SOC 2", "A1.2", "Backup and recovery", (), ()),
    Control(
        "HIPAA", "164.312(a)(2)(i)", "Unique user identification", ("catalog:unique_users",), ()
    ),
    Control(
        "HIPAA",
        "164.312(b)",
        "Audit controls: activity recorded by the database",
        ("catalog:triggers", "audit_chain"),
        (),
    ),
    Control(
        "HIPAA",
        "164.312(c)(1)",
        "Integrity: double entry and journal immutability",
        ("views", "audit_chain"),
        ("PI1.3", "CC8.1"),
    ),
)

SEAL_LAG_LIMIT_SECONDS = 60.0


@dataclass(frozen=True)
class Scope:
    # When the checks ran: an evidence pack pins it to its data's time (deterministic).
    now: str
    # The tenants whose chains are verified (None: every chain).
    tenant_ids: list[Any] | None = None
    # A chain already recomputed by the caller (the evidence export's manifest entry).
    chain: dict[str, Any] | None = None


def _catalog(scope: Scope) -> dict[str, Evidence]:
    from aibos.db.governance_checks import run_checks

    now = scope.now
    with connections["monitor"].cursor() as cur:  # catalogs every role may read
        results = run_checks(cur)
        cur.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = 'kernel.users'::regclass "
            "AND contype = 'p'"
        )
        unique_users = cur.fetchone()[0] == 1
    found = {
        f"catalog:{r.name}": Evidence(
            "catalog", r.name, r.passed, "; ".join(r.problems) or r.description, now
        )
        for r in results
    }
    found["catalog:unique_users"] = Evidence(
        "catalog",
        "kernel.users primary key (uuid)",
        unique_users,
        "every user has a unique id" if unique_users else "kernel.users has no primary key",
        now,
    )
    return found


def _views(scope: Scope) -> dict[str, Evidence]:
    """kernel.v_governance_summary, read as the monitor role, when deployed."""
    try:
        with connections["monitor"].cursor() as cur:
            # A tenant's report does not judge (or list) other tenants' ledgers: the per-entry
            # check is read for its tenants only.
            cur.execute(
                "SELECT * FROM kernel.v_governance_summary "
                "WHERE %(tenants)s::uuid[] IS NULL OR check_name <> 'double_entry' "
                "UNION ALL SELECT 'double_entry', 'posted entries of these tenants balance', "
                "CASE WHEN count(*) FILTER (WHERE status = 'FAIL') = 0 THEN 'PASS' ELSE 'FAIL' END, "
                "count(*), count(*) FILTER (WHERE status = 'FAIL'), "
                "(array_agg(entry_id::text) FILTER (WHERE status = 'FAIL'))[1:20] "
                "FROM finance.v_double_entry_check "
                "WHERE %(tenants)s::uuid[] IS NOT NULL AND tenant_id = ANY(%(tenants)s::uuid[])",
                {"tenants": scope.tenant_ids},
            )
            columns = [c.name for c in cur.description]
            rows = [dict(zip(columns, r, strict=True)) for r in cur.fetchall()]
    except DatabaseError:
        return {}
    now = scope.now
    failing = [r for r in rows if str(r.get("status", "")).upper() != "PASS"]
    return {
        "views": Evidence(
            "governance view",
            "kernel.v_governance_summary",
            bool(rows) and not failing,
            f"{len(rows) - len(failing)}/{len(rows)} governance checks PASS"
            + (
                f"; failing: {[r.get('check_name') or r.get('check') for r in failing]}"
                if failing
                else ""
            ),
            now,
        )
    }


def _audit_chain(scope: Scope) -> dict[str, Evidence]:
    from assurance.chain.verifier import verify_all

    if scope.chain is not None:
        c = scope.chain
        problems = len(c["breaks"]) + len(c["gaps"])
        return {
            "audit_chain": Evidence(
                "audit chain",
                "evidence export (every exported link recomputed)",
                problems == 0,
                f"{c['events']} links (seq {c['first_seq']}..{c['last_seq']}), {len(c['breaks'])} "
                f"breaks, {len(c['gaps'])} gaps",
                scope.now,
            )
        }

    reports, inserted = verify_all(scope.tenant_ids)
    breaks = [b for r in reports for b in r.breaks] + inserted
    return {
        "audit_chain": Evidence(
            "audit chain",
            "audit_verify",
            not breaks,
            f"{len(reports)} chains, {sum(r.size for r in reports)} links, {len(breaks)} breaks",
            scope.now,
        )
    }


def _monitoring(scope: Scope) -> dict[str, Evidence]:
    from assurance.chain.sealer import seal_status

    if scope.chain is not None:
        return {}  # a pack states its data, not the wall-clock lag at export time
    status = seal_status()
    ok = status.lag_seconds <= SEAL_LAG_LIMIT_SECONDS
    return {
        "monitoring:seal_lag": Evidence(
            "monitoring",
            "audit seal lag",
            ok,
            f"{status.unsealed_events} events unsealed, lag {status.lag_seconds:.1f} s "
            f"(limit {SEAL_LAG_LIMIT_SECONDS:.0f} s)",
            scope.now,
        )
    }


def _trust_attacks(result: dict[str, Any]) -> list[dict[str, Any]]:
    attacks = result.get("attacks")
    return attacks if isinstance(attacks, list) else []


SOURCES: tuple[Callable[[Scope], dict[str, Evidence]], ...] = (
    _catalog,
    _views,
    _audit_chain,
    _monitoring,
)


def compliance_report(
    trust_result: dict[str, Any] | None = None,
    *,
    as_of: str | None = None,
    tenant_ids: list[Any] | None = None,
    chain: dict[str, Any] | None = None,
) -> dict[str, Any]:
    now = as_of or dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    scope = Scope(now, tenant_ids, chain)
    if trust_result is None:
        from assurance.evidence import latest_trust_test

        trust_result = latest_trust_test()
    evidence: dict[str, Evidence] = {}
    for source in SOURCES:
        evidence.update(source(scope))
    trust_time = str(trust_result.get("started_at") or "")
    controls = []
    for control in CONTROLS:
        items = [evidence[s] for s in control.sources if s in evidence]
        for attack in _trust_attacks(trust_result):
            if set(attack.get("tsc") or ()) & set(control.trust_tags):
                items.append(
                    Evidence(
                        "trust test attack",
                        str(attack.get("name")),
                        attack.get("verdict") == "PASS",
                        f"{attack.get('layer')}: expected {(attack.get('expected') or {}).get('text')}, "
                        f"got {(attack.get('got') or {}).get('text')}",
                        trust_time,
                    )
                )
        status = (
            NOT_EVIDENCED
            if not items
            else FAILING
            if not all(e.passed for e in items)
            else SATISFIED
        )
        controls.append(
            {
                "framework": control.framework,
                "control": control.control_id,
                "title": control.title,
                "status": status,
                "evidence": [asdict(e) for e in items],
            }
        )
    return {
        "generated_from": "live checks (catalog, governance views, audit chain, Trust Test)",
        "controls": controls,
        "summary": {
            s: sum(c["status"] == s for c in controls) for s in (SATISFIED, FAILING, NOT_EVIDENCED)
        },
    }


def as_markdown(report: dict[str, Any]) -> str:
    lines = [
        "# Compliance mapping (live checks)",
        "",
        "| Framework | Control | Status | Evidence (checks) | Last verified |",
        "|---|---|---|---|---|",
    ]
    for c in report["controls"]:
        checks = [e for e in c["evidence"] if e["kind"] != "trust test attack"]
        attacks = [e for e in c["evidence"] if e["kind"] == "trust test attack"]
        refs = [f"{'✔' if e['passed'] else '✘'} {e['kind']}: {e['ref']}" for e in checks]
        if attacks:
            failed = [e["ref"] for e in attacks if not e["passed"]]
            refs.append(
                f"{'✘' if failed else '✔'} {len(attacks)} Trust Test attacks, "
                + (f"NOT blocked: {', '.join(failed)}" if failed else "all blocked")
            )
        when = max((e["verified_at"] for e in c["evidence"]), default="—")
        lines.append(
            f"| {c['framework']} | {c['control']} {c['title']} | **{c['status']}** | "
            f"{', '.join(refs) or '—'} | {when} |"
        )
    s = report["summary"]
    lines += [
        "",
        f"{s[SATISFIED]} satisfied, {s[FAILING]} failing, {s[NOT_EVIDENCED]} not evidenced.",
    ]
    return "\n".join(lines) + "\n"
