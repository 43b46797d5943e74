"""The audit hash chain: sealed after commit, gap-free under concurrent writers, and every
break found and classified, including a whole-chain rewrite that only a checkpoint reveals.

Committed transactions throughout: the sealer is its own connection (aibos_sealer_role) and
only ever sees what has committed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connections
from django.test import override_settings

from assurance.chain.canonical import GENESIS, canonical_event, event_columns, link
from assurance.chain.checkpoints import (
    make_checkpoint,
    read_checkpoints,
    system_identifier,
    write_checkpoint,
)
from assurance.chain.sealer import seal_batch, seal_status, seal_until_caught_up
from assurance.chain.verifier import verify_all
from assurance.signing import SigningKey, generate_signing_key
from tests.finance.books import post_simple
from tests.finance.helpers import refused

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@pytest.fixture
def key(tmp_path: Path) -> Iterator[SigningKey]:
    path = tmp_path / "keys" / "signing_ed25519"
    signing = generate_signing_key(path)
    with override_settings(SIGNING_KEY_FILE=path, AUDIT_CHECKPOINT_DIR=tmp_path / "checkpoints"):
        yield signing


def owner(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """As the owner with triggers off: what an attacker with the database's keys can do."""
    with connections["default"].cursor() as cur:
        cur.execute("SET session_replication_role = replica")
        try:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
        finally:
            cur.execute("SET session_replication_role = DEFAULT")


def chain_of(tenant: UUID) -> list[tuple[int, int]]:
    return [
        (seq, event_id)
        for seq, event_id in owner(
            "SELECT seq, event_id FROM kernel.audit_seals WHERE tenant_id = %s ORDER BY seq",
            [tenant],
        )
    ]


def events_of(tenant: UUID) -> list[int]:
    return [
        r[0]
        for r in owner(
            "SELECT id FROM kernel.audit_events WHERE tenant_id = %s ORDER BY txid, id", [tenant]
        )
    ]


def kinds(breaks: list[Any]) -> list[tuple[str, int | None]]:
    return sorted((b.kind, b.seq if b.seq is not None else b.event_id) for b in breaks)


def all_breaks(**kwargs: Any) -> list[Any]:
    reports, inserted = verify_all(**kwargs)
    return [b for r in reports for b in r.breaks] + inserted


def test_every_committed_event_is_sealed_once_in_a_gap_free_chain(
    committed: None, books: Any, books_b: Any
) -> None:
    for _ in range(3):
        post_simple(books.us)
        post_simple(books_b)
    sealed = seal_until_caught_up()
    assert sealed.events > 0
    for tenant in (books.tenant.id, books_b.company.tenant_id):
        chain = chain_of(tenant)
        assert [seq for seq, _ in chain] == list(range(1, len(chain) + 1))
        # In the sealer's (txid, id) order, each event exactly once.
        assert [event_id for _, event_id in chain] == events_of(tenant)
    assert all_breaks() == []
    assert seal_status().unsealed_events == 0
    assert seal_until_caught_up().events == 0  # nothing is sealed twice


def test_an_open_transaction_holds_sealing_back_and_nothing_is_skipped(
    committed: None, books: Any
) -> None:
    """An event whose transaction is still open may commit later with a lower id than events
    already committed: the sealer stops below it rather than seal past it."""
    from aibos.actors import Actor
    from aibos.tenancy import tenant_context

    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            post_simple(books.us, "1.00", key="slow")  # warm path, then hold one open
            with tenant_context(Actor.for_command(books.tenant.id, "slow"), using=["finance"]):
                with connections["finance"].cursor() as cur:
                    cur.execute(
                        "UPDATE finance.accounts SET name = name || ' (slow)' WHERE id = %s",
                        [books.us.accounts["5000"].pk],
                    )
                started.set()
                release.wait(30)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
            started.set()
        finally:
            connections.close_all()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert started.wait(30)
    post_simple(books.us, "2.00")  # commits while the slow transaction is open
    seal_until_caught_up()
    held_back = seal_status().unsealed_events
    assert held_back > 0  # the later commit waits for the open transaction
    release.set()
    thread.join(30)
    assert not errors
    seal_until_caught_up()
    assert seal_status().unsealed_events == 0
    chain = chain_of(books.tenant.id)
    assert [event_id for _, event_id in chain] == events_of(books.tenant.id)
    assert all_breaks() == []


