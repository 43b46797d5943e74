"""Guardian findings as text (people), JSON (scripts) and SARIF 2.1.0 (code-scanning UIs).
Lines are 1-based everywhere."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

from aibos import sarif

from .findings import BLOCK, INFO, SHADOW, WARN, Finding
from .rules import RULES
from .runner import Run

_SARIF_LEVEL = {BLOCK: "error", WARN: "warning", SHADOW: "note", INFO: "none"}


def as_dict(f: Finding, acknowledged: frozenset[str]) -> dict[str, Any]:
    loc = f.location
    return {
        "id": f.id,
        "rule": f.rule,
        "level": f.level,
        "stops": f.stops(acknowledged),
        "object": f.object,
        "message": f.message,
        "level_reason": f.level_reason or None,
        "accepted": f.accepted or None,
        "location": {
            "source": loc.source,
            "path": loc.path or None,
            "line": loc.line or None,
            "migration": loc.migration or None,
            "operation": loc.operation or None,
            "operation_label": loc.operation_label or None,
        },
        "statement": f.statement or None,
        "fix": None
        if f.fix is None
        else {"summary": f.fix.summary, "sql": f.fix.sql or None, "django": f.fix.django or None},
    }


def to_json(run: Run) -> str:
    v = run.verdict
    return json.dumps(
        {
            "environment": run.environment,
            "checked": run.units,
            "ok": v.ok,
            "counts": dict(sorted(Counter(f.level for f in v.findings).items())),
            "stale_baseline": v.stale_baseline,
            "findings": [as_dict(f, v.acknowledged) for f in v.findings],
        },
        indent=2,
    )


def to_text(run: Run, *, show_info: bool = False) -> str:
    v = run.verdict
    lines: list[str] = []
    for f in v.findings:
        if f.level == INFO and not show_info:
            continue
        mark = "STOP" if f.stops(v.acknowledged) else ("ok  " if f.accepted else "    ")
        lines.append(f"{mark} {f.level:<6} {f.rule}  {f.location}")
        lines.append(f"       {f.message}")
        if f.level_reason:
            lines.append(f"       level: {f.level_reason}")
        if f.accepted:
            lines.append(f"       accepted ({f.accepted})")
        if f.fix is not None and f.stops(v.acknowledged):
            lines.append(f"       fix: {f.fix.summary}")
            for part in (f.fix.sql, f.fix.django):
                lines.extend(f"         {ln}" for ln in part.splitlines() if part)
        lines.append(f"       id: {f.id}")
    counts = Counter(f.level for f in v.findings)
    summary = ", ".join(
        f"{counts[lvl]} {lvl}" for lvl in (BLOCK, WARN, SHADOW, INFO) if counts[lvl]
    )
    accepted = sum(1 for f in v.findings if f.accepted)
    lines.append(
        f"Schema Guardian ({run.environment}): {len(run.units)} checked, "
        f"{summary or 'no findings'}{f', {accepted} accepted' if accepted else ''}; "
        + ("nothing stops." if v.ok else f"{len(v.stopping)} finding(s) stop this run.")
    )
    if v.stopping and any(f.level == WARN for f in v.stopping):
        ids = ",".join(f.id for f in v.stopping if f.level == WARN)
        lines.append(f"Acknowledge the warnings to go on: --guardian-ack {ids}")
    for stale in v.stale_baseline:
        lines.append(f"baseline entry {stale} matches nothing any more: remove it.")
    return "\n".join(lines)


def to_sarif(run: Run) -> str:
    v = run.verdict
    used = sorted({f.rule for f in v.findings})
    rules = [
        sarif.Rule(
            id=rid,
            name="".join(part.capitalize() for part in rid.split("-")),
            short_description=RULES[rid].summary if rid in RULES else rid,
            default_level=_SARIF_LEVEL[RULES[rid].default if rid in RULES else WARN],
        )
        for rid in used
    ]
    results = [
        sarif.Result(
            rule_id=f.rule,
            message=f.message,
            level=_SARIF_LEVEL[f.level],
            file=f.location.path or None,
            line=(f.location.line or None) if f.location.path else None,
            logical_location=None if f.location.path else f.object,
            fingerprint_parts=(f.id,),
            properties={
                "guardianFindingId": f.id,
                "guardianLevel": f.level,
                "object": f.object,
                "stops": f.stops(v.acknowledged),
            },
            suppression=f.accepted or None,
        )
        for f in v.findings
    ]
    doc = sarif.build_sarif(
        tool_name="aibos-schema-guardian",
        tool_version="1",
        rules=rules,
        results=results,
        information_uri="docs/guardian.md",
    )
    return json.dumps(doc, indent=2)


FORMATS: dict[str, Callable[[Run], str]] = {"text": to_text, "json": to_json, "sarif": to_sarif}
