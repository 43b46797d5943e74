"""Raw .sql files: each statement with its file and 1-based line; ignores from its comments."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..enforcement import parse_ignores
from ..findings import Finding, Location
from ..rules import PARSE_ERROR
from ..sql import SqlParseError, split_statements
from . import Plan


def sql_files(paths: Iterable[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(sorted(p.rglob("*.sql")) if p.is_dir() else [p])
    return out


def plan_from_files(paths: Iterable[str | Path]) -> Plan:
    plan = Plan()
    for path in sql_files(paths):
        text = path.read_text()
        base = Location("file", path=str(path))
        plan.units.append(str(path))
        try:
            statements = split_statements(text, base)
        except SqlParseError as exc:
            loc = Location("file", path=str(path), line=exc.line)
            plan.findings.append(
                Finding(
                    rule=PARSE_ERROR.id,
                    level=PARSE_ERROR.default,
                    message=str(exc),
                    object=str(path),
                    location=loc,
                )
            )
            continue
        for stmt in statements:
            plan.ignores.extend(parse_ignores(stmt.leading, stmt.location))
        plan.statements.extend(statements)
    return plan
