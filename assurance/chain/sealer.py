"""Seals committed audit events into per-tenant hash chains, after commit, in its own process.

Business writes never wait for sealing: they insert ``kernel.audit_events`` rows as before. The
sealer (``python manage.py audit_seal --follow``, connected as ``aibos_sealer_role``) walks the
log in ``(txid, id)`` order up to the *horizon*: the oldest transaction of this database still
running. Every
transaction below it has committed or rolled back, so no event can still appear below it; the
events are final and sealing them in that order never skips one that commits late. One sealer
at a time holds a transaction-scoped advisory lock; the primary key ``(tenant_id, seq)`` and the
unique ``event_id`` make a fork or a double seal impossible even if two ran.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import connections, transaction

from assurance.chain.canonical import EVENT_COLUMNS, GENESIS, PLATFORM_CHAIN, canonical_event, link

SEALER_ALIAS = "sealer"
# pg_advisory_xact_lock key of the one sealer: "AUDITSEAL" folded into a bigint.
SEAL_LOCK = 0x4155444954_5345
BATCH = 5000


@dataclass
class SealBatch:
    events: int = 0
    # tenant -> (seq, head hash) after this batch
    heads: dict[UUID, tuple[int, bytes]] = field(default_factory=dict)
    oldest_event_at: dt.datetime | None = None
    locked_out: bool = False


@dataclass(frozen=True)
class SealStatus:
    unsealed_events: int
    oldest_unsealed_at: dt.datetime | None
    last_sealed_at: dt.datetime | None

    @property
    def lag_seconds(self) -> float:
        """Age of the oldest event not yet sealed (0 when none waits)."""
        if self.oldest_unsealed_at is None:
            return 0.0
        return max(0.0, (dt.datetime.now(dt.UTC) - self.oldest_unsealed_at).total_seconds())


def _cursor_position(cur: Any) -> tuple[int, int]:
    cur.execute(
        "SELECT last_txid, last_event_id FROM kernel.audit_seal_batches ORDER BY id DESC LIMIT 1"
    )
    row = cur.fetchone()
    return (row[0], row[1]) if row else (0, 0)


class SealerError(Exception):
    pass


TXIDS_BACKWARDS = (
    "Transaction ids went backwards (the database's next xid {xmax} is below the sealer's "
    "position {cursor}): this looks like a restore or a move to another cluster. Events written "
    "since would never be sealed. Verify the chains (audit_verify), then start a new sealing "
    "epoch; see docs/assurance.md."
)


def _horizon(cur: Any, floor: int = 0) -> int:
    """The oldest transaction of THIS database still running (or the next xid): every event
    with a txid below it is final. The cluster-wide snapshot xmin would do, but would let a
    long transaction in any other database of the cluster hold sealing back.

    Order matters: the snapshot first, then the running transactions. A transaction of this
    database in the snapshot that ends before the second read is final by then; one that
    starts after the snapshot has an xid above its xmax.
    """
    cur.execute("SELECT pg_current_snapshot()::text")
    _xmin, xmax, xip = cur.fetchone()[0].split(":")
    if int(xmax) < floor:
        raise SealerError(TXIDS_BACKWARDS.format(xmax=xmax, cursor=floor))
    in_progress = [int(x) for x in xip.split(",") if x]
    if not in_progress:
        return int(xmax)
    # backend_xid is the 32-bit xid; the snapshot's are 64-bit (epoch-extended). A prepared
    # (two-phase) transaction has no backend: its xid comes from pg_prepared_xacts.
    cur.execute(
        "SELECT backend_xid::text::bigint FROM pg_stat_activity "
        "WHERE datname = current_database() AND backend_xid IS NOT NULL "
        "UNION ALL SELECT transaction::text::bigint FROM pg_prepared_xacts "
        "WHERE database = current_database()"
    )
    here = {row[0] for row in cur.fetchall()}
    mine = [x for x in in_progress if x % 2**32 in here]
    return min(mine) if mine else int(xmax)


def seal_batch(alias: str = SEALER_ALIAS, limit: int = BATCH) -> SealBatch:
    """Seal up to ``limit`` final events in one transaction."""
    result = SealBatch()
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK])
        if not cur.fetchone()[0]:
            result.locked_out = True
            return result
        last_txid, last_id = _cursor_position(cur)
        horizon = _horizon(cur, last_txid)
        cur.execute(
            f"SELECT {EVENT_COLUMNS} FROM kernel.audit_events "
            "WHERE (txid, id) > (%s, %s) AND txid < %s ORDER BY txid, id LIMIT %s",
            [last_txid, last_id, horizon, limit],
        )
        rows = cur.fetchall()
        if not rows:
            return result
        chains = sorted({row[1] or PLATFORM_CHAIN for row in rows})
        cur.execute(
            "SELECT c.t, s.seq, s.hash FROM unnest(%s::uuid[]) AS c(t) LEFT JOIN LATERAL ("
            " SELECT seq, hash FROM kernel.audit_seals WHERE tenant_id = c.t"
            " ORDER BY seq DESC LIMIT 1) s ON true",
            [chains],
        )
        heads = {t: (seq or 0, bytes(h) if h else GENESIS) for t, seq, h in cur.fetchall()}
        seals: tuple[list[UUID], list[int], list[int], list[bytes]] = ([], [], [], [])
        for row in rows:
            chain = row[1] or PLATFORM_CHAIN
            seq, head = heads[chain]
            head = link(head, canonical_event(row))
            heads[chain] = (seq + 1, head)
            for column, value in zip(seals, (chain, seq + 1, row[0], head), strict=True):
                column.append(value)  # type: ignore[attr-defined]
        # One statement, whatever the batch size (COPY is refused on a table with RLS).
        cur.execute(
            "INSERT INTO kernel.audit_seals (tenant_id, seq, event_id, hash) "
            "SELECT * FROM unnest(%s::uuid[], %s::bigint[], %s::bigint[], %s::bytea[])",
            list(seals),
        )
        cur.execute(
            "INSERT INTO kernel.audit_seal_batches (last_txid, last_event_id, horizon_xid, events)"
            " VALUES (%s, %s, %s, %s)",
            [rows[-1][14], rows[-1][0], horizon, len(rows)],
        )
        result.events = len(rows)
        result.heads = heads
        oldest = min(row[2] for row in rows)  # canonical UTC text, ordered like the times
        result.oldest_event_at = dt.datetime.fromisoformat(oldest.replace("Z", "+00:00"))
    return result


def seal_until_caught_up(alias: str = SEALER_ALIAS, limit: int = BATCH) -> SealBatch:
    """Seal every final event; the heads of every chain extended."""
    total = SealBatch()
    while True:
        batch = seal_batch(alias, limit)
        total.events += batch.events
        total.heads.update(batch.heads)
        total.locked_out = total.locked_out or batch.locked_out
        if batch.oldest_event_at and (
            total.oldest_event_at is None or batch.oldest_event_at < total.oldest_event_at
        ):
            total.oldest_event_at = batch.oldest_event_at
        if batch.events < limit:
            return total


def follow(
    alias: str = SEALER_ALIAS,
    *,
    interval: float = 0.2,
    on_batch: Callable[[SealBatch], None] | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> None:
    """Seal continuously: catch up, then pause ``interval`` before the next round. Pausing after
    every round (not only when idle) seals a steady stream in batches of ``interval``'s worth of
    events instead of one transaction per few events: the lag stays about ``interval``, the
    sealer's cost per event falls with the load."""
    while not should_stop():
        batch = seal_until_caught_up(alias)
        if on_batch is not None:
            on_batch(batch)
        time.sleep(interval)


def seal_status(alias: str = SEALER_ALIAS) -> SealStatus:
    """How far sealing lags: O(unsealed events), never a scan of the chain."""
    with transaction.atomic(using=alias), connections[alias].cursor() as cur:
        cur.execute(
            "SELECT last_txid, last_event_id, sealed_at FROM kernel.audit_seal_batches "
            "ORDER BY id DESC LIMIT 1"
        )
        row = cur.fetchone()
        last_txid, last_id, last_sealed_at = row if row else (0, 0, None)
        cur.execute(
            "SELECT count(*), min(occurred_at) FROM kernel.audit_events WHERE (txid, id) > (%s, %s)",
            [last_txid, last_id],
        )
        unsealed, oldest = cur.fetchone()
    return SealStatus(unsealed, oldest, last_sealed_at)
