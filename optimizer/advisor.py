"""The index advisor: a search over index *configurations*, proven by HypoPG what-if plans.

Where it differs from dexter and Postgres MCP Pro (docs/optimizer.md has the long form):

- **Weights.** A query counts by the server time it costs (calls x mean time), not once.
- **Columns ordered on purpose.** ``tenant_id`` first whenever the query is scoped to a tenant
  (explicitly, or by the forced RLS policy the runtime role runs under), then the equality
  columns, most selective first, then one range column, else the sort. One ordering per
  column set, chosen, not one permutation picked arbitrarily.
- **Configurations, not single indexes.** Greedy additions (the best gain each round) under a
  time budget, then a pruning pass (an index made redundant by a later, wider one goes) and a
  swap pass (a narrower index that serves the same queries replaces a wider one); and, when a
  table's workload yields few candidates, every configuration of up to three of them, so a
  first greedy pick cannot trap the search (under a storage budget it would).
- **Gates** (dexter's, kept): a candidate enters only if it cuts a query that matters (base cost
  >= ``OPTIMIZER_MIN_COST``, weight >= ``OPTIMIZER_MIN_WEIGHT_SHARE`` of the workload) by at
  least ``OPTIMIZER_MIN_REDUCTION`` against the configuration so far.
- **Writes cost.** The gain on a write-heavy table is discounted by its write share, and more
  when the index covers a column the workload UPDATEs (it would end HOT updates).
- **Never a duplicate.** A candidate that is a leading prefix of a valid btree index already on
  the table is dropped (pghero's coverage rule).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from optimizer.parsing import TENANT_COLUMN, TableRef, TableUse, parse
from optimizer.search import EvaluatedQuery, Search
from optimizer.stats import TableStats, covered_by_existing
from optimizer.whatif import IndexSpec, Plan, WhatIf
from optimizer.workload import WorkloadQuery

MAX_WIDTH = 3


@dataclass
class IndexChoice:
    spec: IndexSpec
    size_bytes: int
    # Per query it serves: (query, cost without this index, cost with the final configuration).
    helped: list[tuple[WorkloadQuery, float, float]]
    plans: list[dict[str, Any]]  # [{"fingerprint", "before", "after"}] for the evidence
    weight: float  # workload weight of the queries it serves
    write_share: float

    @property
    def reduction(self) -> float:
        """The best cost reduction (0..1) among the queries it serves."""
        return max((1 - after / before for _, before, after in self.helped if before), default=0)


@dataclass
class Advice:
    chosen: list[IndexChoice]
    skipped: list[tuple[str, str]]  # (candidate or query, why)
    evaluated: list[EvaluatedQuery]
    cost_before: float  # sum over the workload of calls x plan cost
    cost_after: float
    seconds: float
    explains: int
    notes: list[str] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(c.size_bytes for c in self.chosen)


def _tenant_scoped(use: TableUse, stats: TableStats) -> bool:
    return stats.has_tenant_column and (use.tenant_predicate or stats.rls_forced)


def ordered_columns(use: TableUse, stats: TableStats) -> list[str]:
    """The one column order we propose for what the query asks of this table: tenant, then
    equality (most selective first), then one range column, else the sort."""
    known = stats.columns
    eq = [c for c in dict.fromkeys(use.equality + use.join) if c in known and c != TENANT_COLUMN]
    eq.sort(key=lambda c: -stats.n_distinct.get(c, 0))
    cols = ([TENANT_COLUMN] if _tenant_scoped(use, stats) else []) + eq
    ranges = [c for c in use.range if c in known and c not in cols]
    if ranges:
        cols.append(ranges[0])
    elif use.sort and all(c in known for c, _ in use.sort):
        cols += [c for c, _ in use.sort if c not in cols]
    return cols[:MAX_WIDTH]


def candidates_for(use: TableUse, stats: TableStats) -> list[tuple[str, ...]]:
    cols = ordered_columns(use, stats)
    lead = [TENANT_COLUMN] if cols[:1] == [TENANT_COLUMN] else []
    out = [tuple(cols[:n]) for n in range(1, len(cols) + 1)]
    # Each other column on its own (behind the tenant when scoped): a selective key may need
    # nothing else, and a narrower index costs less to store and to write.
    for column in cols[len(lead) :]:
        out.append((*lead, column))
    # A very selective equality key alone, even on a tenant-scoped table: a handful of rows per
    # value leaves nothing for tenant_id to narrow, and the index is a third the size. The
    # search keeps it only where the what-if shows the same gain (the swap pass).
    for column in cols[len(lead) :]:
        if column in use.equality and stats.n_distinct.get(column, 0) >= stats.rows / 10 > 0:
            out.append((column,))
    return list(dict.fromkeys(c for c in out if c))


def advise(
    *,
    whatif: WhatIf,
    workload: Sequence[WorkloadQuery],
    stats: dict[TableRef, TableStats],
    budget_seconds: float | None = None,
    storage_budget: int | None = None,
    base_plans: Callable[[WorkloadQuery], Plan | None] | None = None,
) -> Advice:
    """Choose an index configuration for ``workload`` (queries of one connection's schema).

    ``stats`` must cover the tables of the workload (``optimizer.stats.table_stats``)."""
    start = time.monotonic()
    budget = settings.OPTIMIZER_SEARCH_SECONDS if budget_seconds is None else budget_seconds
    skipped: list[tuple[str, str]] = []
    evaluated: list[EvaluatedQuery] = []
    total_weight = sum(q.weight for q in workload) or 1.0
    for q in workload:
        shape = parse(q.sql)
        if shape is None or shape.kind not in ("select", "update", "delete") or not shape.tables:
            continue
        if not all(t in stats for t in shape.tables):
            skipped.append((q.sql[:80], "names a table the catalog does not show"))
            continue
        base = base_plans(q) if base_plans else whatif.plan(q.sql)
        if base is None or base.cost <= 0:
            skipped.append((q.sql[:80], "could not be planned"))
            continue
        matters = (
            base.cost >= settings.OPTIMIZER_MIN_COST
            and q.weight / total_weight >= settings.OPTIMIZER_MIN_WEIGHT_SHARE
        )
        evaluated.append(EvaluatedQuery(q, shape, base, matters))

    candidates: list[IndexSpec] = []
    if whatif.hypopg:
        seen: set[IndexSpec] = set()
        for e in evaluated:
            if not e.matters:
                continue
            for table, use in e.shape.tables.items():
                for cols in candidates_for(use, stats[table]):
                    spec = IndexSpec(table, cols)
                    if spec in seen:
                        continue
                    seen.add(spec)
                    existing = covered_by_existing(cols, stats[table].indexes)
                    if existing:
                        skipped.append((str(spec), f"leading prefix of existing index {existing}"))
                    else:
                        candidates.append(spec)

    search = Search(
        whatif, evaluated, stats, deadline=start + budget, storage_budget=storage_budget
    )
    config = search.run(candidates) if candidates else frozenset()
    notes = [] if time.monotonic() < start + budget else ["the search ran out of time budget"]

    chosen = []
    for spec in sorted(config, key=str):
        without = config - {spec}
        helped, plans = [], []
        for e in evaluated:
            if spec.table not in e.tables:
                continue
            before, after = search.cost(e, without), search.cost(e, config)
            if after < before:
                helped.append((e.query, before, after))
                relevant = frozenset(s for s in config if s.table in e.tables)
                plan_after = whatif.plan(e.query.sql, relevant)
                plans.append(
                    {
                        "fingerprint": e.query.fingerprint,
                        "sql": e.query.sql,
                        "cost_before": round(e.base.cost, 2),
                        "cost_after": round(after, 2),
                        "plan_before": e.base.plan,
                        "plan_after": plan_after.plan if plan_after else None,
                    }
                )
        chosen.append(
            IndexChoice(
                spec=spec,
                size_bytes=whatif.size(spec),
                helped=helped,
                plans=plans,
                weight=sum(q.weight for q, _, _ in helped),
                write_share=stats[spec.table].write_share,
            )
        )
    for spec in candidates:
        if spec not in config:
            skipped.append((str(spec), "below the gates (cost reduction, weight) or not needed"))
    chosen.sort(key=lambda c: -c.weight)
    return Advice(
        chosen=chosen,
        skipped=skipped,
        evaluated=evaluated,
        cost_before=sum(e.query.calls * e.base.cost for e in evaluated),
        cost_after=sum(e.query.calls * search.cost(e, config) for e in evaluated),
        seconds=time.monotonic() - start,
        explains=whatif.explains,
        notes=notes,
    )


def workload_cost(
    whatif: WhatIf, workload: Sequence[WorkloadQuery], config: Sequence[IndexSpec]
) -> float:
    """Sum of calls x plan cost with ``config`` hypothetically present (for side-by-sides)."""
    total = 0.0
    for q in workload:
        shape = parse(q.sql)
        if shape is None:
            continue
        relevant = frozenset(s for s in config if s.table in shape.tables)
        plan = whatif.plan(q.sql, relevant)
        total += q.calls * plan.cost if plan else 0.0
    return total
