"""Detections on the evaluated workload, each with the fix it recommends.

- ``optimizer.missing_index``: the advisor's chosen indexes (``optimizer.advisor``).
- ``optimizer.offset_pagination``: ``OFFSET`` in the parse tree; the depth from the capture
  when it saw literal depths, otherwise stated as unknown with its upper bound (rows in scope):
  pg_stat_statements folds every depth into one ``OFFSET $n`` entry.
- ``optimizer.seq_scan_large``: a sequential scan of a table of at least
  ``OPTIMIZER_LARGE_TABLE_ROWS`` rows in the base plan.
- ``optimizer.tenant_predicate``: a tenant table read or written without ``tenant_id`` in WHERE
  or JOIN (RLS still keeps other tenants' rows out, but the plan has no tenant key to use).
- ``optimizer.n_plus_one``: from the capture (``optimizer.nplusone``).
"""

from __future__ import annotations

import hashlib
import statistics
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from aibos.db.identifiers import ident
from optimizer.advisor import Advice, EvaluatedQuery, IndexChoice
from optimizer.capture import CodeLocation
from optimizer.nplusone import NPlusOneFinding
from optimizer.parsing import TENANT_COLUMN, TableRef
from optimizer.stats import TableStats
from optimizer.whatif import IndexSpec, plan_nodes

MISSING_INDEX = "optimizer.missing_index"
OFFSET_PAGINATION = "optimizer.offset_pagination"
SEQ_SCAN_LARGE = "optimizer.seq_scan_large"
TENANT_PREDICATE = "optimizer.tenant_predicate"
N_PLUS_ONE = "optimizer.n_plus_one"

# OFFSET is a finding at every depth, a warning once the rows it may skip reach this.
OFFSET_AT_SCALE = 1_000

MSG_INDEX = (
    "Index {spec} cuts the plan cost of {n} quer{ies} by up to {pct:.1f}% "
    "(workload weight {weight:.0f} ms, estimated size {size}); HypoPG what-if, generic plans."
)
MSG_OFFSET = (
    "OFFSET pagination on {table}: {depth}. Each page reads and discards every row before it; "
    "use keyset pagination (WHERE ({keys}) < (last row's) ORDER BY ... LIMIT n) on an index "
    "({index})."
)
MSG_SEQ_SCAN = "Sequential scan of {table} (~{rows:,.0f} rows) in the plan of this query; {fix}"
MSG_TENANT = (
    "Query on tenant table {table} without a tenant_id predicate: RLS still returns only the "
    "current tenant's rows, but the query has no tenant key to plan with and scans every "
    "tenant's rows. Add {predicate}."
)


@dataclass
class Finding:
    rule_id: str
    level: str  # SARIF level: "note", "warning", "error"
    title: str
    message: str
    key: str  # stable identity: same finding, same key, run after run
    table: str = ""
    location: CodeLocation | None = None
    ddl: str = ""
    migration: str = ""
    snippet: str = ""
    index_name: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule_id,
            "level": self.level,
            "title": self.title,
            "message": self.message,
            "key": self.key,
            "table": self.table,
            "location": str(self.location) if self.location else None,
            "ddl": self.ddl,
            "migration": self.migration,
            "snippet": self.snippet,
            "index_name": self.index_name,
            "evidence": self.evidence,
        }


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} kB"


def index_name(spec: IndexSpec) -> str:
    name = f"{spec.table.name}_{'_'.join(spec.columns)}_opt_idx"
    if len(name) > 63:  # PostgreSQL truncates identifiers at 63 bytes: keep them distinct
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:50]}_{digest}_idx"
    return name


def index_ddl(spec: IndexSpec, name: str) -> str:
    cols = ", ".join(ident(c) for c in spec.columns)
    schema = f"{ident(spec.table.schema)}." if spec.table.schema else ""
    return (
        "-- Outside a transaction. A failed earlier build leaves an INVALID index: drop it first.\n"
        f"SET lock_timeout = '{settings.OPTIMIZER_LOCK_TIMEOUT}';\n"
        f"DROP INDEX CONCURRENTLY IF EXISTS {schema}{ident(name)};  -- only if INVALID\n"
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {ident(name)} ON {spec.table.quoted} ({cols});"
    )