def test_concurrent_writers_and_two_sealers_leave_no_gap_and_no_fork(
    committed: None, books: Any, books_b: Any
) -> None:
    stop = threading.Event()
    failures: list[BaseException] = []

    def writer(target: Any, n: int) -> None:
        try:
            for _ in range(n):
                post_simple(target)
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    def sealer() -> None:
        try:
            while not stop.is_set():
                seal_batch(limit=7)  # small batches: many interleavings
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)
        finally:
            connections.close_all()

    writers = [
        threading.Thread(target=writer, args=(target, 15))
        for target in (books.us, books.us, books.eu, books_b)
    ]
    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for t in writers + sealers:
        t.start()
    for t in writers:
        t.join(120)
    stop.set()
    for t in sealers:
        t.join(60)
    assert not failures
    seal_until_caught_up()
    for tenant in (books.tenant.id, books_b.company.tenant_id):
        chain = chain_of(tenant)
        assert [seq for seq, _ in chain] == list(range(1, len(chain) + 1))
        assert sorted(e for _, e in chain) == sorted(events_of(tenant))
    assert all_breaks() == []


def test_verification_reports_every_break_classified(
    committed: None, books: Any, key: SigningKey
) -> None:
    for _ in range(6):
        post_simple(books.us)
    seal_until_caught_up()
    tenant = books.tenant.id
    chain = dict(chain_of(tenant))
    assert len(chain) >= 12
    owner("UPDATE kernel.audit_events SET actor = 'user:forged' WHERE id = %s", [chain[3]])
    owner("DELETE FROM kernel.audit_events WHERE id = %s", [chain[7]])
    # Seal and event gone together: a link is missing from the chain.
    owner("DELETE FROM kernel.audit_seals WHERE tenant_id = %s AND seq = 10", [tenant])
    owner("DELETE FROM kernel.audit_events WHERE id = %s", [chain[10]])
    (forged,) = owner(
        "INSERT INTO kernel.audit_events (tenant_id, occurred_at, schema_name, table_name, "
        "row_id, operation, actor, db_role, txid) VALUES (%s, now(), 'finance', "
        "'journal_entries', '1', 'DELETE', 'user:forged', 'postgres', 3) RETURNING id",
        [tenant],
    )[0]
    assert kinds(all_breaks()) == [
        ("inserted", forged),
        ("missing", 7),
        ("missing", 10),
        ("modified", 3),
    ]
    with pytest.raises(CommandError, match="1 modified, 2 missing, 1 inserted"):
        _verify_command()


def _verify_command() -> None:
    call_command("audit_verify")


