"""Distribution plan from :class:`guardian.catalog.types.Catalog`.

Rules (citusdata/citus_docs, summarised in research/tenancy-anchors.md §4):
- a distributed table's primary and unique keys must include the distribution column;
- a foreign key between distributed tables must include the distribution column on both sides
  (co-location); distributed -> reference is allowed; reference -> distributed is not; nothing
  may reference a distributed table from a local table, nor a local table from a distributed one;
- triggers on distributed tables need ``citus.enable_unsafe_triggers`` and must touch only
  co-located shards; triggers on reference tables are unsupported (citus#4425);
- the tenant variable reaches the workers only from ``SET LOCAL`` with
  ``citus.propagate_set_commands = 'local'`` (citus PR #2906), not from ``set_config()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guardian.catalog.types import Catalog, Constraint, Function, Table

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


def _classify(catalog: Catalog, schemas: tuple[str, ...]) -> dict[str, Placement]:
    tables = [t for t in catalog.tables if t.partition_of is None]
    placements: dict[str, Placement] = {}
    for t in tables:
        if t.has_column(DISTRIBUTION_COLUMN):
            placements[t.qualified_name] = Placement(
                t.qualified_name,
                "distributed",
                f"carries {DISTRIBUTION_COLUMN}: its rows belong to one tenant",
                DISTRIBUTION_COLUMN,
            )
    referenced_by_distributed = {
        fk.referenced for t in tables if t.qualified_name in placements for fk in t.foreign_keys
    }
    for t in tables:
        name = t.qualified_name
        if name in placements:
            continue
        if name in referenced_by_distributed:
            placements[name] = Placement(
                name,
                "reference",
                "global (no tenant_id) and referenced by distributed tables: replicated to every "
                "worker so those foreign keys and joins stay local to a shard",
            )
        elif t.schema in schemas:
            placements[name] = Placement(
                name,
                "local",
                "global and referenced by no distributed table: stays on the coordinator",
            )
        else:
            placements[name] = Placement(
                name,
                "local",
                f"outside the governed schemas ({t.schema}): stays on the coordinator",
            )
    return placements


def _key_findings(t: Table, catalog: Catalog) -> list[Finding]:
    out: list[Finding] = []
    name = t.qualified_name
    tenant = next((c for c in t.columns if c.name == DISTRIBUTION_COLUMN), None)
    if tenant is not None and tenant.nullable:
        # Citus refuses NULL in a distribution column (citusdata/citus#3983).
        out.append(
            Finding(
                "nullable-distribution-column",
                name,
                DISTRIBUTION_COLUMN,
                f"{DISTRIBUTION_COLUMN} is nullable: a row without a tenant has no shard",
                "-- rows without a tenant take the nil UUID, the platform's own chain (as the "
                "audit seals already do); an append-only table needs its guard lifted for this "
                f"one statement\nUPDATE {_q(name)} SET {DISTRIBUTION_COLUMN} = "
                f"'00000000-0000-0000-0000-000000000000' WHERE {DISTRIBUTION_COLUMN} IS NULL; "
                f"ALTER TABLE {_q(name)} ALTER COLUMN {DISTRIBUTION_COLUMN} SET NOT NULL;",
            )
        )
    for c in t.constraints:
        if c.kind not in ("primary key", "unique", "exclusion") or DISTRIBUTION_COLUMN in c.columns:
            continue
        cols = ", ".join([DISTRIBUTION_COLUMN, *c.columns])
        if c.kind == "primary key":
            # Foreign keys that lean on the old key's index must go first (and come back as
            # composite keys, which the foreign-key findings spell out).
            dependants = [
                f'ALTER TABLE {_q(o.qualified_name)} DROP CONSTRAINT "{fk.name}";'
                for o in catalog.tables
                for fk in o.foreign_keys
                if fk.referenced == name and fk.referenced_columns == c.columns
            ]
            fix = " ".join(
                [
                    *dependants,
                    f'ALTER TABLE {_q(name)} DROP CONSTRAINT "{c.name}", '
                    f'ADD CONSTRAINT "{c.name}" PRIMARY KEY ({cols});',
                ]
            )
            out.append(
                Finding(
                    "primary-key",
                    name,
                    c.name,
                    f"{c.definition} lacks {DISTRIBUTION_COLUMN}: Citus needs the distribution "
                    "column in every primary key",
                    fix,
                )
            )
        else:
            kind = "UNIQUE" if c.kind == "unique" else "EXCLUDE"
            fix = (
                f'ALTER TABLE {_q(name)} DROP CONSTRAINT "{c.name}", '
                f'ADD CONSTRAINT "{c.name}" UNIQUE ({cols});'
                if kind == "UNIQUE"
                else f"-- rewrite {c.name} as an exclusion constraint that includes "
                f"{DISTRIBUTION_COLUMN} WITH ="
            )
            out.append(
                Finding(
                    "unique-key",
                    name,
                    c.name,
                    f"{c.definition} lacks {DISTRIBUTION_COLUMN}: uniqueness across shards cannot "
                    "be enforced",
                    fix,
                )
            )
    for i in t.indexes:
        if i.unique and i.constraint is None and DISTRIBUTION_COLUMN not in i.columns:
            out.append(
                Finding(
                    "unique-index",
                    name,
                    i.name,
                    f"{i.definition} lacks {DISTRIBUTION_COLUMN}",
                    f'DROP INDEX "{t.schema}"."{i.name}"; -- recreate with {DISTRIBUTION_COLUMN} leading',
                )
            )
    return out


def _fk_findings(t: Table, placements: dict[str, Placement]) -> list[Finding]:
    out: list[Finding] = []
    mine = placements[t.qualified_name]
    for fk in t.foreign_keys:
        target = placements.get(fk.referenced or "")
        if target is None:
            continue
        where = f"{t.qualified_name} ({mine.how}) -> {fk.referenced} ({target.how})"
        if mine.how == "distributed" and target.how == "distributed":
            if not _colocated(fk, target.column or DISTRIBUTION_COLUMN):
                out.append(
                    Finding(
                        "foreign-key",
                        t.qualified_name,
                        fk.name,
                        f"{where}: {fk.definition} does not carry {DISTRIBUTION_COLUMN} on both "
                        "sides, so the referenced row may live on another shard",
                        _composite_fk_fix(t, fk),
                    )
                )
        elif mine.how == "reference" and target.how == "distributed":
            out.append(
                Finding(
                    "foreign-key",
                    t.qualified_name,
                    fk.name,
                    f"{where}: foreign keys from reference tables to distributed tables are not "
                    "supported",
                    f'ALTER TABLE {_q(t.qualified_name)} DROP CONSTRAINT "{fk.name}"; '
                    f"-- or give {t.qualified_name} a {DISTRIBUTION_COLUMN} and distribute it",
                )
            )
        elif "local" in (mine.how, target.how) and mine.how != target.how:
            if mine.how == "local" and target.how == "reference":
                continue  # coordinator-local -> reference is supported (Citus 10+)
            out.append(
                Finding(
                    "foreign-key",
                    t.qualified_name,
                    fk.name,
                    f"{where}: a foreign key between a local and a distributed table is not "
                    "supported",
                    f'ALTER TABLE {_q(t.qualified_name)} DROP CONSTRAINT "{fk.name}"; '
                    "-- keep the rule in application code, or make the local table a reference "
                    "table",
                )
            )
    return out


def _colocated(fk: Constraint, target_column: str) -> bool:
    if DISTRIBUTION_COLUMN not in fk.columns:
        return False
    position = fk.columns.index(DISTRIBUTION_COLUMN)
    return (
        position < len(fk.referenced_columns) and fk.referenced_columns[position] == target_column
    )


def _composite_fk_fix(t: Table, fk: Constraint) -> str:
    cols = ", ".join([DISTRIBUTION_COLUMN, *[c for c in fk.columns if c != DISTRIBUTION_COLUMN]])
    ref_cols = ", ".join(
        [DISTRIBUTION_COLUMN, *[c for c in fk.referenced_columns if c != DISTRIBUTION_COLUMN]]
    )
    return (
        f'ALTER TABLE {_q(t.qualified_name)} DROP CONSTRAINT "{fk.name}", '
        f'ADD CONSTRAINT "{fk.name}" FOREIGN KEY ({cols}) '
        f"REFERENCES {_q(fk.referenced or '')} ({ref_cols});"
    )


def _touches(
    source: str, catalog: Catalog, own: str | None, _seen: frozenset[str] = frozenset()
) -> list[str]:
    """Tables named in a function body, following the catalog's functions it calls."""
    found: set[str] = set()
    for t in catalog.tables:
        if t.qualified_name != own and _names(source, t.schema, t.name):
            found.add(t.qualified_name)
    for fn in catalog.functions:
        name = fn.qualified_name
        if name not in _seen and _names(source, fn.schema, fn.name):
            found |= set(_touches(fn.source, catalog, own, _seen | {name}))
    return sorted(found)