def index_migration(spec: IndexSpec, name: str) -> str:
    """A Django migration for the index: AddIndexConcurrently on the model when there is one,
    else idempotent RunSQL; non-atomic either way (CONCURRENTLY cannot run in a transaction)."""
    model = spec.table.model()
    if model is not None:
        by_column = {f.column: f.name for f in model._meta.concrete_fields}
        fields = [by_column.get(c, c) for c in spec.columns]
        return (
            "from django.contrib.postgres.operations import AddIndexConcurrently\n"
            "from django.db import migrations, models\n\n\n"
            "class Migration(migrations.Migration):\n"
            "    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction\n"
            f"    dependencies = [({model._meta.app_label!r}, '<latest migration>')]\n"
            "    operations = [\n"
            "        AddIndexConcurrently(\n"
            f"            {model._meta.model_name!r},\n"
            f"            models.Index(fields={fields!r}, name={name!r}),\n"
            "        ),\n"
            "    ]\n"
        )
    cols = ", ".join(f'"{c}"' for c in spec.columns)
    schema = f'"{spec.table.schema}".' if spec.table.schema else ""
    return (
        "from django.db import migrations\n\n\n"
        "class Migration(migrations.Migration):\n"
        "    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction\n"
        "    dependencies = [('<app>', '<latest migration>')]\n"
        "    operations = [\n"
        "        migrations.RunSQL(\n"
        f'            \'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON '
        f"{spec.table.quoted} ({cols})',\n"
        f"            reverse_sql='DROP INDEX CONCURRENTLY IF EXISTS {schema}\"{name}\"',\n"
        "        ),\n"
        "    ]\n"
    )


def index_findings(advice: Advice) -> list[Finding]:
    out = []
    for choice in advice.chosen:
        name = index_name(choice.spec)
        out.append(
            Finding(
                rule_id=MISSING_INDEX,
                level="warning",
                title=f"Add index {choice.spec}",
                message=MSG_INDEX.format(
                    spec=choice.spec,
                    n=len(choice.helped),
                    ies="y" if len(choice.helped) == 1 else "ies",
                    pct=100 * choice.reduction,
                    weight=choice.weight,
                    size=_size(choice.size_bytes),
                ),
                key=_key(MISSING_INDEX, choice.spec.table.qualified, *choice.spec.columns),
                table=choice.spec.table.qualified,
                ddl=index_ddl(choice.spec, name),
                migration=index_migration(choice.spec, name),
                index_name=name,
                evidence=_index_evidence(choice),
            )
        )
    return out


def _index_evidence(choice: IndexChoice) -> dict[str, Any]:
    return {
        "columns": list(choice.spec.columns),
        "size_bytes": choice.size_bytes,
        "reduction_pct": round(100 * choice.reduction, 1),
        "workload_weight_ms": round(choice.weight, 1),
        "write_share": round(choice.write_share, 3),
        "queries": [
            {**p, "calls": q.calls, "mean_ms": round(q.mean_ms, 3)}
            for p, (q, _, _) in zip(choice.plans, choice.helped, strict=True)
        ],
    }


def _location(e: EvaluatedQuery) -> CodeLocation | None:
    return e.query.locations[0] if e.query.locations else None


def offset_findings(
    evaluated: list[EvaluatedQuery], stats: dict[TableRef, TableStats]
) -> list[Finding]:
    out = []
    for e in evaluated:
        if not e.shape.has_offset:
            continue
        table, use = next(iter(e.shape.tables.items()))
        st = stats[table]
        scoped = st.has_tenant_column and (use.tenant_predicate or st.rls_forced)
        tenants = st.n_distinct.get(TENANT_COLUMN, 0) if scoped else 0
        in_scope = st.rows / tenants if tenants else st.rows
        offsets = e.query.offsets
        if offsets:
            depth = (
                f"depth seen {min(offsets)}..{max(offsets)} (median "
                f"{statistics.median(offsets):.0f}, {len(offsets)} calls), up to ~{in_scope:,.0f}"
                " rows in scope"
            )
            deepest = max(offsets)
        else:
            depth = (
                f"depth unknown (OFFSET is a parameter and pg_stat_statements merges depths); "
                f"up to ~{in_scope:,.0f} rows in scope"
            )
            deepest = int(in_scope)
        sort = [c for c, _ in use.sort] or ["created_at"]
        keys = [*([TENANT_COLUMN] if scoped else []), *sort, "id"]
        keys = list(dict.fromkeys(keys))
        index = ", ".join(keys)
        out.append(
            Finding(
                rule_id=OFFSET_PAGINATION,
                level="warning" if deepest >= OFFSET_AT_SCALE else "note",
                title=f"OFFSET pagination on {table.qualified}",
                message=MSG_OFFSET.format(
                    table=table.qualified, depth=depth, keys=", ".join([*sort, "id"]), index=index
                ),
                key=_key(OFFSET_PAGINATION, e.query.fingerprint),
                table=table.qualified,
                location=_location(e),
                ddl=index_ddl(
                    IndexSpec(table, tuple(keys)), index_name(IndexSpec(table, tuple(keys)))
                ),
                snippet=_keyset_snippet(sort),
                evidence={
                    "sql": e.query.sql,
                    "calls": e.query.calls,
                    "offsets_seen": sorted(set(offsets))[:20],
                    "rows_in_scope": round(in_scope),
                    "plan": e.base.plan,
                },
            )
        )
    return out


