"""N+1 detection within one request or test, on the captured queries (Sentry's criteria).

A finding is one fingerprint repeated at least ``OPTIMIZER_NPLUSONE_MIN_REPEATS`` times (5, as
Sentry) after a *source* query, a different statement that ran before the first repeat (the list
the loop walks). Repeats of the source itself (a paginated loop) are not N+1. The fix is named
from the repeated statement: a lookup by primary key is a forward foreign key
(``select_related``), a lookup by another column is a reverse relation (``prefetch_related``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings

from optimizer.capture import Capture, CapturedQuery, CodeLocation, capture_queries
from optimizer.parsing import TENANT_COLUMN, parse

N_PLUS_ONE = (
    "N+1: {count} queries of one shape on {table} at {location}, one per row of the query "
    "before them; load them with the list: {fix}."
)


class NPlusOneDetected(AssertionError):
    """Raised in test mode (``forbid_n_plus_one``) when a block runs an N+1."""


@dataclass(frozen=True)
class NPlusOneFinding:
    fingerprint: str
    count: int
    total_ms: float
    table: str
    location: CodeLocation | None
    source_sql: str
    repeated_sql: str
    fix: str  # e.g. "select_related('role')"

    @property
    def message(self) -> str:
        return N_PLUS_ONE.format(
            count=self.count, table=self.table, location=self.location or "?", fix=self.fix
        )


def _suggest(source: CapturedQuery, repeated: CapturedQuery) -> tuple[str, str]:
    """(table, fix) for the repeated query, naming the relation when the models say it."""
    shape, src = parse(repeated.dollar_sql), parse(source.dollar_sql)
    if shape is None or not shape.tables:
        return "?", "select_related / prefetch_related"
    table, use = next(iter(shape.tables.items()))
    target = table.model()
    keys = [c for c in use.equality if c != TENANT_COLUMN]
    source_models = [m for m in (t.model() for t in (src.tables if src else {})) if m]
    if target is not None and keys:
        pk = target._meta.pk.column if target._meta.pk else "id"
        for model in source_models:
            for f in model._meta.get_fields():
                related = getattr(f, "related_model", None)
                if related is not target:
                    continue
                if keys[0] == pk and (f.many_to_one or (f.one_to_one and not f.auto_created)):
                    return table.qualified, f"select_related({f.name!r})"
                if keys[0] != pk and (f.one_to_many or f.many_to_many):
                    return table.qualified, f"prefetch_related({f.get_accessor_name()!r})"
        if keys[0] == pk:
            return table.qualified, "select_related(<the foreign key>)"
    return table.qualified, "prefetch_related(<the reverse relation>)"


def detect(
    queries: Sequence[CapturedQuery],
    *,
    min_repeats: int | None = None,
    min_total_ms: float | None = None,
) -> list[NPlusOneFinding]:
    min_repeats = min_repeats or settings.OPTIMIZER_NPLUSONE_MIN_REPEATS
    min_total_ms = settings.OPTIMIZER_NPLUSONE_MIN_MS if min_total_ms is None else min_total_ms
    first_seen: dict[str, int] = {}
    groups: dict[str, list[CapturedQuery]] = {}
    for i, q in enumerate(queries):
        first_seen.setdefault(q.fingerprint, i)
        groups.setdefault(q.fingerprint, []).append(q)
    findings = []
    for fp, group in groups.items():
        if len(group) < min_repeats or sum(q.duration_ms for q in group) < min_total_ms:
            continue
        start = first_seen[fp]
        # The source: the nearest earlier statement of another shape that reads rows.
        source = next(
            (
                q
                for q in reversed(queries[:start])
                if q.fingerprint != fp and q.sql.lstrip().upper().startswith("SELECT")
            ),
            None,
        )
        if source is None:
            continue
        table, fix = _suggest(source, group[0])
        findings.append(
            NPlusOneFinding(
                fingerprint=fp,
                count=len(group),
                total_ms=sum(q.duration_ms for q in group),
                table=table,
                location=group[0].location,
                source_sql=source.sql,
                repeated_sql=group[0].sql,
                fix=fix,
            )
        )
    return findings


@contextmanager
def forbid_n_plus_one(aliases: Sequence[str] | None = None) -> Iterator[Capture]:
    """Test mode: raise :class:`NPlusOneDetected` if the block runs an N+1 (as nplusone's
    ``NPLUSONE_RAISE`` and zen-queries do), naming the line and the fix."""
    with capture_queries(aliases) as capture:
        yield capture
    findings = detect(capture.queries)
    if findings:
        raise NPlusOneDetected("\n".join(f.message for f in findings))