def _names(source: str, schema: str, name: str) -> bool:
    pattern = rf'(?<![\w."]){re.escape(schema)}\s*\.\s*"?{re.escape(name)}\b'
    return re.search(pattern, source) is not None


def _trigger_findings(catalog: Catalog, placements: dict[str, Placement]) -> list[Finding]:
    out: list[Finding] = []
    functions = {f.qualified_name: f for f in catalog.functions}
    # Distributed tables: one finding per trigger function (the same function on 30 tables is
    # one decision), listing where it fires and what it touches.
    on_distributed: dict[str, list[str]] = {}
    touched_by: dict[str, set[str]] = {}
    for t in catalog.tables:
        how = placements[t.qualified_name].how
        for trig in t.triggers:
            fn = functions.get(trig.function)
            if how == "reference":
                out.append(
                    Finding(
                        "trigger",
                        t.qualified_name,
                        trig.name,
                        f"{trig.name} ({trig.function}) on a reference table: Citus does not "
                        "support triggers on reference tables (citus#4425)",
                        f'DROP TRIGGER "{trig.name}" ON {_q(t.qualified_name)}; '
                        "-- enforce the rule with privileges (REVOKE) or in the writing service",
                    )
                )
            elif how == "distributed" and fn is not None:
                touched = _touches(fn.source, catalog, t.qualified_name)
                if touched:
                    on_distributed.setdefault(trig.function, []).append(t.qualified_name)
                    touched_by.setdefault(trig.function, set()).update(touched)
    for function, tables in sorted(on_distributed.items()):
        touched = sorted(touched_by[function])
        off_group = [
            x for x in touched if placements.get(x) is None or placements[x].how != "distributed"
        ]
        out.append(
            Finding(
                "trigger",
                function,
                function.rpartition(".")[2],
                f"trigger function {function} fires on {len(tables)} distributed table(s) "
                f"({', '.join(sorted(tables)[:3])}{', ...' if len(tables) > 3 else ''}) and "
                f"touches {', '.join(touched)}: on Citus it runs on the worker holding the "
                "shard, needs citus.enable_unsafe_triggers, and is correct only if every touched "
                "table is co-located and reached through the row's tenant_id"
                + (f"; not distributed: {', '.join(off_group)}" if off_group else ""),
                "ALTER DATABASE CURRENT SET citus.enable_unsafe_triggers = on; "
                "-- only after checking the function reads and writes the row's tenant only",
            )
        )
    return out


