"""Recomputes the audit chains and reports every break, classified.

- ``modified``: a link does not follow from the one before it (the event, its seal's hash or
  its tenant changed), or a chain's head at a checkpointed size differs from the signed
  checkpoint (the chain was rewritten, even if every hash was recomputed).
- ``missing``: a sequence number without a seal (a seal deleted), a seal whose event is gone
  (an event deleted), or a chain shorter than a checkpoint says it was (truncated).
- ``inserted``: an event inside the sealed range that no seal covers (written into the log
  behind the sealer's back).
- ``checkpoint``: a checkpoint whose signature does not verify with the public key.

Unlike a check that stops at the first break (Odoo's), every link is checked against its own
predecessor's stored hash, so one break does not hide the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import connections, transaction

from assurance.chain.canonical import GENESIS, PLATFORM_CHAIN, canonical_event, event_columns, link
from assurance.chain.checkpoints import Checkpoint
from assurance.chain.sealer import SEALER_ALIAS
from assurance.signing import verify_note

CHUNK = 10_000
KINDS = ("modified", "missing", "inserted", "checkpoint")

_E_COLUMNS = event_columns("e")


@dataclass(frozen=True)
class Break:
    kind: str
    tenant_id: UUID
    seq: int | None
    event_id: int | None
    detail: str

    def __str__(self) -> str:
        where = f"seq {self.seq}" if self.seq is not None else f"event {self.event_id}"
        return f"{self.kind:<10} {self.tenant_id} {where}: {self.detail}"


@dataclass
class ChainReport:
    tenant_id: UUID
    size: int = 0
    head: bytes = GENESIS
    checkpoints: int = 0
    breaks: list[Break] = field(default_factory=list)


def _seal_rows(cur: Any, tenant_id: UUID) -> Iterator[tuple[Any, ...]]:
    # Windows of seq, not LIMIT: each page reads its own CHUNK links whatever plan is chosen
    # (under LIMIT, a planner without statistics on a fresh chain sorts the whole rest).
    cur.execute("SELECT max(seq) FROM kernel.audit_seals WHERE tenant_id = %s", [tenant_id])
    (last,) = cur.fetchone()
    for start in range(0, last or 0, CHUNK):
        cur.execute(
            f"SELECT s.seq, s.event_id, s.hash, {_E_COLUMNS} FROM kernel.audit_seals s "
            "LEFT JOIN kernel.audit_events e ON e.id = s.event_id "
            "WHERE s.tenant_id = %s AND s.seq > %s AND s.seq <= %s ORDER BY s.seq",
            [tenant_id, start, start + CHUNK],
        )
        yield from cur.fetchall()


def verify_chain(
    cur: Any,
    tenant_id: UUID,
    checkpoints: Iterable[Checkpoint] = (),
    public_key: bytes | None = None,
) -> ChainReport:
    report = ChainReport(tenant_id)
    wanted: dict[int, list[Checkpoint]] = {}
    for checkpoint in checkpoints:
        report.checkpoints += 1
        if public_key is not None and not verify_note(checkpoint.note, public_key):
            report.breaks.append(
                Break("checkpoint", tenant_id, checkpoint.size, None, "signature does not verify")
            )
            continue
        wanted.setdefault(checkpoint.size, []).append(checkpoint)
    expected = 1
    previous: bytes | None = GENESIS
    heads: dict[int, bytes] = {}
    for seq, event_id, stored, *event in _seal_rows(cur, tenant_id):
        stored = bytes(stored)
        if seq != expected:
            report.breaks += [
                Break("missing", tenant_id, s, None, "no seal with this sequence number")
                for s in range(expected, seq)
            ]
            previous = None  # the link after a gap cannot be checked
        if event[0] is None:
            report.breaks.append(
                Break("missing", tenant_id, seq, event_id, "the sealed event is gone")
            )
        elif (event[1] or PLATFORM_CHAIN) != tenant_id:
            report.breaks.append(
                Break("modified", tenant_id, seq, event_id, f"event now belongs to {event[1]}")
            )
        elif previous is not None and link(previous, canonical_event(tuple(event))) != stored:
            report.breaks.append(
                Break(
                    "modified", tenant_id, seq, event_id, "link does not follow from the one before"
                )
            )
        if seq in wanted:
            heads[seq] = stored
        previous = stored
        expected = seq + 1
        report.size, report.head = seq, stored
    for size, issued in sorted(wanted.items()):
        for checkpoint in issued:
            if size > report.size:
                report.breaks.append(
                    Break(
                        "missing",
                        tenant_id,
                        size,
                        None,
                        f"chain ends at {report.size}; a signed checkpoint has {size} links",
                    )
                )
            elif heads.get(size) != checkpoint.head:
                report.breaks.append(
                    Break(
                        "modified",
                        tenant_id,
                        size,
                        None,
                        "head differs from the signed checkpoint (chain rewritten)",
                    )
                )
    return report


def unsealed_in_sealed_range(cur: Any, tenant_ids: list[UUID] | None) -> list[Break]:
    """Events below the sealer's position that no seal covers."""
    cur.execute(
        "SELECT last_txid, last_event_id FROM kernel.audit_seal_batches ORDER BY id DESC LIMIT 1"
    )
    row = cur.fetchone()
    if row is None:
        return []
    cur.execute(
        "SELECT COALESCE(e.tenant_id, %s), e.id FROM kernel.audit_events e "
        "WHERE (e.txid, e.id) <= (%s, %s) "
        "AND NOT EXISTS (SELECT 1 FROM kernel.audit_seals s WHERE s.event_id = e.id) "
        "AND (%s::uuid[] IS NULL OR COALESCE(e.tenant_id, %s) = ANY(%s::uuid[])) ORDER BY e.id",
        [PLATFORM_CHAIN, row[0], row[1], tenant_ids, PLATFORM_CHAIN, tenant_ids],
    )
    return [
        Break(
            "inserted",
            tenant,
            None,
            event_id,
            "event in the sealed range without a seal (written behind the sealer, or its seal deleted)",
        )
        for tenant, event_id in cur.fetchall()
    ]


def sealed_chains(cur: Any) -> list[UUID]:
    # One index probe per chain (a recursive skip scan), not a scan of every seal.
    cur.execute(
        "WITH RECURSIVE t(id) AS ("
        " (SELECT tenant_id FROM kernel.audit_seals ORDER BY tenant_id LIMIT 1)"
        " UNION ALL SELECT (SELECT s.tenant_id FROM kernel.audit_seals s WHERE s.tenant_id > t.id"
        " ORDER BY s.tenant_id LIMIT 1) FROM t WHERE t.id IS NOT NULL)"
        " SELECT id FROM t WHERE id IS NOT NULL"
    )
    return [r[0] for r in cur.fetchall()]


def verify_all(
    tenant_ids: list[UUID] | None = None,
    checkpoints: dict[UUID, list[Checkpoint]] | None = None,
    public_key: bytes | None = None,
    alias: str = SEALER_ALIAS,
) -> tuple[list[ChainReport], list[Break]]:
    """Every chain (or those of ``tenant_ids``) in one consistent, read-only snapshot."""
    checkpoints = checkpoints or {}
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        chains = tenant_ids if tenant_ids is not None else sealed_chains(cur)
        # A chain known only from its checkpoints (every seal deleted) is still checked.
        if tenant_ids is None:
            chains = sorted(set(chains) | set(checkpoints))
        reports = [verify_chain(cur, t, checkpoints.get(t, ()), public_key) for t in chains]
        inserted = unsealed_in_sealed_range(cur, tenant_ids)
    return reports, inserted
