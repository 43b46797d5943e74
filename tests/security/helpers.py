"""Catalog queries and raw-SQL helpers shared by the security tests."""

from __future__ import annotations

from typing import Any

from django.db import connections

from aibos.db.roles import PLATFORM_ROLES, RUNTIME_ALIASES

GOVERNED_SCHEMAS = ("kernel", "finance", "config")


def fetchall(alias: str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    with connections[alias].cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def scalar(alias: str, sql: str, params: Any = None) -> Any:
    rows = fetchall(alias, sql, params)
    return rows[0][0]


def tenant_tables() -> list[str]:
    """Every table in a governed schema that has a tenant_id column, from the catalog."""
    rows = fetchall(
        "default",
        """
        SELECT format('%%I.%%I', c.table_schema, c.table_name)
        FROM information_schema.columns c
        JOIN information_schema.tables t USING (table_schema, table_name)
        WHERE c.table_schema = ANY(%s) AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE'
        ORDER BY 1
        """,
        [list(GOVERNED_SCHEMAS)],
    )
    return [r[0] for r in rows]


def alias_reading(table: str) -> str:
    """The runtime alias whose role may SELECT the table (its own schema's role)."""
    schema = table.split(".")[0]
    return schema if schema in RUNTIME_ALIASES else "kernel"


__all__ = ["PLATFORM_ROLES", "alias_reading", "fetchall", "scalar", "tenant_tables"]
