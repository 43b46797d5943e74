"""The live database: its catalog turned into the guardian's schema state, for two uses —
the base a migration plan is judged against (real table sizes and write rates), and
``guardian --live``, which judges every table as it stands."""

from __future__ import annotations

from collections.abc import Sequence

import pglast
from django.db.backends.base.base import BaseDatabaseWrapper

from ..catalog import Catalog, read_catalog
from ..config import GuardianConfig
from ..engine import analyse_state
from ..findings import Finding
from ..sql import normalize_expression, qualified, range_vars
from ..state import Column, ForeignKey, Index, Policy, SchemaState, Table, View


def stats_window_seconds(connection: BaseDatabaseWrapper) -> float:
    """Seconds the cumulative write counters cover (since the last stats reset or start)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT EXTRACT(epoch FROM now() - COALESCE(stats_reset, pg_postmaster_start_time()))"
            " FROM pg_stat_database WHERE datname = current_database()"
        )
        row = cur.fetchone()
    return max(float(row[0]) if row and row[0] is not None else 0.0, 1.0)


def _view_reads(definition: str) -> tuple[str, ...]:
    try:
        tree = pglast.parse_sql(definition)
    except pglast.parser.ParseError:
        return ()
    return tuple(sorted({qualified(rv) for rv in range_vars(tree) if rv.schemaname}))


def state_from_catalog(catalog: Catalog, window_seconds: float = 1.0) -> SchemaState:
    state = SchemaState()
    for t in catalog.tables:
        table = Table(
            schema=t.schema,
            name=t.name,
            owner=t.owner,
            rls_enabled=t.rls_enabled,
            rls_forced=t.rls_forced,
            rows=max(t.reltuples, float(t.stats.n_live_tup) if t.stats else 0.0, 0.0),
            writes_per_second=(
                (t.stats.n_tup_ins + t.stats.n_tup_upd + t.stats.n_tup_del) / window_seconds
                if t.stats
                else 0.0
            ),
            live=True,
        )
        for c in t.columns:
            table.columns[c.name] = Column(
                name=c.name, type=c.type, not_null=not c.nullable, default=c.default
            )
        for i in t.indexes:
            table.indexes.append(
                Index(name=i.name, columns=i.columns, unique=i.unique or i.primary)
            )
        for con in t.constraints:
            if con.kind == "foreign key" and con.referenced:
                table.foreign_keys.append(ForeignKey(con.name, con.columns, con.referenced))
            elif con.kind == "check":
                expr = con.definition.removeprefix("CHECK ").removesuffix(" NOT VALID")
                table.checks[con.name] = (expr.strip("()"), con.validated)
        for p in t.policies:
            table.policies[p.name] = Policy(
                name=p.name,
                command=p.command,
                roles=tuple(r.lower() if r == "PUBLIC" else r for r in p.roles),
                using=normalize_expression(p.using) if p.using else None,
                check=normalize_expression(p.with_check) if p.with_check else None,
            )
        for g in t.grants:
            table.grants[g.grantee] = set(g.privileges)
        state.tables[table.key] = table
    for v in catalog.views:
        state.views[v.qualified_name] = View(
            schema=v.schema,
            name=v.name,
            security_invoker=v.security_invoker,
            reads=_view_reads(v.definition),
            owner=v.owner,
        )
    return state


def live_state(
    connection: BaseDatabaseWrapper, schemas: Sequence[str] | None = None
) -> SchemaState:
    return state_from_catalog(read_catalog(connection, schemas), stats_window_seconds(connection))


def check_catalog(
    catalog: Catalog, config: GuardianConfig, window_seconds: float = 1.0
) -> list[Finding]:
    """Findings for the database as it stands (what ``schema_doc`` lists per table)."""
    return analyse_state(state_from_catalog(catalog, window_seconds), config)
