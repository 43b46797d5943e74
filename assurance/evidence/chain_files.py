"""The audit chain's files in a pack: canonical lines (the hashed bytes), seals, a spreadsheet
view; every link checked as it is written. A long chain is split between worker processes that
read it in the exporter's own snapshot."""

from __future__ import annotations

import multiprocessing as mp
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from django.db import connections

from assurance.chain.canonical import canonical_bytes, event_columns, event_fields, link
from assurance.evidence.files import PAGE, CsvBuffer, PackWriter

Progress = Callable[[str, int], None]

AUDIT_SQL = (
    "SELECT s.seq, s.event_id, s.hash, "
    + event_columns("e")
    + " FROM kernel.audit_seals s JOIN kernel.audit_events e ON e.id = s.event_id "
    "WHERE s.tenant_id = %(tenant)s AND s.seq > %(after)s::bigint "
    "AND s.seq <= LEAST(%(after)s::bigint + %(page)s, %(last)s::bigint) ORDER BY s.seq"
)
AUDIT_CSV_COLUMNS = (
    "seq",
    "event_id",
    "occurred_at",
    "schema_name",
    "table_name",
    "row_id",
    "operation",
    "actor",
    "db_role",
    "correlation_id",
    "changed_fields",
)


AUDIT_FILES = {
    "jsonl": "data/audit_events.jsonl",
    "seals": "data/audit_seals.csv",
    "csv": "data/audit_events.csv",
}
WORKERS = 2
PARALLEL_FROM = 50_000  # links: below, one process (forking costs more than it saves)


@dataclass
class AuditPart:
    events: int = 0
    head: str | None = None
    gaps: list[list[int]] = field(default_factory=list)
    breaks: list[dict[str, Any]] = field(default_factory=list)


