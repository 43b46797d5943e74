"""Real concurrency: threads with their own connections, committed transactions.

Racing approvers cannot over-approve, racing "mark paid" cannot double-post, postings on hot
accounts neither deadlock nor lose an update nor leave a gap in the numbering, identical
idempotent requests create one row, and the deferred settlement check fires at COMMIT.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections

from finance import services
from tests.factories import system
from tests.finance.books import DAY, actor, cell_actor, make_payment, post_simple
from tests.finance.helpers import refused, run

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Start every call at the same instant, each on its own thread and connections; return
    each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a racer is stuck (deadlock?)"
    return results


def test_racing_approvers_cannot_over_approve(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    tenant = books.tenant.id
    payment = make_payment(books, "20000.00")  # needs two of L1, L2, CFO
    results = race(
        *[
            lambda u=u: services.payment_approve(actor=actor(u), payment_id=payment.pk)
            for u in (approvers.l1, approvers.l2, approvers.cfo)
        ]
    )
    refused_ = [r for r in results if isinstance(r, services.ApplicationError)]
    assert len(refused_) == 1 and refused_[0].status == 409, results
    rows = run(
        tenant,
        ("SELECT count(*) FROM finance.payment_approvals WHERE payment_id = %s", [payment.pk]),
    )
    assert rows == [(2,)]
    assert run(tenant, ("SELECT status FROM finance.payments WHERE id = %s", [payment.pk])) == [
        ("APPROVED",)
    ]


def test_racing_mark_paid_posts_once(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    tenant = books.tenant.id
    payment = make_payment(books, "500.00")
    services.payment_approve(actor=actor(approvers.l1), payment_id=payment.pk)
    results = race(
        *[lambda: services.payment_mark_paid(actor=cell_actor(tenant), payment_id=payment.pk)] * 4
    )
    assert all(getattr(r, "status", None) == "PAID" for r in results), results
    assert len({r.journal_entry_id for r in results}) == 1
    entries = run(
        tenant,
        (
            "SELECT count(*) FROM finance.journal_entries WHERE company_id = %s",
            [books.us.company.pk],
        ),
    )
    assert entries == [(1,)]


def test_hot_accounts_no_deadlock_no_lost_update_no_gap(
    committed: None, books: SimpleNamespace
) -> None:
    """4 workers x 25 postings on the same two accounts, in opposite directions."""
    us = books.us

    def worker(direction: int) -> int:
        debit, credit = ("5000", "1000") if direction else ("1000", "5000")
        for i in range(25):
            post_simple(us, f"{i + 1}.00", debit=debit, credit=credit)
        return 25

    results = race(*[lambda d=d: worker(d % 2) for d in range(4)])
    assert results == [25] * 4, results
    tenant = books.tenant.id
    seqs = run(
        tenant,
        (
            "SELECT posting_seq FROM finance.journal_entries WHERE company_id = %s ORDER BY 1",
            [us.company.pk],
        ),
    )
    assert [s for (s,) in seqs] == list(range(1, 101))
    drift = run(
        tenant,
        """
        SELECT count(*) FROM finance.account_balances b
        JOIN (SELECT account_id, sum(debit) d, sum(credit) c FROM finance.journal_lines GROUP BY 1) s
          USING (account_id)
        WHERE b.debit_total <> s.d OR b.credit_total <> s.c
        """,
    )
    assert drift == [(0,)]
    # Same total moved both ways: 2 x (1 + ... + 25) each direction.
    assert run(
        tenant,
        (
            "SELECT debit_total FROM finance.account_balances WHERE account_id = %s",
            [us.accounts["5000"].pk],
        ),
    ) == [(Decimal("650.0000"),)]


def test_identical_idempotent_requests_create_one_entry(
    committed: None, books: SimpleNamespace
) -> None:
    key = str(uuid.uuid4())
    results = race(*[lambda: post_simple(books.us, "42.00", key=key)] * 8)
    assert len({r.pk for r in results}) == 1, results
    assert run(books.tenant.id, "SELECT count(*) FROM finance.journal_entries") == [(1,)]


def test_the_settlement_check_is_deferred_to_commit(
    committed: None, books: SimpleNamespace
) -> None:
    """Inside the transaction a SETTLED row without entries is accepted; COMMIT refuses it."""
    tenant = books.tenant.id
    us, eu = books.us, books.eu
    settlement = str(uuid.uuid4())
    insert = (
        "INSERT INTO finance.intercompany_settlements (id, tenant_id, from_company_id, to_company_id, "
        "amount, currency, status, from_bank_account_id, to_bank_account_id, from_account_id, "
        "to_account_id, reference, requested_by) VALUES (%s, %s, %s, %s, 10, 'EUR', 'PENDING', %s, %s, %s, %s, '', '')"
    )
    statements = [
        (
            insert,
            [
                settlement,
                tenant,
                us.company.pk,
                eu.company.pk,
                us.foreign_bank.pk,
                eu.bank.pk,
                us.accounts["1510"].pk,
                eu.accounts["2500"].pk,
            ],
        ),
        (
            "UPDATE finance.intercompany_settlements SET status = 'SETTLED' WHERE id = %s RETURNING status",
            [settlement],
        ),
    ]
    with pytest.raises(DatabaseError) as exc:
        rows = run(tenant, *statements)
        pytest.fail(f"committed without error: {rows}")
    assert refused(exc) == ("23514", "finance_settlement_posted")
    assert run(tenant, "SELECT count(*) FROM finance.intercompany_settlements") == [(0,)]
    # Through the service both entries are posted in the same transaction.
    done = services.intercompany_settle(
        actor=system(tenant),
        from_bank_account_id=us.foreign_bank.pk,
        to_bank_account_id=eu.bank.pk,
        from_account_id=us.accounts["1510"].pk,
        to_account_id=eu.accounts["2500"].pk,
        amount=Decimal("10.00"),
        entry_date=DAY,
    )
    assert done.status == "SETTLED" and done.from_entry_id and done.to_entry_id


def test_racing_overlapping_fx_rates_one_wins(committed: None, books: SimpleNamespace) -> None:
    """Two sessions insert overlapping GBP/USD rates at once: the per-pair lock makes the
    second see the first, so exactly one commits."""
    tenant = books.tenant.id
    insert = (
        "INSERT INTO finance.fx_rates (tenant_id, base, quote, rate, valid_from, valid_to, source) "
        "VALUES (%s, 'GBP', 'USD', %s, %s, NULL, '')"
    )
    results = race(
        lambda: run(tenant, (insert, [tenant, "1.27", "2026-01-01"])),
        lambda: run(tenant, (insert, [tenant, "1.28", "2026-02-01"])),
    )
    failures = [r for r in results if isinstance(r, DatabaseError)]
    assert len(failures) == 1, results
    assert refused(SimpleNamespace(value=failures[0])) == ("23P01", "finance_fxrate_no_overlap")  # type: ignore[arg-type]
    assert run(tenant, "SELECT count(*) FROM finance.fx_rates WHERE base = 'GBP'") == [(1,)]


def test_a_repeatable_read_posting_cannot_miss_a_line_added_meanwhile(
    committed: None, books: SimpleNamespace
) -> None:
    """A hostile session posts a draft under REPEATABLE READ while another adds a line to it:
    the line addition writes the draft (its line count), so the posting's stale snapshot fails
    to serialise (40001) instead of posting the entry without the line it cannot see."""
    import psycopg

    tenant, us = books.tenant.id, books.us
    draft, _ = services.journal_create_draft(
        actor=system(tenant),
        company_id=us.company.pk,
        entry_date=DAY,
        lines=[
            services.LineInput(us.accounts["5000"].pk, "debit", Decimal("5.00")),
            services.LineInput(us.accounts["1000"].pk, "credit", Decimal("5.00")),
        ],
    )
    params = connections["finance"].get_connection_params()
    set_tenant = "SELECT set_config('app.tenant_id', %s, false)"
    with psycopg.connect(**params) as poster, psycopg.connect(**params) as adder:
        poster.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        poster.execute(set_tenant, [str(tenant)])
        poster.execute("SELECT count(*) FROM finance.journal_lines")  # takes the snapshot
        adder.execute(set_tenant, [str(tenant)])
        adder.execute(
            "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, "
            "currency, txn_amount, fx_rate, memo) VALUES (%s, %s, %s, 1, 0, 'USD', 1, 1, '')",
            [tenant, draft.pk, us.accounts["5000"].pk],
        )
        adder.commit()
        with pytest.raises(psycopg.errors.SerializationFailure):
            poster.execute(
                "UPDATE finance.journal_entries SET status = 'POSTED' WHERE id = %s", [draft.pk]
            )
        poster.rollback()
    rows = run(
        tenant, ("SELECT status, line_count FROM finance.journal_entries WHERE id = %s", [draft.pk])
    )
    assert rows == [("DRAFT", 3)]
