"""Catalog and statistics reads the advisor needs: table sizes and write rates, existing
indexes and their use, column cardinality.

``pg_class``, ``pg_index`` and ``pg_stat_user_*`` are readable by every role; ``pg_stats`` shows
a column only to a role that may SELECT the table, which the what-if connection (the runtime
role of the table's schema) can.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import DatabaseError, transaction
from django.db.backends.utils import CursorWrapper

from aibos.db.identifiers import ident
from optimizer.parsing import TENANT_COLUMN, TableRef


@dataclass
class TableStats:
    table: TableRef
    rows: float  # pg_class.reltuples (-1 before the first ANALYZE is read as 0)
    bytes: int
    seq_scan: int
    idx_scan: int
    writes: int  # inserts + updates + deletes since the statistics were reset
    hot_updates: int
    has_tenant_column: bool
    # ENABLE + FORCE row-level security: the runtime role's every query carries the policy's
    # tenant predicate even when its text does not.
    rls_forced: bool = False
    columns: set[str] = field(default_factory=set)
    indexes: list[ExistingIndex] = field(default_factory=list)
    n_distinct: dict[str, float] = field(default_factory=dict)  # column -> distinct values

    @property
    def write_share(self) -> float:
        """Writes among statements touching the table (scans count reads): 0 read-only, 1 all
        writes. A rough rate, but the one a running server gives for free."""
        total = self.writes + self.seq_scan + self.idx_scan
        return self.writes / total if total else 0.0


@dataclass(frozen=True)
class ExistingIndex:
    name: str
    columns: tuple[str, ...]  # key columns; an expression column is "<expr>"
    valid: bool
    unique: bool
    btree: bool
    partial: bool
    idx_scan: int


def table_stats(cursor: CursorWrapper, tables: Iterable[TableRef]) -> dict[TableRef, TableStats]:
    out: dict[TableRef, TableStats] = {}
    for table in tables:
        cursor.execute(
            "SELECT c.oid, greatest(c.reltuples, 0), pg_total_relation_size(c.oid), "
            "coalesce(s.seq_scan, 0), coalesce(s.idx_scan, 0), "
            "coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0), coalesce(s.n_tup_hot_upd, 0), "
            "EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid "
            "        AND a.attname = %s AND NOT a.attisdropped), "
            "c.relrowsecurity AND c.relforcerowsecurity, "
            "array(SELECT attname FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 "
            "      AND NOT attisdropped) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relname = %s AND n.nspname = coalesce(%s, current_schema()) "
            "AND c.relkind IN ('r', 'p')",
            [TENANT_COLUMN, table.name, table.schema],
        )
        row = cursor.fetchone()
        if row is None:
            continue
        oid, rows, size, seq, idx, writes, hot, tenant, rls, columns = row
        stats = TableStats(
            table, float(rows), int(size), seq, idx, writes, hot, tenant, rls, set(columns)
        )
        cursor.execute(
            "SELECT i.relname, "
            "array(SELECT coalesce(a.attname, '<expr>') FROM unnest(x.indkey[0:x.indnkeyatts-1]) "
            "      WITH ORDINALITY k(attnum, ord) "
            "      LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum "
            "      ORDER BY k.ord), "
            "x.indisvalid, x.indisunique, am.amname = 'btree', x.indpred IS NOT NULL, "
            "coalesce(s.idx_scan, 0) "
            "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
            "JOIN pg_am am ON am.oid = i.relam "
            "LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid "
            "WHERE x.indrelid = %s ORDER BY i.relname",
            [oid],
        )
        stats.indexes = [
            ExistingIndex(name, tuple(cols), valid, unique, btree, partial, scans)
            for name, cols, valid, unique, btree, partial, scans in cursor.fetchall()
        ]
        cursor.execute(
            "SELECT attname, n_distinct FROM pg_stats WHERE schemaname = coalesce(%s, "
            "current_schema()) AND tablename = %s",
            [table.schema, table.name],
        )
        for column, n_distinct in cursor.fetchall():
            # Negative: a fraction of the rows (-1 = unique).
            stats.n_distinct[column] = (
                -n_distinct * stats.rows if n_distinct < 0 else float(n_distinct)
            )
        if not stats.n_distinct and stats.rows:
            _planner_n_distinct(cursor, table, stats)
        out[table] = stats
    return out


def _planner_n_distinct(cursor: CursorWrapper, table: TableRef, stats: TableStats) -> None:
    """pg_stats hides the statistics of a table with row-level security from a role subject to
    it (they could leak other tenants' values), and every tenant table has it. The planner
    still uses them: the estimated groups of ``GROUP BY col`` over the rows the scan keeps
    (after the policy's filter) give each column's distinct share, scaled to the table."""
    for column in sorted(stats.columns):
        try:
            # A savepoint: a column of a type without equality (json) cannot be grouped.
            with transaction.atomic(using=cursor.db.alias):
                cursor.execute(
                    f"EXPLAIN (FORMAT JSON) SELECT {ident(column)} FROM {table.quoted} "
                    f"GROUP BY {ident(column)}"
                )
                raw = cursor.fetchone()[0]
        except DatabaseError:
            continue
        plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
        scans = [n for n in _nodes(plan) if "Scan" in n.get("Node Type", "")]
        kept = scans[0].get("Plan Rows", 0) if scans else 0
        if kept:
            stats.n_distinct[column] = min(plan["Plan Rows"] / kept, 1.0) * stats.rows


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", ()) for n in _nodes(child))]


def covered_by_existing(columns: tuple[str, ...], indexes: Iterable[ExistingIndex]) -> str | None:
    """The valid, non-partial btree whose leading columns are ``columns`` (pghero's rule)."""
    for index in indexes:
        usable = index.valid and index.btree and not index.partial
        if usable and index.columns[: len(columns)] == columns:
            return index.name
    return None
