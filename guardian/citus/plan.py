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

from guardian.catalog.types import Catalog
from guardian.citus.keys import _fk_findings, _key_findings
from guardian.citus.model import (  # noqa: F401 - Finding and Plan are this module's API
    DISTRIBUTION_COLUMN,
    KEY_SHAPE_KINDS,
    RUNTIME_ROLES,
    Finding,
    Placement,
    Plan,
    _q,
)
from guardian.citus.runtime import _function_findings, _rls_findings, _trigger_findings


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
