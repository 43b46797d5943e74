"""The rule registry: stable ids, default levels, and the checks behind them.

Three kinds of check, all pure functions of parse trees and the schema state:
- statement checks see one statement and the state *before* it (locks, grants, queries);
- table checks see a table as the plan leaves it (tenancy, conventions, RLS);
- schema checks see every table at once (duplicate entities).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..config import GuardianConfig
from ..findings import BLOCK, WARN, Finding, Fix, Location
from ..sql import Statement
from ..state import SchemaState, Table, View


@dataclass(frozen=True)
class Rule:
    id: str
    default: str  # shadow | warn | block, before configuration
    category: str  # tenancy, conventions, governance, locks, design, parser
    summary: str


RULES: dict[str, Rule] = {}


def rule(id: str, default: str, category: str, summary: str) -> Rule:
    r = Rule(id=id, default=default, category=category, summary=summary)
    RULES[id] = r
    return r


@dataclass(frozen=True)
class Context:
    config: GuardianConfig
    state: SchemaState
    live: bool = False  # judging the database as it is, not a plan of statements


StatementCheck = Callable[[Context, Statement], Iterable[Finding]]
TableCheck = Callable[[Context, Table], Iterable[Finding]]
ViewCheck = Callable[[Context, View], Iterable[Finding]]
SchemaCheck = Callable[[Context, list[Table]], Iterable[Finding]]

STATEMENT_CHECKS: list[StatementCheck] = []
TABLE_CHECKS: list[TableCheck] = []
VIEW_CHECKS: list[ViewCheck] = []
SCHEMA_CHECKS: list[SchemaCheck] = []


def finding(
    r: Rule,
    message: str,
    obj: str,
    location: Location,
    *,
    statement: str = "",
    fix: Fix | None = None,
    level: str | None = None,
    level_reason: str = "",
) -> Finding:
    return Finding(
        rule=r.id,
        level=level or r.default,
        message=message,
        object=obj,
        location=location,
        statement=statement,
        fix=fix,
        level_reason=level_reason,
    )


def table_location(t: Table) -> Location:
    """Where a table-level finding points: the statement that created or last changed it."""
    if t.created_at is not None:
        return t.created_at
    if t.touched_at:
        return t.touched_at[-1]
    return Location("catalog")


PARSE_ERROR = rule(
    "parse-error", BLOCK, "parser", "SQL the PostgreSQL parser rejects cannot be checked (or run)"
)
RENDER_ERROR = rule(
    "render-error", WARN, "parser", "a migration whose SQL could not be rendered was not checked"
)

# Importing the rule modules registers their checks, in the order findings are reported.
from . import conventions, design, governance, locks, maintenance, tenancy  # noqa: E402

__all__ = [
    "RULES",
    "Context",
    "Rule",
    "conventions",
    "design",
    "governance",
    "locks",
    "maintenance",
    "tenancy",
]