def _split(first: int, last: int, n: int) -> list[tuple[int, int]]:
    size = max(1, -(-(last - first + 1) // n))
    return [(a, min(a + size - 1, last)) for a in range(first, last + 1, size)] or [(first, last)]


def _merged(gaps: list[list[int]]) -> list[list[int]]:
    """Adjacent gaps as one (a gap across two workers' parts is reported by both halves)."""
    merged: list[list[int]] = []
    for a, b in gaps:
        if merged and a == merged[-1][1] + 1:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return merged


def _concatenated(folder: Path, name: str, parts: int) -> Iterator[bytes]:
    for i in range(parts):
        with (folder / f"{name}.{i}").open("rb") as fh:
            while chunk := fh.read(1 << 20):
                yield chunk


def _audit_part_in_snapshot(
    params: dict[str, Any],
    snapshot: str,
    tenant_id: UUID,
    first: int,
    last: int,
    previous: str | None,
    folder: Path,
    index: int,
) -> AuditPart:
    """A worker: its own connection as aibos_readonly, in the exporter's snapshot."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(**params) as conn, conn.cursor() as cur:
        conn.autocommit = True  # the transaction below is opened explicitly, with its snapshot
        cur.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant_id)])
        if previous is None:
            cur.execute(
                "SELECT hash FROM kernel.audit_seals WHERE tenant_id = %s AND seq = %s::bigint",
                [tenant_id, first - 1],
            )
            row = cur.fetchone()
            previous = bytes(row[0]).hex() if row else None
        part = _audit_part(cur, tenant_id, first, last, previous, folder, index)
        cur.execute("ROLLBACK")
    return part


def _audit_part(
    cur: Any,
    tenant_id: UUID,
    first: int,
    last: int,
    previous_hex: str | None,
    folder: Path,
    index: int,
) -> AuditPart:
    """Links first..last: canonical lines, seals, the spreadsheet view, each link checked
    against the one before (the pack's verify.py fails on the same breaks)."""
    part = AuditPart()
    previous = bytes.fromhex(previous_hex) if previous_hex is not None else None
    expected = first
    jsonl: list[bytes] = []
    seals = CsvBuffer(("seq", "event_id", "hash"), header=index == 0)
    human = CsvBuffer(AUDIT_CSV_COLUMNS, header=index == 0)
    files = {name: (folder / f"{name}.{index}").open("wb") for name in AUDIT_FILES}
    try:
        for after in range(first - 1, last, PAGE):
            cur.execute(
                AUDIT_SQL, {"tenant": tenant_id, "last": last, "after": after, "page": PAGE}
            )
            for seq, event_id, stored, *event in cur.fetchall():
                stored = bytes(stored)
                if seq != expected:
                    part.gaps.append([expected, seq - 1])
                    previous = None
                fields = event_fields(tuple(event))
                line = canonical_bytes(fields)
                if previous is not None and link(previous, line) != stored:
                    part.breaks.append({"seq": seq, "event_id": str(event_id), "kind": "modified"})
                previous = stored
                jsonl.append(line + b"\n")
                part.head = stored.hex()
                seals.add([str(seq), str(event_id), part.head])
                human.add([str(seq), fields["id"], *(fields[c] for c in AUDIT_CSV_COLUMNS[2:])])
                part.events += 1
                expected = seq + 1
            files["jsonl"].write(b"".join(jsonl))
            files["seals"].write(seals.take())
            files["csv"].write(human.take())
            jsonl.clear()
        files["seals"].write(seals.take())  # the headers, when the range is empty
        files["csv"].write(human.take())
        if expected <= last:
            part.gaps.append([expected, last])
    finally:
        for fh in files.values():
            fh.close()
    return part


def write_chain(
    cur: Any,
    pack: PackWriter,
    tenant_id: UUID,
    chain: dict[str, Any],
    progress: Progress,
    *,
    parallel: bool = True,
) -> None:
    """The chain's three files. Canonicalising is the export's main cost, so a long chain is
    cut into contiguous parts, each read by a worker process in THIS transaction's snapshot
    (``pg_export_snapshot``: every part sees exactly what this transaction sees) and written
    to files of its own, then streamed into the ZIP in order."""
    first, last = chain["first_seq"], chain["last_seq"]
    parts = _split(first, last, WORKERS if parallel and last - first >= PARALLEL_FROM else 1)
    with tempfile.TemporaryDirectory(prefix="aibos-evidence-") as folder:
        if len(parts) == 1:
            results = [
                _audit_part(cur, tenant_id, first, last, chain["previous_hash"], Path(folder), 0)
            ]
        else:
            cur.execute("SELECT pg_export_snapshot()")
            (snapshot,) = cur.fetchone()
            # Plain connection settings only (Django's adapters context does not pickle).
            params = {
                k: v
                for k, v in connections["readonly"].get_connection_params().items()
                if isinstance(v, (str, int, float, bool))
            }
            ctx = mp.get_context("fork")
            with ProcessPoolExecutor(len(parts), mp_context=ctx) as pool:
                futures = [
                    pool.submit(
                        _audit_part_in_snapshot,
                        params,
                        snapshot,
                        tenant_id,
                        a,
                        b,
                        chain["previous_hash"] if i == 0 else None,
                        Path(folder),
                        i,
                    )
                    for i, (a, b) in enumerate(parts)
                ]
                results = [f.result() for f in futures]
        events = sum(r.events for r in results)
        progress("audit_events", events)
        for name, path in AUDIT_FILES.items():
            pack.stream(path, _concatenated(Path(folder), name, len(results)), rows=events)
    heads = [r.head for r in results if r.head is not None]
    missing_before = [[first - 1, first - 1]] if chain["previous_hash"] is None else []
    chain.update(
        events=events,
        head_hash=heads[-1] if heads else chain["previous_hash"],  # None: nothing to anchor
        gaps=_merged(missing_before + [g for r in results for g in r.gaps]),
        breaks=[b for r in results for b in r.breaks],
    )
