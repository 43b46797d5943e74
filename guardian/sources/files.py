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


def display_path(path: Path) -> str:
    """Relative to the project when inside it, else absolute: a finding's id must not depend
    on the directory the command was started from."""
    from django.conf import settings

    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return str(resolved)


def plan_from_files(paths: Iterable[str | Path]) -> Plan:
    plan = Plan()
    for path in sql_files(paths):
        text = path.read_text()
        shown = display_path(path)
        base = Location("file", path=shown)
        plan.units.append(shown)
        try:
            statements = split_statements(text, base)
        except SqlParseError as exc:
            loc = Location("file", path=shown, line=exc.line)
            plan.findings.append(
                Finding(
                    rule=PARSE_ERROR.id,
                    level=PARSE_ERROR.default,
                    message=str(exc),
                    object=shown,
                    location=loc,
                )
            )
            continue
        for stmt in statements:
            plan.ignores.extend(parse_ignores(stmt.leading, stmt.location))
        plan.statements.extend(statements)
    return plan
