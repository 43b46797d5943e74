"""The workload the advisor weighs: normalised queries with their calls and mean time.

Two sources, one shape. ``pg_stat_statements`` when the server has it (every role, every
process, since the last reset); otherwise, or as well, the in-process capture of a request, a
test run or a command (``optimizer.capture``). Queries are grouped by pglast fingerprint, so one
template counts once with the sum of its calls; the weight is calls x mean time, the time the
template costs the server.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import psycopg
from django.conf import settings
from django.db import DatabaseError, connections, transaction

from optimizer.capture import CapturedQuery, CodeLocation
from optimizer.parsing import django_sql_to_dollar, fingerprint, parse

PGSS_NOT_LOADED = (
    "pg_stat_statements is not loaded, so the server-side workload is not read (a capture or "
    "workload file still is). To enable it: add pg_stat_statements to shared_preload_libraries "
    "(postgresql.conf, or ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'), "
    "restart PostgreSQL, run `manage.py migrate optimizer` (creates the extension when it is "
    "loaded) and GRANT pg_read_all_stats TO aibos_monitor_role so the monitor sees every "
    "role's statements. Managed providers: a parameter group (RDS, Cloud SQL flag "
    "cloudsql.enable_pg_stat_statements); Supabase and Neon have it on."
)
PGSS_NOT_CREATED = (
    "pg_stat_statements is loaded but the extension is not created in this database: run "
    "`manage.py migrate optimizer` as the owner, or CREATE EXTENSION pg_stat_statements."
)
PGSS_HIDDEN = (
    "{hidden} pg_stat_statements entries belong to other roles and show "
    "'<insufficient privilege>' to {role}: GRANT pg_read_all_stats TO {role}."
)
SOURCE_PGSS = "pg_stat_statements"
SOURCE_CAPTURE = "capture"
HIDDEN_TEXT = "<insufficient privilege>"


@dataclass
class WorkloadQuery:
    sql: str  # normalised, $n parameters
    fingerprint: str
    calls: int
    mean_ms: float
    source: str
    rows: int = 0
    # Literal OFFSET depths seen (capture only: pg_stat_statements merges every depth into one
    # `OFFSET $n` entry, so from it the depth is unknown).
    offsets: list[int] = field(default_factory=list)
    locations: list[CodeLocation] = field(default_factory=list)

    @property
    def weight(self) -> float:
        """Server time this template costs: calls x mean time (ms)."""
        return self.calls * self.mean_ms


@dataclass(frozen=True)
class PgssStatus:
    loaded: bool
    installed: bool
    message: str


def pgss_status(alias: str = "monitor") -> PgssStatus:
    with connections[alias].cursor() as cur:
        return pgss_status_on(cur, lambda: transaction.atomic(using=alias))


def pgss_status_on(cur: Any, savepoint: Callable[[], AbstractContextManager[Any]]) -> PgssStatus:
    """Whether pg_stat_statements can be read on this cursor's connection. The monitor role
    may not read shared_preload_libraries (that takes pg_read_all_settings), so when the
    extension exists the answer comes from a probe: reading the view fails unless the library
    is loaded. ``savepoint`` opens one (Django's atomic, or psycopg's transaction)."""
    cur.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements')")
    (installed,) = cur.fetchone()
    loaded = False
    try:
        with savepoint():
            if installed:
                cur.execute("SELECT 1 FROM pg_stat_statements LIMIT 1")
                loaded = True
            else:
                cur.execute("SELECT current_setting('shared_preload_libraries')")
                libraries = cur.fetchone()[0].replace(" ", "").split(",")
                loaded = "pg_stat_statements" in libraries
    except (DatabaseError, psycopg.Error):
        loaded = False
    if loaded and installed:
        return PgssStatus(True, True, "")
    return PgssStatus(loaded, installed, PGSS_NOT_CREATED if loaded else PGSS_NOT_LOADED)


def read_pg_stat_statements(
    alias: str = "monitor", *, min_calls: int | None = None, limit: int = 500
) -> tuple[list[WorkloadQuery], list[str]]:
    """The top templates of this database by total time, and notes on what could not be read."""
    with connections[alias].cursor() as cur:
        return read_pg_stat_statements_on(
            cur, lambda: transaction.atomic(using=alias), min_calls=min_calls, limit=limit
        )


def read_pg_stat_statements_on(
    cur: Any,
    savepoint: Callable[[], AbstractContextManager[Any]],
    *,
    min_calls: int | None = None,
    limit: int = 500,
) -> tuple[list[WorkloadQuery], list[str]]:
    min_calls = settings.OPTIMIZER_MIN_CALLS if min_calls is None else min_calls
    status = pgss_status_on(cur, savepoint)
    if not status.installed or not status.loaded:
        return [], [status.message]
    cur.execute(
        "SELECT query, calls, mean_exec_time, rows FROM pg_stat_statements "
        "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND calls >= %s ORDER BY total_exec_time DESC LIMIT %s",
        [min_calls, limit],
    )
    rows = cur.fetchall()
    cur.execute("SELECT current_user")
    (role,) = cur.fetchone()
    return pgss_rows_to_workload(rows, role=role)


def pgss_rows_to_workload(
    rows: Iterable[tuple[str, int, float, int]], *, role: str
) -> tuple[list[WorkloadQuery], list[str]]:
    """pg_stat_statements rows (query, calls, mean ms, rows) -> one entry per fingerprint.
    Entries another role's statements hide ('<insufficient privilege>') are counted, not read."""
    rows = list(rows)
    hidden = sum(1 for r in rows if r[0] == HIDDEN_TEXT)
    notes = [PGSS_HIDDEN.format(hidden=hidden, role=role)] if hidden else []
    merged: dict[str, WorkloadQuery] = {}
    for sql, calls, mean_ms, nrows in rows:
        if sql == HIDDEN_TEXT or parse(sql) is None:
            continue
        fp = fingerprint(sql)
        if fp in merged:  # one template, several entries (different roles or search paths)
            q = merged[fp]
            total = q.weight + calls * mean_ms
            q.calls += calls
            q.mean_ms = total / q.calls
            q.rows += nrows
        else:
            merged[fp] = WorkloadQuery(sql, fp, calls, mean_ms, SOURCE_PGSS, rows=nrows)
    return list(merged.values()), notes


