"""The ER diagram: Mermaid (in the Markdown) and Graphviz (rendered to SVG when ``dot`` is
installed). Foreign keys are the relationships; there are none across schemas by design."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence

from guardian.catalog import Catalog, Constraint, Table

_SHORT_TYPES = {
    "timestamp with time zone": "timestamptz",
    "timestamp without time zone": "timestamp",
    "character varying": "varchar",
    "double precision": "float8",
    "time with time zone": "timetz",
}


def _mermaid_type(type_: str) -> str:
    # Mermaid attribute types are one word without commas: drop typmods, shorten the rest.
    base = re.sub(r"\(.*?\)", "", type_)
    base = _SHORT_TYPES.get(base, base)
    return re.sub(r"[^A-Za-z0-9_\[\]]", "_", base)


def _entity(table: Table, qualified: bool) -> str:
    name = f"{table.schema}__{table.name}" if qualified else table.name
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _key_marks(table: Table) -> dict[str, list[str]]:
    # As on the table pages: UK for single-column unique keys only, and no FK mark on the
    # tenant_id that every tenant-scoped composite key leads with.
    marks: dict[str, list[str]] = {}
    for constraint in table.constraints:
        columns = constraint.columns
        if constraint.kind == "primary key":
            mark = "PK"
        elif constraint.kind == "foreign key":
            mark = "FK"
            if len(columns) > 1:
                columns = tuple(c for c in columns if c != "tenant_id")
        elif constraint.kind == "unique" and len(columns) == 1:
            mark = "UK"
        else:
            continue
        for column in columns:
            if mark not in marks.setdefault(column, []):
                marks[column].append(mark)
    order = {"PK": 0, "FK": 1, "UK": 2}
    return {c: sorted(m, key=order.__getitem__) for c, m in marks.items()}


def _cardinality(table: Table, key: Constraint) -> str:
    # Parent side: exactly one when every key column is NOT NULL, else zero or one.
    required = all(not table.column(c).nullable for c in key.columns)
    parent = "||" if required else "|o"
    unique = any(
        c.kind in ("primary key", "unique") and c.columns == key.columns for c in table.constraints
    )
    return f"{parent}--{'o|' if unique else 'o{'}"


def mermaid(tables: Sequence[Table], *, attributes: bool, qualified: bool) -> str:
    lines = ["erDiagram"]
    known = {t.qualified_name: t for t in tables}
    for table in tables:
        if not attributes:
            continue
        marks = _key_marks(table)
        lines.append(f"    {_entity(table, qualified)} {{")
        for column in table.columns:
            keys = ",".join(marks.get(column.name, []))
            lines.append(
                f"        {_mermaid_type(column.type)} {column.name}" + (f" {keys}" if keys else "")
            )
        lines.append("    }")
    for table in tables:
        for key in table.foreign_keys:
            parent = known.get(key.referenced or "")
            if parent is None:
                continue  # outside the diagram (none by design; the conventions list any)
            label = ", ".join(key.columns)
            lines.append(
                f"    {_entity(parent, qualified)} {_cardinality(table, key)} "
                f'{_entity(table, qualified)} : "{label}"'
            )
    if not attributes:
        # Entities without relationships still belong in the overview.
        linked = {
            name
            for t in tables
            for k in t.foreign_keys
            if k.referenced in known
            for name in (t.qualified_name, k.referenced)
        }
        lines += [f"    {_entity(t, qualified)}" for t in tables if t.qualified_name not in linked]
    return "\n".join(lines) + "\n"


def _dot_id(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def graphviz(catalog: Catalog) -> str:
    """The Graphviz source: one cluster per schema, a node per table listing its columns."""
    lines = [
        "digraph schema {",
        '  graph [rankdir=LR, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=1.2];',
        '  node [shape=plaintext, fontname="Helvetica", fontsize=10];',
        '  edge [fontname="Helvetica", fontsize=8, arrowhead=crow, arrowtail=none];',
    ]
    for schema in catalog.schemas:
        tables = catalog.tables_in(schema.name)
        if not tables:
            continue
        lines.append(f"  subgraph {_dot_id('cluster_' + schema.name)} {{")
        lines.append(
            f'    label={_dot_id("schema " + schema.name)}; style=rounded; color="#888888";'
        )
        for table in tables:
            marks = _key_marks(table)
            rows = "".join(
                f'<tr><td align="left" port={_dot_id(c.name)}>{_html(c.name)}</td>'
                f'<td align="left"><font color="#555555">{_html(_mermaid_type(c.type))}'
                f"{' ' + ','.join(marks[c.name]) if c.name in marks else ''}</font></td></tr>"
                for c in table.columns
            )
            lines.append(
                f"    {_dot_id(table.qualified_name)} [label=<"
                '<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
                f'<tr><td colspan="2" bgcolor="#dde6f0"><b>{_html(table.qualified_name)}</b>'
                f"</td></tr>{rows}</table>>];"
            )
        lines.append("  }")
    names = {t.qualified_name for t in catalog.tables}
    for table in catalog.tables:
        for key in table.foreign_keys:
            if key.referenced in names:
                lines.append(
                    f"  {_dot_id(key.referenced or '')} -> {_dot_id(table.qualified_name)} "
                    f"[label={_dot_id(', '.join(key.columns))}];"
                )
    lines.append("}")
    return "\n".join(lines) + "\n"


def dot_version() -> str | None:
    """``dot - graphviz version 2.43.0 (0)`` -> ``2.43.0``; None without Graphviz."""
    dot = shutil.which("dot")
    if dot is None:
        return None
    out = subprocess.run([dot, "-V"], capture_output=True, text=True, check=True)  # noqa: S603
    match = re.search(r"version (\S+)", out.stderr + out.stdout)
    return match.group(1) if match else "unknown"


SVG_VERSION = re.compile(rb"<!-- Generated by graphviz version (\S+)")


def render_svg(source: str) -> bytes | None:
    """The SVG of the Graphviz source, or None when ``dot`` is not installed.

    dot's output is a function of the source and the Graphviz version (checked: two runs give
    the same bytes); the version is in the SVG's header comment, which ``schema_doc --check``
    reads to decide whether a committed SVG can be compared with a fresh rendering.
    """
    dot = shutil.which("dot")
    if dot is None:
        return None
    out = subprocess.run(  # noqa: S603
        [dot, "-Tsvg"], input=source.encode(), capture_output=True, check=True
    )
    return out.stdout
