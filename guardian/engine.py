"""Run the rules: statements in order against an evolving schema state, then the tables the
statements touched as they were left."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .config import GuardianConfig
from .findings import Finding
from .rules import SCHEMA_CHECKS, STATEMENT_CHECKS, TABLE_CHECKS, VIEW_CHECKS, Context
from .sql import Statement
from .state import SchemaState, Table


def analyse(
    statements: Iterable[Statement], state: SchemaState, config: GuardianConfig
) -> list[Finding]:
    """Findings for a plan of ``statements`` run against ``state`` (modified in place)."""
    ctx = Context(config=config, state=state)
    findings: list[Finding] = []
    before = {k: len(t.touched_at) for k, t in state.tables.items()}
    views_before = set(state.views)
    for stmt in statements:
        for check in STATEMENT_CHECKS:
            findings.extend(check(ctx, stmt))
        state.apply(stmt)
    touched = [
        t for k, t in sorted(state.tables.items()) if t.new or len(t.touched_at) > before.get(k, 0)
    ]
    new_views = [v for k, v in sorted(state.views.items()) if k not in views_before or v.created_at]
    findings.extend(_objects(ctx, touched, new_views))
    return findings


def analyse_state(state: SchemaState, config: GuardianConfig) -> list[Finding]:
    """Findings for every table and view of ``state`` (the live database as it is)."""
    ctx = Context(config=config, state=state, live=True)
    tables = [t for _, t in sorted(state.tables.items())]
    views = [v for _, v in sorted(state.views.items())]
    return _objects(ctx, tables, views)


def _objects(ctx: Context, tables: Sequence[Table], views: Sequence[object]) -> list[Finding]:
    out: list[Finding] = []
    for t in tables:
        for check in TABLE_CHECKS:
            out.extend(check(ctx, t))
    for v in views:
        for vcheck in VIEW_CHECKS:
            out.extend(vcheck(ctx, v))  # type: ignore[arg-type]
    for scheck in SCHEMA_CHECKS:
        out.extend(scheck(ctx, list(tables)))
    return out
