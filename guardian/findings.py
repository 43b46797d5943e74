"""What a rule reports: a finding with a stable id, a level, a location and, where one exists, a fix."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import pglast

# Enforcement levels, weakest first. `info` is not configurable: a rule gives it when the risk
# does not apply (a lock on a table created in the same plan, or one too small to matter).
INFO = "info"
SHADOW = "shadow"  # recorded; never stops anything
WARN = "warn"  # stops unless acknowledged by finding id
BLOCK = "block"  # stops
LEVELS = (INFO, SHADOW, WARN, BLOCK)
CONFIGURABLE_LEVELS = (SHADOW, WARN, BLOCK)


@dataclass(frozen=True)
class Location:
    """Where a statement came from: a Django migration operation, a file line, or the catalog."""

    source: str  # "migration" | "file" | "catalog"
    path: str = ""  # file path (for migrations, the migration's file relative to the project)
    line: int = 0  # 1-based; 0 when unknown
    migration: str = ""  # "finance.0012_add_invoices"
    operation: int = 0  # 1-based index of the operation in the migration; 0 for deferred SQL
    operation_label: str = ""  # Django's describe(): "Create model Invoice"

    def __str__(self) -> str:
        if self.source == "migration":
            where = f"{self.migration}"
            if self.operation:
                where += f" operation {self.operation} ({self.operation_label})"
            if self.path:
                where = f"{self.path}:{self.line} " + where if self.line else f"{self.path} {where}"
            return where
        if self.source == "file":
            return f"{self.path}:{self.line}" if self.line else self.path
        return "live catalog"


@dataclass(frozen=True)
class Fix:
    """A remedy: SQL always, and the Django migration code that applies it where one exists."""

    summary: str
    sql: str = ""
    django: str = ""


def _fingerprint(sql: str) -> str:
    if not sql:
        return ""
    try:
        return str(pglast.fingerprint(sql))
    except pglast.parser.ParseError:
        return sql


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str
    object: str  # "finance.invoices", "finance.invoices.amount", "kernel.v_summary"
    location: Location
    statement: str = ""  # the SQL the finding is about (normalised), when there is one
    fix: Fix | None = None
    # Why the level differs from the configured one (e.g. "table created in this plan").
    level_reason: str = ""
    accepted: str = ""  # set by enforcement: "baseline: <reason>" or "ignored until …: <reason>"

    @property
    def id(self) -> str:
        """Stable across runs and line moves. A finding about a statement is keyed by the rule,
        the object, where it was declared and the statement's shape (two indexes on one table in
        one migration are two findings); a finding about an object as it stands (a table without
        created_at) by the rule and the object only, so one baseline entry covers it in the
        migrations and in the live database alike."""
        shape = _fingerprint(self.statement)
        anchor = (self.location.migration or self.location.path) if shape else ""
        digest = hashlib.sha256(
            f"{self.rule}\0{self.object}\0{anchor}\0{shape}".encode()
        ).hexdigest()
        return f"{self.rule}:{digest[:10]}"

    def with_level(self, level: str, reason: str = "") -> Finding:
        return replace(self, level=level, level_reason=reason or self.level_reason)

    def stops(self, acknowledged: frozenset[str] = frozenset()) -> bool:
        if self.accepted:
            return False
        if self.level == BLOCK:
            return True
        return self.level == WARN and self.id not in acknowledged
