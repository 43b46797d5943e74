"""Runs every attack in a transaction of its own that is always rolled back, judges it, and
records each blocked attempt as a security event that outlives that rollback.

Verdicts:

- ``PASS``: blocked exactly as expected (the SQLSTATE and rule, the HTTP status, or zero rows)
  and the probe found nothing changed;
- ``FAIL`` / ``not blocked``: the attempt went through (rows, a 2xx where a refusal was due);
- ``FAIL`` / ``unexpected outcome``: refused, but not the way expected (another SQLSTATE or
  rule, another status) — a protection moved or vanished and something else caught it;
- ``FAIL`` / ``changed``: the outcome looked right but the probe found the data changed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, transaction

from aibos.db.roles import RUNTIME_ALIASES
from aibos.tenancy import tenant_context
from assurance.models import SecurityEvent

from . import attacks_api, attacks_ledger, attacks_payments, attacks_privileges, attacks_tenancy
from .base import Attack, Got, Registry, attacker, refused_by_layer
from .dataset import Dataset

PASS, FAIL = "PASS", "FAIL"
NOT_BLOCKED = "not blocked"
UNEXPECTED = "unexpected outcome"
CHANGED = "changed"
SOURCE = "trust_test"

T = TypeVar("T")


def all_attacks() -> list[Attack]:
    registry = Registry()
    for module in (
        attacks_ledger,
        attacks_tenancy,
        attacks_privileges,
        attacks_payments,
        attacks_api,
    ):
        module.register(registry)
    names = [a.name for a in registry.attacks]
    duplicates = {n for n in names if names.count(n) > 1}
    assert not duplicates, f"attack names must be unique: {sorted(duplicates)}"
    return registry.attacks


@dataclass
class Result:
    attack: Attack
    got: Got
    verdict: str
    reason: str  # "" for PASS
    detail: str  # the probe's finding, or the refusal's message
    seconds: float
    event_id: str | None = None


class _RolledBack(Exception):
    pass


def rolled_back(work: Callable[[], T]) -> T:
    """``work()`` inside one transaction per runtime alias, every one rolled back."""
    box: list[T] = []
    try:
        with ExitStack() as stack:
            for alias in RUNTIME_ALIASES:
                stack.enter_context(transaction.atomic(using=alias))
            box.append(work())
            raise _RolledBack
    except _RolledBack:
        pass
    return box[0]


def judge(attack: Attack, ds: Dataset) -> tuple[Got, str | None]:
    """The attempt and its probe, in one rolled-back transaction."""

    def work() -> tuple[Got, str | None]:
        try:
            got = attack.attempt(ds)
        except Exception as exc:
            got = Got.of(exc)
        try:
            problem = attack.unchanged(ds) if attack.unchanged else None
        except Exception as exc:
            problem = f"the probe failed: {type(exc).__name__}: {exc}"
        return got, problem

    return rolled_back(work)


def verdict(attack: Attack, got: Got, problem: str | None) -> tuple[str, str]:
    if got.matches(attack.expect) and refused_by_layer(attack.layer, attack.expect, got):
        return (FAIL, CHANGED) if problem else (PASS, "")
    # Rows, or a 2xx/3xx, where a refusal (or no rows) was due: the attempt went through.
    return FAIL, (UNEXPECTED if got.refused else NOT_BLOCKED)


class SecurityEventRecorder:
    """Writes each blocked attempt in a transaction of its own, on a connection of its own.

    The attempt's transaction is rolled back, and the record must survive it: a worker thread
    has its own Django connections, so its kernel connection (``aibos_kernel_role``, which may
    INSERT and SELECT its tenant's events and nothing more) commits independently of whatever
    the calling thread's connections are doing — even inside an outer transaction.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="trust-events")

    def record(self, tenant_id: uuid.UUID, run_id: str, result: Result) -> str:
        return self._pool.submit(self._write, tenant_id, run_id, result).result()

    @staticmethod
    def _write(tenant_id: uuid.UUID, run_id: str, result: Result) -> str:
        attack, got = result.attack, result.got
        with tenant_context(attacker(tenant_id), correlation_id=run_id, using=["kernel"]):
            event = SecurityEvent.objects.create(
                tenant_id=tenant_id,
                kind="blocked_attempt",
                source=SOURCE,
                name=attack.name,
                layer=attack.layer,
                db_role=attack.role,
                expected=str(attack.expect)[:120],
                outcome=str(got)[:200],
                sqlstate=got.sqlstate,
                http_status=got.http,
                rule=got.rule[:120],
                detail=(got.message or attack.title)[:2000],
                tsc=list(attack.tsc),
                actor=attacker(tenant_id).label,
                correlation_id=run_id,
            )
        return str(event.pk)

    def close(self) -> None:
        self._pool.submit(connections.close_all).result()
        self._pool.shutdown()


def run_attacks(
    ds: Dataset,
    *,
    run_id: str,
    attacks: Iterable[Attack] | None = None,
    recorder: SecurityEventRecorder | None = None,
    on_result: Callable[[Result], Any] | None = None,
) -> list[Result]:
    own = recorder is None
    recorder = recorder or SecurityEventRecorder()
    results: list[Result] = []
    try:
        for attack in attacks if attacks is not None else all_attacks():
            start = time.perf_counter()
            got, problem = judge(attack, ds)
            outcome, reason = verdict(attack, got, problem)
            result = Result(
                attack=attack,
                got=got,
                verdict=outcome,
                reason=reason,
                detail=problem or got.message,
                seconds=time.perf_counter() - start,
            )
            # Blocked by something (as expected or not): a refused attempt, on the record.
            if got.refused or outcome == PASS:
                result.event_id = recorder.record(ds.a.tenant.id, run_id, result)
            results.append(result)
            if on_result:
                on_result(result)
    finally:
        if own:
            recorder.close()
    return results
