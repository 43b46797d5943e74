"""Key shapes Citus needs: primary and unique keys that include tenant_id, a non-null
tenant_id, and foreign keys that stay on one shard (or point at a reference table)."""

from __future__ import annotations

from guardian.catalog.types import Catalog, Constraint, Table
from guardian.citus.model import DISTRIBUTION_COLUMN, Finding, Placement, _q


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