def _function_findings(catalog: Catalog, placements: dict[str, Placement]) -> list[Finding]:
    out: list[Finding] = []
    for fn in catalog.functions:
        if not fn.security_definer:
            continue
        touched = _touches(fn.source, catalog, None)
        if not touched:
            continue
        out.append(
            Finding(
                "security-definer",
                fn.signature,
                fn.name,
                f"SECURITY DEFINER, touches {', '.join(touched)}: runs on the coordinator, so each "
                "access is a distributed query, unless delegated to the worker of one tenant",
                _delegate_fix(fn),
            )
        )
    return out


def _delegate_fix(fn: Function) -> str:
    args = [a.strip().split()[0] for a in fn.identity_arguments.split(",") if a.strip()]
    tenant_arg = next((a for a in args if "tenant" in a), None)
    if tenant_arg is not None:
        return (
            f"SELECT create_distributed_function('{fn.signature}', '{tenant_arg}', "
            "colocate_with := 'kernel.audit_events');"
        )
    return f"-- {fn.signature} has no tenant argument: it stays on the coordinator (not delegated)"


def _rls_findings(catalog: Catalog, placements: dict[str, Placement]) -> list[Finding]:
    uses_guc = sorted(
        t.qualified_name
        for t in catalog.tables
        if placements.get(t.qualified_name, Placement("", "local", "")).how == "distributed"
        and any("current_setting" in (p.using or "") + (p.with_check or "") for p in t.policies)
    )
    if not uses_guc:
        return []
    roles = "; ".join(
        f"ALTER ROLE {r} SET citus.propagate_set_commands = 'local'" for r in RUNTIME_ROLES
    )
    return [
        Finding(
            "rls",
            "*",
            "tenant-guc",
            f"{len(uses_guc)} distributed tables have policies reading current_setting(): the "
            "workers see the tenant variable only if it is set with SET LOCAL inside the "
            "transaction and citus.propagate_set_commands = 'local' (citus PR #2906); "
            "set_config(..., true), which aibos/tenancy.py uses, is not propagated",
            f"{roles}; -- and set the tenant with SET LOCAL app.tenant_id = '...' (not set_config)",
        )
    ]


def build_plan(catalog: Catalog, *, governed: tuple[str, ...]) -> Plan:
    placements = _classify(catalog, governed)
    findings: list[Finding] = []
    for t in catalog.tables:
        if t.partition_of is not None:
            continue
        if placements[t.qualified_name].how == "distributed":
            findings += _key_findings(t, catalog)
        findings += _fk_findings(t, placements)
    findings += _trigger_findings(catalog, placements)
    findings += _function_findings(catalog, placements)
    findings += _rls_findings(catalog, placements)
    citus = any(e.name == "citus" for e in catalog.server.extensions)
    notes = (
        "Not run: the citus extension is not installed on this server; this plan is read from "
        "the catalog and the DDL below was never executed against a Citus cluster."
        if not citus
        else "The citus extension is installed here; the plan is still not applied by this command.",
    )
    return Plan(
        placements=tuple(sorted(placements.values(), key=lambda p: (p.how, p.table))),
        findings=tuple(sorted(findings, key=lambda f: f.key)),
        server_version=catalog.server.version,
        citus_installed=citus,
        notes=notes,
    )


def render_ddl(plan: Plan) -> str:
    lines = [f"-- {note}" for note in plan.notes]
    lines += ["", "-- 1. Fix the incompatibilities"]
    lines += [f"{f.fix}" for f in plan.findings]
    lines += ["", "-- 2. Reference tables"]
    lines += [f"SELECT create_reference_table('{p.table}');" for p in plan.of("reference")]
    lines += ["", "-- 3. Distributed tables (co-located by tenant_id)"]
    lines += [
        f"SELECT create_distributed_table('{p.table}', '{p.column}');"
        for p in plan.of("distributed")
    ]
    return "\n".join(lines) + "\n"