def _keyset_snippet(sort: list[str]) -> str:
    fields = ", ".join(repr(c) for c in [*sort, "id"])
    return (
        "# aibos.pagination: pages cost the same at any depth\n"
        "from aibos.pagination import KeysetPagination, KeysetPaginator\n\n"
        "class MyListView(APIView):\n"
        f"    paginator = KeysetPaginator(fields=({fields}), descending=True)\n"
        "# or by hand:\n"
        f"qs.filter(tenant_id=tenant.id).filter(Q(({sort[0]!r}, id) < last_key))"
        f".order_by({', '.join(repr('-' + c) for c in [*sort, 'id'])})[:limit]"
    )


def seq_scan_findings(
    evaluated: list[EvaluatedQuery], stats: dict[TableRef, TableStats], advice: Advice
) -> list[Finding]:
    large = settings.OPTIMIZER_LARGE_TABLE_ROWS
    by_name: dict[tuple[Any, Any], TableRef] = {(t.schema, t.name): t for t in stats}
    out = []
    for e in evaluated:
        for node in plan_nodes(e.base.plan):
            if node.get("Node Type") != "Seq Scan":
                continue
            table = by_name.get((node.get("Schema"), node.get("Relation Name"))) or next(
                (t for t in e.tables if t.name == node.get("Relation Name")), None
            )
            if table is None or table not in stats or stats[table].rows < large:
                continue
            fix = _seq_scan_fix(e, table, node, advice)
            out.append(
                Finding(
                    rule_id=SEQ_SCAN_LARGE,
                    level="warning",
                    title=f"Sequential scan of {table.qualified}",
                    message=MSG_SEQ_SCAN.format(
                        table=table.qualified, rows=stats[table].rows, fix=fix
                    ),
                    key=_key(SEQ_SCAN_LARGE, e.query.fingerprint, table.qualified),
                    table=table.qualified,
                    location=_location(e),
                    evidence={"sql": e.query.sql, "calls": e.query.calls, "plan": e.base.plan},
                )
            )
    return out


def _seq_scan_fix(e: EvaluatedQuery, table: TableRef, node: dict[str, Any], advice: Advice) -> str:
    for choice in advice.chosen:
        if choice.spec.table == table and any(
            q.fingerprint == e.query.fingerprint for q, _, _ in choice.helped
        ):
            return f"the suggested index {choice.spec} avoids it."
    use = e.shape.tables.get(table)
    if "Filter" not in node:
        return (
            "it has no predicate: add a WHERE (tenant_id first) or a LIMIT, or read it in batches."
        )
    if use is not None and not use.tenant_predicate:
        return "its filter is not selective enough for an index: add a tenant_id predicate."
    return "its filter keeps too many rows for an index to pay: narrow the predicate."


def tenant_predicate_findings(
    evaluated: list[EvaluatedQuery], stats: dict[TableRef, TableStats]
) -> list[Finding]:
    out = []
    for e in evaluated:
        for table, use in e.shape.tables.items():
            if not stats[table].has_tenant_column or use.tenant_predicate:
                continue
            model = table.model()
            predicate = (
                f"`.filter(tenant_id=tenant.id)` ({model.__name__} selectors take the tenant first)"
                if model
                else f"`{table.name}.tenant_id = %s` to the WHERE clause"
            )
            out.append(
                Finding(
                    rule_id=TENANT_PREDICATE,
                    level="warning",
                    title=f"No tenant_id predicate on {table.qualified}",
                    message=MSG_TENANT.format(table=table.qualified, predicate=predicate),
                    key=_key(TENANT_PREDICATE, e.query.fingerprint, table.qualified),
                    table=table.qualified,
                    location=_location(e),
                    evidence={"sql": e.query.sql, "calls": e.query.calls},
                )
            )
    return out


def n_plus_one_findings(found: list[NPlusOneFinding]) -> list[Finding]:
    return [
        Finding(
            rule_id=N_PLUS_ONE,
            level="warning",
            title=f"N+1 on {f.table}",
            message=f.message,
            key=_key(N_PLUS_ONE, f.fingerprint, str(f.location)),
            table=f.table,
            location=f.location,
            snippet=f".{f.fix}",
            evidence={
                "count": f.count,
                "total_ms": round(f.total_ms, 3),
                "source_sql": f.source_sql,
                "repeated_sql": f.repeated_sql,
            },
        )
        for f in found
    ]
