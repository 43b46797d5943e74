"""What a Citus plan is made of: placements, findings (each with its fix) and the plan."""

from __future__ import annotations

from dataclasses import dataclass, field

DISTRIBUTION_COLUMN = "tenant_id"
KEY_SHAPE_KINDS = (
    "primary-key",
    "unique-key",
    "unique-index",
    "foreign-key",
    "nullable-distribution-column",
)
RUNTIME_ROLES = ("aibos_kernel_role", "aibos_finance_role", "aibos_config_role")


@dataclass(frozen=True)
class Finding:
    kind: str
    table: str  # schema.table, or the function's signature
    name: str  # the constraint, index, trigger or function
    detail: str
    fix: str  # DDL (or a statement of what to change, as an SQL comment, when DDL cannot do it)

    @property
    def key(self) -> str:
        """Stable id for a baseline: what and where, not the wording."""
        return f"{self.kind}:{self.table}:{self.name}"

    @property
    def key_shape(self) -> bool:
        return self.kind in KEY_SHAPE_KINDS


@dataclass(frozen=True)
class Placement:
    table: str
    how: str  # "distributed" | "reference" | "local"
    why: str
    column: str | None = None


@dataclass(frozen=True)
class Plan:
    placements: tuple[Placement, ...]
    findings: tuple[Finding, ...]
    server_version: str
    citus_installed: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    def of(self, how: str) -> tuple[Placement, ...]:
        return tuple(p for p in self.placements if p.how == how)

    def placement(self, table: str) -> Placement:
        return next(p for p in self.placements if p.table == table)


def _q(qualified: str) -> str:
    schema, _, name = qualified.partition(".")
    return f'"{schema}"."{name}"' if name else f'"{schema}"'
