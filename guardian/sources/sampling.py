"""Third-normal-form hints from data: on a sample of a live table's rows, a non-key column that
determines another (every value of A goes with one value of B) suggests B belongs in A's own
table. Opt-in (``guardian --live --sample``): it reads rows, though only counts leave the server.

It sees the rows the connection sees: RLS applies to the reader as to anyone.
"""

from __future__ import annotations

from itertools import permutations

from django.db.backends.base.base import BaseDatabaseWrapper
from psycopg import sql

from ..config import GuardianConfig
from ..findings import Finding, Location
from ..rules import finding
from ..rules.design import DEPENDENCY, STANDARD
from ..sql import base_type
from ..state import SchemaState, Table

SAMPLE_TYPES = {
    "text",
    "character varying",
    "character",
    "integer",
    "smallint",
    "bigint",
    "uuid",
    "date",
}
MAX_COLUMNS = 8  # pairs grow as n*(n-1): 56 pair counts in one statement at most
MIN_GROUPS = 3  # A must take at least this many values for a dependency to mean anything


def _candidates(t: Table) -> list[str]:
    unique = {i.columns[0] for i in t.indexes if i.unique and len(i.columns) == 1}
    cols = [
        c.name
        for c in t.columns.values()
        if c.name not in STANDARD
        and c.name not in unique
        and not c.name.endswith("_id")  # references are keys of another table already
        and base_type(c.type) in SAMPLE_TYPES
        and not c.type.endswith("[]")
    ]
    return cols[:MAX_COLUMNS]


def sample_dependencies(
    connection: BaseDatabaseWrapper, state: SchemaState, config: GuardianConfig
) -> list[Finding]:
    out: list[Finding] = []
    n = config.thresholds.dependency_sample_rows
    for t in sorted(state.tables.values(), key=lambda t: t.key):
        cols = _candidates(t)
        if (
            len(cols) < 2
            or t.rows < n
            or (not config.is_tenant_scoped(t.key) and t.schema not in config.governed_schemas)
        ):
            continue
        singles = [sql.SQL("count(DISTINCT {})").format(sql.Identifier(c)) for c in cols]
        pairs = list(permutations(cols, 2))
        pair_counts = [
            sql.SQL("count(DISTINCT ({}, {}))").format(sql.Identifier(a), sql.Identifier(b))
            for a, b in pairs
        ]
        query = sql.SQL("SELECT count(*), {} FROM (SELECT * FROM {}.{} LIMIT {}) s").format(
            sql.SQL(", ").join(singles + pair_counts),
            sql.Identifier(t.schema),
            sql.Identifier(t.name),
            sql.Literal(n),
        )
        with connection.cursor() as cur:
            cur.execute(query.as_string(cur.connection))
            row = cur.fetchone()
        if row is None or not row[0]:
            continue
        rows, distinct = row[0], dict(zip(cols, row[1 : 1 + len(cols)], strict=True))
        for (a, b), together in zip(pairs, row[1 + len(cols) :], strict=True):
            da, db = distinct[a], distinct[b]
            # A -> B, non-trivially: A repeats (not a key), B varies, and A never pairs with two Bs.
            if MIN_GROUPS <= da <= rows // 2 and db > 1 and da > db and together == da:
                out.append(
                    finding(
                        DEPENDENCY,
                        f"in a sample of {rows:,} rows of {t.key}, {a} determines {b} ({da:,} "
                        f"values of {a}, each with one {b}): {b} may belong in a table keyed by {a}.",
                        f"{t.key}.{a}->{b}",
                        Location("catalog"),
                    )
                )
    return out
