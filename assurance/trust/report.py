"""The Trust Test's outputs: a table for people, JSON and JUnit XML for machines (CI, auditors).

Every attack carries its expected outcome, what it got, the layer that must stop it and its
SOC 2 TSC ids, in all three.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import TSC, Attack, Got
from .phases import PENDING, CheckOutcome, EvidenceStep
from .runner import PASS, Result

SUITE = "CFO Trust Test"
FORMAT = "aibos.trust_test.v1"


@dataclass
class Run:
    run_id: str
    started_at: str
    database: str
    tenants: list[dict[str, str]]
    results: list[Result]
    checks: list[CheckOutcome] = field(default_factory=list)
    evidence: list[EvidenceStep] = field(default_factory=list)
    seconds: float = 0.0
    seed_seconds: float = 0.0

    @property
    def failed(self) -> list[Result]:
        return [r for r in self.results if r.verdict != PASS]

    @property
    def failed_checks(self) -> list[CheckOutcome]:
        return [c for c in self.checks if c.status not in (PASS, PENDING)]

    @property
    def failed_evidence(self) -> list[EvidenceStep]:
        return [s for s in self.evidence if s.status != PASS]

    @property
    def ok(self) -> bool:
        return (
            bool(self.results)
            and not self.failed
            and not self.failed_checks
            and not self.failed_evidence
        )


def _expected(attack: Attack) -> dict[str, Any]:
    e = attack.expect
    return {
        k: v
        for k, v in (
            ("sqlstate", e.sqlstate),
            ("rule", e.rule),
            ("http_status", e.http),
            ("rows", e.rows),
            ("error", e.error),
            ("text", str(e)),
        )
        if v is not None
    }


def _got(got: Got) -> dict[str, Any]:
    return {
        "sqlstate": got.sqlstate or None,
        "rule": got.rule or None,
        "http_status": got.http,
        "rows": got.rows,
        "error": got.error or None,
        "text": str(got),
    }


def as_json(run: Run) -> dict[str, Any]:
    layers = Counter(r.attack.layer for r in run.results)
    tsc = Counter(t for r in run.results for t in r.attack.tsc)
    return {
        "format": FORMAT,
        "suite": SUITE,
        "run_id": run.run_id,
        "started_at": run.started_at,
        "database": run.database,
        "elapsed_seconds": round(run.seconds, 3),
        "seed_seconds": round(run.seed_seconds, 3),
        "ok": run.ok,
        "tenants": run.tenants,
        "summary": {
            "attacks": len(run.results),
            "blocked": len(run.results) - len(run.failed),
            "failed": len(run.failed),
            "by_layer": dict(sorted(layers.items())),
            "by_tsc": dict(sorted(tsc.items())),
        },
        "tsc": {t: TSC[t] for t in sorted(tsc)},
        "attacks": [
            {
                "name": r.attack.name,
                "title": r.attack.title,
                "layer": r.attack.layer,
                "role": r.attack.role,
                "tsc": list(r.attack.tsc),
                "expected": _expected(r.attack),
                "got": _got(r.got),
                "verdict": r.verdict,
                "reason": r.reason or None,
                "detail": r.detail[:500] or None,
                "seconds": round(r.seconds, 4),
                "security_event_id": r.event_id,
            }
            for r in run.results
        ],
        "governance_checks": {
            "passed": sum(c.status == PASS for c in run.checks),
            "failed": len(run.failed_checks),
            "pending": sum(c.status == PENDING for c in run.checks),
            "by_group": _by_group(run.checks),
            "checks": [
                {
                    "name": c.name,
                    "group": c.group,
                    "status": c.status,
                    "detail": c.detail,
                    "tsc": list(c.tsc),
                }
                for c in run.checks
            ],
        },
        "evidence": {
            "status": "not run yet"
            if not run.evidence
            else ("FAIL" if run.failed_evidence else "PASS"),
            "steps": [
                {"name": s.name, "status": s.status, "detail": s.detail} for s in run.evidence
            ],
        },
    }


def _by_group(checks: list[CheckOutcome]) -> dict[str, dict[str, int]]:
    groups: dict[str, dict[str, int]] = {}
    for c in checks:
        g = groups.setdefault(c.group, {"passed": 0, "failed": 0, "pending": 0})
        g["passed" if c.status == PASS else "pending" if c.status == PENDING else "failed"] += 1
    return groups


def write_json(run: Run, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_json(run), indent=2, default=str) + "\n")


def write_junit(run: Run, path: Path) -> None:
    root = ET.Element("testsuites", name=SUITE)
    suite = ET.SubElement(
        root,
        "testsuite",
        name="trust_test.attacks",
        tests=str(len(run.results)),
        failures=str(len(run.failed)),
        errors="0",
        skipped="0",
        time=f"{sum(r.seconds for r in run.results):.3f}",
        timestamp=run.started_at,
    )
    for r in run.results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"trust_test.{r.attack.name.split('.')[0]}",
            name=r.attack.name,
            time=f"{r.seconds:.4f}",
        )
        props = ET.SubElement(case, "properties")
        for name, value in (
            ("layer", r.attack.layer),
            ("role", r.attack.role),
            ("expected", str(r.attack.expect)),
            ("got", str(r.got)),
            *(("tsc", t) for t in r.attack.tsc),
        ):
            ET.SubElement(props, "property", name=name, value=value)
        if r.verdict != PASS:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{r.reason}: expected {r.attack.expect}, got {r.got}",
                type=r.reason,
            )
            failure.text = r.detail
        else:
            ET.SubElement(case, "system-out").text = f"{r.attack.title}: {r.got}"
    checks = ET.SubElement(
        root,
        "testsuite",
        name="trust_test.governance_checks",
        tests=str(len(run.checks)),
        failures=str(len(run.failed_checks)),
        errors="0",
        skipped=str(sum(c.status == PENDING for c in run.checks)),
    )
    for c in run.checks:
        case = ET.SubElement(checks, "testcase", classname=f"trust_test.{c.group}", name=c.name)
        props = ET.SubElement(case, "properties")
        for t in c.tsc:
            ET.SubElement(props, "property", name="tsc", value=t)
        if c.status == PENDING:
            ET.SubElement(case, "skipped", message=c.detail)
        elif c.status != PASS:
            ET.SubElement(case, "failure", message=c.detail[:500], type="check failed")
    evidence = ET.SubElement(
        root,
        "testsuite",
        name="trust_test.evidence",
        tests=str(len(run.evidence)),
        failures=str(len(run.failed_evidence)),
        errors="0",
        skipped="0",
    )
    for s in run.evidence:
        case = ET.SubElement(evidence, "testcase", classname="trust_test.evidence", name=s.name)
        props = ET.SubElement(case, "properties")
        for t in ("CC4.1", "CC7.2"):
            ET.SubElement(props, "property", name="tsc", value=t)
        if s.status != PASS:
            ET.SubElement(case, "failure", message=s.detail[:500], type="evidence failed")
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


# --- the table ------------------------------------------------------------------------------


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table(results: list[Result]) -> list[str]:
    cols = (("#", 3), ("attack", 44), ("layer", 13), ("expected", 44), ("got", 44), ("", 4))
    head = "  ".join(name.ljust(w) for name, w in cols).rstrip()
    lines = [head, "  ".join("-" * w for _, w in cols)]
    for n, r in enumerate(results, 1):
        cells = (
            str(n),
            r.attack.name,
            r.attack.layer,
            str(r.attack.expect).removeprefix("SQLSTATE "),
            str(r.got).removeprefix("SQLSTATE "),
            r.verdict,
        )
        lines.append(
            "  ".join(_cut(v, w).ljust(w) for v, (_, w) in zip(cells, cols, strict=True)).rstrip()
        )
        if r.verdict != PASS:
            lines.append(f"     └─ {r.reason}: {_cut(r.detail, 150)}")
    return lines


def summary(run: Run) -> list[str]:
    layers = Counter(r.attack.layer for r in run.results)
    out = [
        f"Attacks: {len(run.results)}, blocked as expected: {len(run.results) - len(run.failed)}, "
        f"failed: {len(run.failed)}",
        "By layer: " + ", ".join(f"{k} {v}" for k, v in sorted(layers.items())),
    ]
    if run.checks:
        out.append("")
        out.append("Governance checks (group: pass / fail / pending)")
        for group, counts in _by_group(run.checks).items():
            out.append(
                f"  {group:<18} {counts['passed']:>3} / {counts['failed']} / {counts['pending']}"
            )
        for c in run.checks:
            if c.status != PASS:
                out.append(f"  {c.status:<7} {c.name}: {_cut(c.detail, 120)}")
    if run.evidence:
        out.append("")
        out.append("Evidence export + verify")
        out += [f"  {s.status:<7} {s.name}: {_cut(s.detail, 140)}" for s in run.evidence]
    return out
