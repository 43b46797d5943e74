"""One page per schema: its ER diagram and every table in full."""

from __future__ import annotations

from collections.abc import Sequence

from guardian.catalog import Column, Grant, Table
from guardian.schema_doc.diagrams import mermaid
from guardian.schema_doc.inputs import DocInputs, row_count_class
from guardian.schema_doc.markdown import GENERATED_NOTE, anchor, cell, code, table, yes_no

DOMAINS = {
    "kernel": (
        "Control plane",
        "Tenants, users and roles, API credentials, sessions, the service registry, the "
        "audit log and its seals.",
    ),
    "finance": (
        "Finance data plane",
        "Companies, chart of accounts, bank accounts, FX rates, journals, payments, approval "
        "matrices and approvals.",
    ),
    "config": (
        "Platform configuration",
        "Settings, policies, features, provider profiles and selection rules (read-only at "
        "runtime).",
    ),
}


def domain_title(schema: str) -> str:
    return DOMAINS.get(schema, (f"Schema {schema}", ""))[0]


def _grants(grants: Sequence[Grant]) -> str:
    return "; ".join(f"{g.grantee}: {', '.join(g.privileges)}" for g in grants)


def _column_constraints(t: Table, column: Column) -> str:
    # Per column only what reads as a property of the column: its part in the primary key,
    # a single-column UNIQUE, and the foreign keys it carries — without the tenant_id that
    # every tenant-scoped key leads with. Composite keys are spelled out under Constraints.
    parts = []
    for c in sorted(t.constraints, key=lambda c: (c.kind != "primary key", c.name)):
        if column.name not in c.columns:
            continue
        if c.kind == "primary key":
            parts.append("PK")
        elif c.kind == "unique" and c.columns == (column.name,):
            parts.append("UNIQUE")
        elif c.kind == "foreign key" and (
            column.name != "tenant_id" or c.columns == (column.name,)
        ):
            target = f"{c.referenced}({', '.join(c.referenced_columns)})"
            parts.append(f"FK → [`{target}`](#{anchor(c.referenced or '')})")
    if column.identity:
        parts.append(f"identity ({column.identity})")
    return ", ".join(dict.fromkeys(parts))


def _table_section(t: Table, inputs: DocInputs) -> list[str]:
    name = t.qualified_name
    out = [f'<a id="{anchor(name)}"></a>', "", f"### `{name}`", ""]
    purpose = t.comment or inputs.purposes.get(name)
    if purpose:
        source = "table comment" if t.comment else "model docstring"
        out += [f"**Purpose** ({source}): {cell(purpose)}", ""]
    rls = "not enabled"
    if t.rls_enabled:
        rls = "enabled and forced" if t.rls_forced else "enabled, **not forced**"
    facts = [
        ("Kind", t.kind),
        ("Owner", code(t.owner)),
        ("Row-level security", rls),
        ("Rows after migrate", row_count_class(inputs.row_counts.get(name))),
    ]
    if t.partition_key:
        facts.append(("Partitioned by", code(t.partition_key)))
    if t.partition_of:
        facts.append(("Partition of", f"`{t.partition_of}` {code(t.partition_bound)}"))
    out += table(["", ""], [(k, v) for k, v in facts])

    out += ["#### Columns", ""]
    out += table(
        ["#", "Column", "Type", "Nullable", "Default", "Keys", "Column grants"],
        [
            (
                str(i),
                code(c.name),
                code(c.type),
                "YES" if c.nullable else "NO",
                code(c.default) or (f"generated: {code(c.generated)}" if c.generated else ""),
                _column_constraints(t, c),
                cell(_grants(c.grants)),
            )
            for i, c in enumerate(t.columns, start=1)
        ],
    )

    others = [c for c in t.constraints if c.kind != "primary key"]
    if t.primary_key or others:
        out += ["#### Constraints", ""]
        out += table(
            ["Name", "Kind", "Definition", "Validated", "Deferrable"],
            [
                (
                    code(c.name),
                    c.kind,
                    code(c.definition),
                    yes_no(c.validated),
                    ("initially deferred" if c.initially_deferred else "yes")
                    if c.deferrable
                    else "no",
                )
                for c in t.constraints
            ],
        )

    out += ["#### Indexes", ""]
    if t.indexes:
        out += table(
            ["Name", "Columns", "Method", "Unique", "Partial", "Valid"],
            [
                (
                    code(i.name),
                    code(", ".join(i.columns))
                    + (f" INCLUDE {code(', '.join(i.include))}" if i.include else ""),
                    i.method,
                    "primary" if i.primary else yes_no(i.unique),
                    code(i.predicate),
                    yes_no(i.valid),
                )
                for i in t.indexes
            ],
        )
    else:
        out += ["None.", ""]

    out += ["#### Row-level security policies", ""]
    if t.policies:
        out += table(
            ["Policy", "Command", "Type", "Roles", "USING", "WITH CHECK"],
            [
                (
                    code(p.name),
                    p.command,
                    "permissive" if p.permissive else "restrictive",
                    cell(", ".join(p.roles)),
                    code(p.using),
                    code(p.with_check),
                )
                for p in t.policies
            ],
        )
    else:
        out += ["None." if not t.rls_enabled else "**None** (RLS enabled: every row hidden).", ""]

    out += ["#### Triggers", ""]
    if t.triggers:
        out += table(
            ["Trigger", "When", "Events", "Level", "Function", "Enabled"],
            [
                (
                    code(g.name),
                    g.timing + (" (constraint, deferred)" if g.initially_deferred else ""),
                    ", ".join(g.events),
                    g.level,
                    code(g.function),
                    g.enabled if g.enabled != "origin" else "yes",
                )
                for g in t.triggers
            ],
        )
    else:
        out += ["None.", ""]

    out += ["#### Grants", ""]
    out += table(
        ["Grantee", "Privileges"], [(code(g.grantee), ", ".join(g.privileges)) for g in t.grants]
    )

    out += ["#### Guardian findings", ""]
    findings = sorted(inputs.findings.get(name, ()), key=lambda f: (f.rule, f.level, f.message))
    if findings:
        out += table(
            ["Rule", "Level", "Finding"],
            [(code(f.rule), f.level, cell(f.message)) for f in findings],
        )
    else:
        out += ["None.", ""]
    return out


def render_schema_page(schema: str, inputs: DocInputs) -> str:
    catalog = inputs.catalog
    tables = catalog.tables_in(schema)
    title, description = DOMAINS.get(schema, (f"Schema {schema}", ""))
    info = next(s for s in catalog.schemas if s.name == schema)
    out = [f"# Schema `{schema}` — {title}", "", GENERATED_NOTE, ""]
    if description:
        out += [description, ""]
    out += [
        f"Owner {code(info.owner)}; schema privileges: {cell(_grants(info.grants))}. "
        f"{len(tables)} tables. Back to the [index](README.md).",
        "",
        "## ER diagram",
        "",
        "Foreign keys within the schema. Rows refer to other schemas only by a plain "
        "`tenant_id` UUID: there are no cross-schema foreign keys, by design.",
        "",
        "```mermaid",
        mermaid(tables, attributes=True, qualified=False).rstrip("\n"),
        "```",
        "",
        "## Tables",
        "",
    ]
    for t in tables:
        out += _table_section(t, inputs)
    return "\n".join(out).rstrip("\n") + "\n"
