"""SQL identifiers in SQL *text* (fix suggestions, reports, EXPLAIN of catalog names): quoted,
with an embedded quote doubled so a name cannot end its own quoting. Statements that run use
psycopg.sql.Identifier instead."""

from __future__ import annotations


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified_ident(schema: str | None, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}" if schema else ident(name)
