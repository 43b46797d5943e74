"""One unit of work, one clock: every timestamp it writes is the database's transaction time.

Before, ``created_at`` was Django's ``Now()`` (the *statement* time) while the guards stamped
``posted_at`` / ``submitted_at`` / ``paid_at`` with ``now()`` (the transaction time), so a row
looked younger than the posting it was created with.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connections

from aibos.tenancy import tenant_context
from finance import services
from finance.models import JournalLine, Payment
from kernel.models import Role, Tenant
from tests.factories import system
from tests.finance.books import make_payment, post_simple

pytestmark = pytest.mark.django_db(databases="__all__")


def _later_statement() -> None:
    """Let the statement clock run ahead of the transaction clock."""
    with connections["finance"].cursor() as cur:
        cur.execute("SELECT pg_sleep(0.02)")


def test_an_entry_posted_with_its_creation_carries_one_timestamp(books: SimpleNamespace) -> None:
    with tenant_context(books.tenant.id, using=["finance"]):
        _later_statement()
        entry = post_simple(books.us)
        entry.refresh_from_db()
        lines = list(JournalLine.objects.filter(entry=entry).values_list("created_at", flat=True))
    assert entry.posted_at is not None
    assert entry.created_at == entry.posted_at
    assert lines == [entry.posted_at] * 2


def test_a_payment_created_submitted_and_paid_in_one_unit_shares_one_clock(
    books: SimpleNamespace,
) -> None:
    with tenant_context(books.tenant.id, using=["finance"]):
        _later_statement()
        payment = make_payment(books, "10.00")
        payment = Payment.objects.get(pk=payment.pk)
    assert payment.submitted_at is not None
    assert payment.created_at == payment.submitted_at == payment.updated_at


def test_updated_at_reads_the_transaction_clock_too(tenant_a: Tenant) -> None:
    """The kernel.touch_row() trigger stamps updates with the unit of work's clock."""
    with tenant_context(tenant_a.id, using=["kernel"]):
        created = Role.objects.create(tenant_id=tenant_a.id, name="clock.test")
        with connections["kernel"].cursor() as cur:
            cur.execute("SELECT pg_sleep(0.02)")
        Role.objects.filter(pk=created.pk).update(name="clock.test2")
        row = Role.objects.get(pk=created.pk)
    assert row.name == "clock.test2"
    assert row.updated_at == row.created_at


def test_seeded_services_never_stamp_creation_after_posting(books: SimpleNamespace) -> None:
    """Across separate units too: what was created first never looks younger."""
    payment = make_payment(books, "10.00")
    services.payment_cancel(actor=system(books.tenant.id), payment_id=payment.pk)
    with tenant_context(books.tenant.id, using=["finance"]):
        payment = Payment.objects.get(pk=payment.pk)
    assert payment.created_at <= payment.submitted_at <= payment.cancelled_at
