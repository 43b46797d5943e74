"""HypoPG what-if plans: the planner's cost of a query with indexes that do not exist.

Everything for one what-if runs on **one connection** inside one transaction: hypothetical
indexes live in the backend that created them, so behind a transaction-mode pooler a create and
an EXPLAIN on different statements' connections would see different worlds. Normalised queries
(``$n`` parameters, as pg_stat_statements and the capture give them) are planned as *generic*
plans: ``PREPARE`` plus ``SET LOCAL plan_cache_mode = force_generic_plan`` (PostgreSQL 15;
``EXPLAIN (GENERIC_PLAN)`` exists only from 16 and PREPARE works on both).

The connection is the runtime role of the query's schema: it may read the tables (EXPLAIN needs
SELECT), it is subject to the same RLS policy as the application, so the plans include the
tenant predicate the policy adds, and ``hypopg_create_index`` needs nothing more than EXECUTE,
which HypoPG grants to PUBLIC. The owner is never used for a what-if.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pglast
from django.db import DatabaseError, connections, transaction
from django.db.backends.utils import CursorWrapper
from pglast import ast

from aibos.db.identifiers import ident
from optimizer.parsing import TableRef

HYPOPG_MISSING = (
    "HypoPG is not available on this server, so index suggestions cannot be proven and none "
    "are made. Install it (Debian/Ubuntu: apt-get install postgresql-{major}-hypopg; most "
    "managed providers list it as an extension) and run `manage.py migrate optimizer`, which "
    "creates the extension when the server offers it."
)
HYPOPG_NOT_CREATED = (
    "HypoPG is installed on the server but the extension is not created in this database: run "
    "`manage.py migrate optimizer` as the owner (or CREATE EXTENSION hypopg as a superuser)."
)
_PARAM = re.compile(r"\$(\d+)")
_STATEMENT = "aibos_optimizer_whatif"


@dataclass(frozen=True)
class HypoPGStatus:
    available: bool  # the server offers the extension
    installed: bool  # CREATE EXTENSION ran in this database
    version: str | None
    message: str  # what to do, when not installed

    @property
    def usable(self) -> bool:
        return self.installed


def hypopg_status(alias: str) -> HypoPGStatus:
    with connections[alias].cursor() as cur:
        cur.execute(
            "SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'hypopg'), "
            "(SELECT extversion FROM pg_extension WHERE extname = 'hypopg'), "
            "current_setting('server_version_num')::int / 10000"
        )
        available, installed, major = cur.fetchone()
    if installed:
        return HypoPGStatus(True, True, installed, "")
    message = HYPOPG_NOT_CREATED if available else HYPOPG_MISSING.format(major=major)
    return HypoPGStatus(bool(available), False, None, message)


_PLANNABLE = (ast.SelectStmt, ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)


def single_dml(sql: str) -> bool:
    try:
        statements = pglast.parse_sql(sql)
    except pglast.parser.ParseError:
        return False
    return len(statements) == 1 and isinstance(statements[0].stmt, _PLANNABLE)


@dataclass(frozen=True)
class IndexSpec:
    table: TableRef
    columns: tuple[str, ...]

    def create_sql(self) -> str:
        cols = ", ".join(ident(c) for c in self.columns)
        return f"CREATE INDEX ON {self.table.quoted} ({cols})"

    def __str__(self) -> str:
        return f"{self.table.qualified} ({', '.join(self.columns)})"


@dataclass(frozen=True)
class Plan:
    cost: float
    plan: dict[str, Any]  # EXPLAIN (FORMAT JSON)'s "Plan"


class WhatIf:
    """Costs of queries under hypothetical index configurations, on one connection."""

    def __init__(self, cursor: CursorWrapper, *, hypopg: bool) -> None:
        self.cursor = cursor
        self.hypopg = hypopg
        self._config: frozenset[IndexSpec] = frozenset()
        self._oids: dict[IndexSpec, int] = {}
        self._cache: dict[tuple[str, frozenset[IndexSpec]], Plan | None] = {}
        self.explains = 0

    def _use(self, config: frozenset[IndexSpec]) -> None:
        if config == self._config:
            return
        self.cursor.execute("SELECT hypopg_reset()")
        self._oids = {}
        for spec in sorted(config, key=str):
            self.cursor.execute(
                "SELECT indexrelid FROM hypopg_create_index(%s)", [spec.create_sql()]
            )
            self._oids[spec] = self.cursor.fetchone()[0]
        self._config = config

    def size(self, spec: IndexSpec) -> int:
        """Estimated size in bytes of the hypothetical index."""
        self._use(self._config | {spec})
        self.cursor.execute("SELECT hypopg_relation_size(%s)", [self._oids[spec]])
        return int(self.cursor.fetchone()[0])

    def plan(
        self, sql: str, config: Sequence[IndexSpec] | frozenset[IndexSpec] = ()
    ) -> Plan | None:
        """The generic plan of ``sql`` with ``config`` hypothetically present (None if the
        query cannot be planned here, e.g. it names a temporary table)."""
        key = (sql, frozenset(config))
        if key in self._cache:
            return self._cache[key]
        if not single_dml(sql):
            # PREPARE … AS <text> would run every statement of a multi-statement string, as the
            # runtime role: a workload entry is planned only if it is one SELECT/INSERT/UPDATE/
            # DELETE (which PREPARE plans and never executes).
            self._cache[key] = None
            return None
        if config and not self.hypopg:
            raise RuntimeError("what-if indexes need HypoPG")
        if self.hypopg:
            self._use(frozenset(config))
        nparams = max((int(n) for n in _PARAM.findall(sql)), default=0)
        result: Plan | None = None
        # A name per statement: PREPARE is not transactional, so a statement whose EXPLAIN
        # failed (and rolled its savepoint back) still exists and is deallocated below.
        name = f"{_STATEMENT}_{self.explains}"
        prepared = False
        try:
            # A savepoint: one query that fails to plan must not abort the what-if session.
            with transaction.atomic(using=self.cursor.db.alias):
                self.cursor.execute(f"PREPARE {name} AS {sql}")
                prepared = True
                args = f"({', '.join(['NULL'] * nparams)})" if nparams else ""
                self.cursor.execute(f"EXPLAIN (FORMAT JSON) EXECUTE {name}{args}")
                raw = self.cursor.fetchone()[0]
            doc = raw if isinstance(raw, list) else json.loads(raw)
            top = doc[0]["Plan"]
            result = Plan(float(top["Total Cost"]), top)
        except DatabaseError:
            result = None
        if prepared:
            self.cursor.execute(f"DEALLOCATE {name}")
        self.explains += 1
        self._cache[key] = result
        return result


@contextmanager
def what_if_session(alias: str) -> Iterator[WhatIf]:
    """A what-if session on ``alias``: one connection, one transaction, generic plans; the
    hypothetical indexes are dropped when it ends."""
    status = hypopg_status(alias)
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        session = WhatIf(cur, hypopg=status.usable)
        try:
            yield session
        finally:
            if status.usable:
                cur.execute("SELECT hypopg_reset()")


def plan_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from plan_nodes(child)


def indexes_used(plan: dict[str, Any]) -> set[str]:
    return {n["Index Name"] for n in plan_nodes(plan) if "Index Name" in n}
