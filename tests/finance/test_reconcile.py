"""`ledger_reconcile` finds any drift between stored totals and the posted lines."""

from __future__ import annotations

from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from tests.finance.books import post_simple

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


def test_reconcile_passes_then_reports_a_tampered_balance(
    committed: None, books: SimpleNamespace
) -> None:
    for amount in ("10.00", "20.00"):
        post_simple(books.us, amount)
    out = StringIO()
    call_command("ledger_reconcile", tenant="tenant-a", stdout=out)
    assert "reconcile" in out.getvalue()
    # A superuser edit outside the application (the only way past the privileges).
    with connections["default"].cursor() as cur:
        cur.execute(
            "UPDATE finance.account_balances SET debit_total = debit_total + 1 WHERE account_id = %s",
            [books.us.accounts["5000"].pk],
        )
        cur.execute(
            "UPDATE finance.posting_sequences SET last_seq = last_seq + 1 WHERE company_id = %s",
            [books.us.company.pk],
        )
    err = StringIO()
    with pytest.raises(CommandError, match="2 difference"):
        call_command("ledger_reconcile", tenant="tenant-a", stderr=err)
    assert (
        "account 5000" in err.getvalue()
        and "stored debit 31.0000 vs lines 30.0000" in err.getvalue()
    )
    assert "company US" in err.getvalue()