def from_capture(queries: Iterable[CapturedQuery]) -> list[WorkloadQuery]:
    """Group captured queries by fingerprint; keep the literal OFFSET depths and where each
    template ran from."""
    groups: dict[str, list[CapturedQuery]] = {}
    for q in queries:
        groups.setdefault(q.fingerprint, []).append(q)
    out = []
    for fp, group in groups.items():
        first = group[0]
        shape = parse(first.dollar_sql)
        offsets: list[int] = []
        if shape is not None and shape.has_offset:
            for q in group:
                # Django writes LIMIT/OFFSET as literals: each query has its own depth.
                own = parse(q.dollar_sql) if shape.offset_literal is not None else shape
                if own is not None and own.offset_literal is not None:
                    offsets.append(own.offset_literal)
                elif own is not None and own.offset_param and len(q.params) >= own.offset_param:
                    value = q.params[own.offset_param - 1]
                    if isinstance(value, int):
                        offsets.append(value)
        locations = list(dict.fromkeys(q.location for q in group if q.location))
        out.append(
            WorkloadQuery(
                sql=first.dollar_sql,
                fingerprint=fp,
                calls=len(group),
                mean_ms=statistics.fmean(q.duration_ms for q in group),
                source=SOURCE_CAPTURE,
                offsets=offsets,
                locations=locations,
            )
        )
    return out


def from_sql(entries: Iterable[tuple[str, int, float]]) -> list[WorkloadQuery]:
    """A workload given as (sql, calls, mean ms): fixtures, benchmarks, a file. The SQL may use
    Django's %s or PostgreSQL's $n placeholders."""
    out: dict[str, WorkloadQuery] = {}
    for sql, calls, mean_ms in entries:
        dollar = django_sql_to_dollar(sql) if "%s" in sql else sql
        fp = fingerprint(dollar)
        shape = parse(dollar)
        offsets = [shape.offset_literal] if shape and shape.offset_literal is not None else []
        if fp in out:
            q = out[fp]
            total = q.weight + calls * mean_ms
            q.calls += calls
            q.mean_ms = total / q.calls
            q.offsets += offsets
        else:
            out[fp] = WorkloadQuery(dollar, fp, calls, mean_ms, "given", offsets=offsets)
    return list(out.values())


def merge(*workloads: Iterable[WorkloadQuery]) -> list[WorkloadQuery]:
    """One entry per fingerprint. pg_stat_statements is authoritative for calls and time (it sees
    every process); the capture adds what only it knows: OFFSET depths and code locations."""
    out: dict[str, WorkloadQuery] = {}
    for workload in workloads:
        for q in workload:
            if q.fingerprint not in out:
                out[q.fingerprint] = q
                continue
            kept = out[q.fingerprint]
            if q.source == SOURCE_PGSS and kept.source != SOURCE_PGSS:
                q.offsets, q.locations = kept.offsets, kept.locations
                out[q.fingerprint] = q
            else:
                kept.offsets += q.offsets
                kept.locations += [loc for loc in q.locations if loc not in kept.locations]
    return list(out.values())