def test_a_rewritten_chain_is_caught_by_its_signed_checkpoint(
    committed: None, books: Any, key: SigningKey, tmp_path: Path
) -> None:
    for _ in range(3):
        post_simple(books.us)
    call_command("audit_seal")  # seals and writes signed checkpoints
    tenant = books.tenant.id
    system_id = system_identifier("sealer")
    issued = read_checkpoints(system_id)[tenant]
    assert [c.size for c in issued] == [len(chain_of(tenant))]
    _verify_command()  # clean

    # Rewrite history and recompute every hash: the chain is internally consistent again.
    first_event = chain_of(tenant)[0][1]
    owner("UPDATE kernel.audit_events SET actor = 'user:rewritten' WHERE id = %s", [first_event])
    rows = owner(
        f"SELECT s.seq, {event_columns('e')} "
        "FROM kernel.audit_seals s JOIN kernel.audit_events e ON e.id = s.event_id "
        "WHERE s.tenant_id = %s ORDER BY s.seq",
        [tenant],
    )
    head = GENESIS
    for seq, *event in rows:
        head = link(head, canonical_event(tuple(event)))
        owner(
            "UPDATE kernel.audit_seals SET hash = %s WHERE tenant_id = %s AND seq = %s",
            [head, tenant, seq],
        )
    assert all_breaks() == []  # without checkpoints nothing shows
    public = key.public_raw
    checkpoints = read_checkpoints(system_id)
    breaks = all_breaks(checkpoints=checkpoints, public_key=public)
    assert [(b.kind, b.seq) for b in breaks] == [("modified", issued[0].size)]
    with pytest.raises(CommandError, match="1 modified"):
        _verify_command()

    # A forged checkpoint (another key) is a break of its own.
    forger = generate_signing_key(tmp_path / "forger" / "key")
    fake = make_checkpoint(forger, system_id, tenant, 1, b"\x00" * 32)
    write_checkpoint(fake, system_id)
    breaks = all_breaks(checkpoints=read_checkpoints(system_id), public_key=public)
    assert ("checkpoint", 1) in [(b.kind, b.seq) for b in breaks]


def test_only_the_sealer_writes_seals_and_nobody_rewrites_them(
    committed: None, books: Any, books_b: Any
) -> None:
    post_simple(books.us)
    post_simple(books_b)
    seal_until_caught_up()
    tenant = books.tenant.id
    from aibos.actors import Actor
    from aibos.tenancy import tenant_context

    for alias in ("kernel", "finance", "config"):
        with pytest.raises(DatabaseError) as excinfo:
            with tenant_context(Actor.for_command(tenant, "attack"), using=[alias]):
                with connections[alias].cursor() as cur:
                    cur.execute(
                        "INSERT INTO kernel.audit_seals (tenant_id, seq, event_id, hash) "
                        "VALUES (%s, 999999, 1, %s)",
                        [tenant, b"\x00" * 32],
                    )
        assert refused(excinfo)[0] == "42501"
    for sql in (
        "UPDATE kernel.audit_seals SET hash = hash",
        "DELETE FROM kernel.audit_seals",
        "TRUNCATE kernel.audit_seals",
        "UPDATE kernel.audit_seal_batches SET events = events",
        "INSERT INTO kernel.audit_events (occurred_at, schema_name, table_name, operation, actor, "
        "db_role, txid) VALUES (now(), 'x', 'x', 'INSERT', 'x', 'x', 1)",
        "SELECT count(*) FROM finance.journal_entries",
    ):
        with pytest.raises(DatabaseError) as excinfo:
            with connections["sealer"].cursor() as cur:
                cur.execute(sql)
        assert refused(excinfo)[0] == "42501", sql
    # A tenant reads its own seals only (the evidence export reads them as aibos_readonly).
    with tenant_context(Actor.for_command(tenant, "export"), using=["readonly"]):
        with connections["readonly"].cursor() as cur:
            cur.execute("SELECT DISTINCT tenant_id FROM kernel.audit_seals")
            assert cur.fetchall() == [(tenant,)]


def test_transaction_ids_going_backwards_stop_the_sealer_with_the_reason(
    committed: None, books: Any
) -> None:
    """After a restore into another cluster the xids restart lower: sealing on would skip every
    new event, so the sealer refuses and says why."""
    from assurance.chain.sealer import SealerError

    post_simple(books.us)
    owner(
        "INSERT INTO kernel.audit_seal_batches (last_txid, last_event_id, horizon_xid, events) "
        "VALUES (9000000000000, 0, 9000000000000, 1)"
    )
    with pytest.raises(SealerError, match="went backwards"):
        seal_batch()
    with pytest.raises(CommandError, match="went backwards"):
        call_command("audit_seal")
