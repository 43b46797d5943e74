"""Audit sealing beside a write load: the sealer as its own process, and the lag it keeps.

Used by bench/posting.py (posting with sealing on vs off, same run) and bench/evidence.py.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _follow(stop: Any) -> None:
    from django.db import connections

    from assurance.chain.sealer import follow

    try:
        follow(should_stop=stop.is_set)  # the command's default cadence (0.2 s)
    finally:
        connections.close_all()


def catch_up() -> int:
    """Seal whatever is final now (not measured); the number of events sealed."""
    from django.db import connections

    from assurance.chain.sealer import seal_until_caught_up

    sealed = seal_until_caught_up().events
    connections.close_all()
    return sealed


@contextmanager
def sealer_running() -> Iterator[None]:
    """A sealer process following the log for the duration of the block; on exit it is stopped
    only once every event committed in the block is sealed."""
    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's sockets
    ctx = mp.get_context("fork")
    stop = ctx.Event()
    process = ctx.Process(target=_follow, args=(stop,), daemon=True)
    process.start()
    try:
        yield
    finally:
        catch_up_wait()
        stop.set()
        process.join(30)


def catch_up_wait(timeout: float = 60.0) -> None:
    import time

    from django.db import connections

    from assurance.chain.sealer import seal_status

    deadline = time.monotonic() + timeout
    while seal_status().unsealed_events and time.monotonic() < deadline:
        time.sleep(0.05)
    connections.close_all()


def lag_since(start_epoch: float) -> tuple[float, float, float, int]:
    """(p50, p99, max) seconds from an event's commit-time clock to its seal, for the events
    written since ``start_epoch``, and how many."""
    from django.db import connections

    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY d), max(d), count(*) FROM ("
            " SELECT extract(epoch FROM s.sealed_at - e.occurred_at) AS d"
            " FROM kernel.audit_events e JOIN kernel.audit_seals s ON s.event_id = e.id"
            " WHERE e.occurred_at >= to_timestamp(%s)) t",
            [start_epoch],
        )
        p50, p99, worst, n = cur.fetchone()
    connections.close_all()
    return float(p50 or 0), float(p99 or 0), float(worst or 0), int(n)
