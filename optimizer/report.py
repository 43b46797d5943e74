"""The optimizer report: workload in, findings out (text, JSON or SARIF).

Queries are grouped by the schema of their first table and each group is evaluated on the
runtime alias that owns that schema (see ``optimizer.whatif``): a what-if needs to read the
tables, and only that role may.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aibos import sarif
from aibos.db.roles import RUNTIME_ALIASES
from optimizer import detections
from optimizer.advisor import Advice, advise
from optimizer.detections import Finding
from optimizer.nplusone import NPlusOneFinding
from optimizer.parsing import parse
from optimizer.stats import table_stats
from optimizer.whatif import hypopg_status, what_if_session
from optimizer.workload import WorkloadQuery

TOOL_NAME = "aibos-optimizer"
TOOL_VERSION = "0.1.0"
# Contrib tables (public) are read through the kernel alias at runtime (aibos/db/routers.py).
DEFAULT_SCHEMA_ALIASES: dict[str, str] = {**{s: s for s in RUNTIME_ALIASES}, "public": "kernel"}

RULES = [
    sarif.Rule(detections.MISSING_INDEX, "MissingIndex", "An index that halves a query's cost"),
    sarif.Rule(detections.OFFSET_PAGINATION, "OffsetPagination", "OFFSET pagination; use keyset"),
    sarif.Rule(detections.SEQ_SCAN_LARGE, "SeqScanLarge", "Sequential scan of a large table"),
    sarif.Rule(
        detections.TENANT_PREDICATE, "NoTenantPredicate", "Tenant table queried without tenant_id"
    ),
    sarif.Rule(detections.N_PLUS_ONE, "NPlusOne", "One query per row of a list (N+1)"),
]


@dataclass
class Report:
    findings: list[Finding]
    notes: list[str]
    advice: dict[str, Advice] = field(default_factory=dict)  # by alias
    seconds: float = 0.0
    queries: int = 0

    def by_rule(self, rule_id: str) -> list[Finding]:
        return [f for f in self.findings if f.rule_id == rule_id]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": {"name": TOOL_NAME, "version": TOOL_VERSION},
            "seconds": round(self.seconds, 3),
            "queries": self.queries,
            "notes": self.notes,
            "advisor": {
                alias: {
                    "cost_before": round(a.cost_before, 1),
                    "cost_after": round(a.cost_after, 1),
                    "total_size_bytes": a.total_size,
                    "explains": a.explains,
                    "seconds": round(a.seconds, 3),
                    "skipped": [{"what": w, "why": y} for w, y in a.skipped],
                }
                for alias, a in self.advice.items()
            },
            "findings": [f.as_dict() for f in self.findings],
        }


def build_report(
    *,
    workload: Sequence[WorkloadQuery],
    n_plus_one: Sequence[NPlusOneFinding] = (),
    schema_aliases: Mapping[str, str] | None = None,
    notes: Sequence[str] = (),
    budget_seconds: float | None = None,
    storage_budget: int | None = None,
) -> Report:
    start = time.monotonic()
    aliases = {**DEFAULT_SCHEMA_ALIASES, **(schema_aliases or {})}
    groups: dict[str, list[WorkloadQuery]] = defaultdict(list)
    out_notes = list(notes)
    for q in workload:
        shape = parse(q.sql)
        if shape is None or not shape.tables:
            continue
        schema = next(iter(shape.tables)).schema or "public"
        alias = aliases.get(schema)
        if alias is None:
            out_notes.append(f"no alias reads schema {schema!r}; skipped: {q.sql[:60]}")
            continue
        groups[alias].append(q)
    findings: list[Finding] = []
    advice: dict[str, Advice] = {}
    for alias, queries in sorted(groups.items()):
        status = hypopg_status(alias)
        if not status.usable:
            out_notes.append(status.message)
        with what_if_session(alias) as whatif:
            tables = {t for q in queries for t in (parse(q.sql) or _Empty).tables}
            stats = table_stats(whatif.cursor, tables)
            result = advise(
                whatif=whatif,
                workload=queries,
                stats=stats,
                budget_seconds=budget_seconds,
                storage_budget=storage_budget,
            )
            findings += detections.index_findings(result)
            findings += detections.offset_findings(result.evaluated, stats)
            findings += detections.seq_scan_findings(result.evaluated, stats, result)
            findings += detections.tenant_predicate_findings(result.evaluated, stats)
        advice[alias] = result
        out_notes += result.notes
    findings += detections.n_plus_one_findings(list(n_plus_one))
    return Report(
        findings=findings,
        notes=list(dict.fromkeys(out_notes)),
        advice=advice,
        seconds=time.monotonic() - start,
        queries=len(workload),
    )


class _Empty:
    tables: dict[Any, Any] = {}


def render_text(report: Report) -> str:
    lines = [
        f"Query Optimizer: {len(report.findings)} findings, {report.queries} queries, "
        f"{report.seconds:.2f} s"
    ]
    for note in report.notes:
        lines.append(f"note: {note}")
    for alias, a in report.advice.items():
        lines.append(
            f"[{alias}] workload cost {a.cost_before:,.0f} -> {a.cost_after:,.0f} with "
            f"{len(a.chosen)} index(es), {a.total_size / 1024 / 1024:.1f} MB, {a.explains} plans"
        )
    for f in report.findings:
        where = f" at {f.location}" if f.location else ""
        lines.append(f"\n{f.level.upper()} {f.rule_id}: {f.title}{where}\n  {f.message}")
        if f.ddl:
            lines += ["  " + line for line in f.ddl.splitlines()]
    return "\n".join(lines) + "\n"


def render_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, default=str) + "\n"


def render_sarif(report: Report) -> str:
    results = [
        sarif.Result(
            rule_id=f.rule_id,
            level=f.level,
            message=f.message,
            file=f.location.file if f.location else None,
            line=f.location.line if f.location else None,
            logical_location=None if f.location else (f.table or None),
            fingerprint_parts=(f.key,),
        )
        for f in report.findings
    ]
    doc = sarif.build_sarif(
        tool_name=TOOL_NAME, tool_version=TOOL_VERSION, rules=RULES, results=results
    )
    return json.dumps(doc, indent=2) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "sarif": render_sarif}
