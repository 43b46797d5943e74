"""The configuration search of the index advisor (``optimizer.advisor`` prepares its input).

The objective is the workload's weighted remaining cost; greedy additions gated like dexter's,
a pruning and a swap pass, and an exhaustive pass over small candidate sets; an optional
storage budget bounds them all. The what-if plans are cached per query and configuration, so
the passes share their EXPLAINs.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations

from django.conf import settings

from optimizer.parsing import QueryShape, TableRef
from optimizer.stats import TableStats
from optimizer.whatif import IndexSpec, Plan, WhatIf
from optimizer.workload import WorkloadQuery

# The exhaustive pass tries every configuration of up to MAX_CONFIG indexes when there are at
# most MAX_EXHAUSTIVE candidates (C(16, <=3) = 696 configurations, plans cached per query).
MAX_CONFIG = 3
MAX_EXHAUSTIVE = 16


def _better(objective: float, size: int, other_objective: float, other_size: int) -> bool:
    """Lower weighted cost wins; within half the minimum gain, less storage wins."""
    if abs(objective - other_objective) < settings.OPTIMIZER_MIN_GAIN / 2:
        return size < other_size
    return objective < other_objective


@dataclass
class EvaluatedQuery:
    query: WorkloadQuery
    shape: QueryShape
    base: Plan
    matters: bool

    @property
    def tables(self) -> set[TableRef]:
        return set(self.shape.tables)


class Search:
    def __init__(
        self,
        whatif: WhatIf,
        evaluated: list[EvaluatedQuery],
        stats: dict[TableRef, TableStats],
        *,
        deadline: float,
        storage_budget: int | None = None,
    ) -> None:
        self.storage_budget = storage_budget
        self.whatif = whatif
        self.evaluated = evaluated
        self.stats = stats
        self.deadline = deadline
        self.total_weight = sum(e.query.weight for e in evaluated) or 1.0
        self.updated: dict[TableRef, set[str]] = defaultdict(set)
        for e in evaluated:
            for table, use in e.shape.tables.items():
                self.updated[table] |= set(use.updated)

    def cost(self, e: EvaluatedQuery, config: frozenset[IndexSpec]) -> float:
        relevant = frozenset(s for s in config if s.table in e.tables)
        plan = self.whatif.plan(e.query.sql, relevant) if relevant else e.base
        return plan.cost if plan else e.base.cost

    def objective(self, config: frozenset[IndexSpec]) -> float:
        """Weighted share of the base cost left: 1.0 with no index, lower is better."""
        return (
            sum(e.query.weight * self.cost(e, config) / e.base.cost for e in self.evaluated)
            / self.total_weight
        )

    def penalty(self, spec: IndexSpec) -> float:
        stats = self.stats[spec.table]
        factor = 1 - settings.OPTIMIZER_WRITE_PENALTY * stats.write_share
        if set(spec.columns) & self.updated[spec.table]:
            factor *= 1 - settings.OPTIMIZER_HOT_PENALTY
        return max(factor, 0.0)

    def passes_gate(self, spec: IndexSpec, config: frozenset[IndexSpec]) -> bool:
        """Cuts some query that matters by the minimum reduction, against ``config``."""
        for e in self.evaluated:
            if not e.matters or spec.table not in e.tables:
                continue
            now = self.cost(e, config)
            if now < settings.OPTIMIZER_MIN_COST:
                continue
            if self.cost(e, config | {spec}) <= now * (1 - settings.OPTIMIZER_MIN_REDUCTION):
                return True
        return False

    def gain(self, spec: IndexSpec, config: frozenset[IndexSpec]) -> float:
        return (self.objective(config) - self.objective(config | {spec})) * self.penalty(spec)

    def valid(self, config: frozenset[IndexSpec]) -> bool:
        """Every index earns its place: removing it loses the minimum gain once its write and
        HOT penalties are applied (as greedy's gain applies them), and it passes the gates
        against the others."""
        objective = self.objective(config)
        return all(
            (self.objective(config - {s}) - objective) * self.penalty(s)
            >= settings.OPTIMIZER_MIN_GAIN
            and self.passes_gate(s, config - {s})
            for s in config
        )

    def exhaustive(self, candidates: list[IndexSpec]) -> frozenset[IndexSpec] | None:
        """Every configuration of up to MAX_CONFIG candidates (within the storage budget), best
        objective first, then least storage; stops at the deadline with the best so far. Greedy
        can be trapped by its first pick (under a budget, a cheap index that blocks a better
        pair); this cannot, for the few candidates a table's workload yields."""
        best: tuple[float, int, frozenset[IndexSpec]] | None = None
        for k in range(1, MAX_CONFIG + 1):
            for combo in combinations(candidates, k):
                if time.monotonic() >= self.deadline:
                    return best[2] if best else None
                size = sum(self.whatif.size(c) for c in combo)
                if self.storage_budget is not None and size > self.storage_budget:
                    continue
                config = frozenset(combo)
                objective = self.objective(config)
                if best and not _better(objective, size, best[0], best[1]):
                    continue
                if self.valid(config):
                    best = (objective, size, config)
        return best[2] if best else None

    def run(self, candidates: list[IndexSpec]) -> frozenset[IndexSpec]:
        greedy = self.greedy(candidates)
        if len(candidates) > MAX_EXHAUSTIVE:
            return greedy
        found = self.exhaustive(candidates)
        if found is None:
            return greedy
        size = sum(self.whatif.size(c) for c in found)
        greedy_size = sum(self.whatif.size(c) for c in greedy)
        if _better(self.objective(found), size, self.objective(greedy), greedy_size):
            return found
        return greedy

    def greedy(self, candidates: list[IndexSpec]) -> frozenset[IndexSpec]:
        config: frozenset[IndexSpec] = frozenset()
        min_gain = settings.OPTIMIZER_MIN_GAIN
        # 1. Greedy: add the best gated candidate while it gains enough and time remains.
        while time.monotonic() < self.deadline:
            used = sum(self.whatif.size(c) for c in config)
            scored = [
                (self.gain(c, config), -self.whatif.size(c), c)
                for c in candidates
                if c not in config
                and (
                    self.storage_budget is None or used + self.whatif.size(c) <= self.storage_budget
                )
                and self.passes_gate(c, config)
            ]
            scored = [s for s in scored if s[0] >= min_gain]
            if not scored:
                break
            if self.storage_budget is None:
                best = max(scored, key=lambda s: (s[0], s[1]))
            else:  # under a storage budget, the gain per byte decides (as DTA's budgeted mode)
                best = max(scored, key=lambda s: s[0] / max(-s[1], 1))
            config = config | {best[2]}
        # 2. Prune: an index whose removal loses less than the minimum gain goes (a narrower
        #    one chosen early and then subsumed by a wider one, for instance).
        for spec in sorted(config, key=lambda s: len(s.columns)):
            rest = config - {spec}
            if self.objective(rest) - self.objective(config) < min_gain:
                config = rest
        # 3. Swap: a smaller candidate that keeps the objective (within the minimum gain)
        #    replaces a chosen index: same benefit, less storage and less write cost.
        for spec in sorted(config, key=str):
            if time.monotonic() >= self.deadline:
                break
            size = self.whatif.size(spec)
            base = self.objective(config)
            for other in candidates:
                if other in config or other.table != spec.table:
                    continue
                swapped = (config - {spec}) | {other}
                if (
                    self.whatif.size(other) < size
                    and self.objective(swapped) - base < min_gain / 2
                    and self.passes_gate(other, config - {spec})
                ):
                    config = swapped
                    break
        return config
