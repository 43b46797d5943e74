"""The service's posting path: how many statements a new posted entry costs, and why the one-call
function (``finance.journal_entry_create``, migration 0009) is not a way around any guard — it runs
with the caller's rights, so every refusal the raw SQL tests prove still applies to it."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections
from django.test.utils import CaptureQueriesContext

from finance import services
from tests.factories import system
from tests.finance.books import DAY, post_simple
from tests.finance.helpers import refused, run
from tests.security.helpers import fetchall

pytestmark = pytest.mark.django_db(databases="__all__")

CREATE = (
    'SELECT "finance".journal_entry_create('
    "%s, %s, %s, %s, 'raw', '', 'sql:test', NULL, '', NULL, "
    "%s::uuid[], %s::text[], %s::numeric[], %s::text[], %s)"
)


def _lines(us: Any, debit: str, credit: str) -> list[Any]:
    """accounts, sides, amounts, memos: 5000 debited ``debit``, 1000 credited ``credit``."""
    return [
        [us.accounts["5000"].pk, us.accounts["1000"].pk],
        ["debit", "credit"],
        [Decimal(debit), Decimal(credit)],
        ["", ""],
    ]


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_a_new_posted_entry_costs_one_statement(committed: None, books: SimpleNamespace) -> None:
    """The tenant variables ride with the call; validation, entry, lines and posting are one
    statement. (psycopg sends BEGIN and COMMIT around it; Django's log may list them.)"""
    with CaptureQueriesContext(connections["finance"]) as queries:
        entry = post_simple(books.us)
    assert entry.status == "POSTED" and entry.posting_seq == 1  # type: ignore[attr-defined]
    sent = [q["sql"] for q in queries.captured_queries if q["sql"] not in ("BEGIN", "COMMIT")]
    assert len(sent) == 1, sent
    assert sent[0].startswith("SELECT set_config('app.tenant_id'")
    assert "journal_entry_create" in sent[0]


@pytest.mark.parametrize("function", ["journal_entry_create", "journal_entry_as_json"])
def test_the_posting_function_runs_with_the_callers_rights(function: str) -> None:
    rows = fetchall(
        "default",
        "SELECT p.prosecdef, pg_get_userbyid(p.proowner), p.proacl::text[] FROM pg_proc p "
        "WHERE p.oid = %s::regproc",
        [f"finance.{function}"],
    )
    ((definer, owner, acl),) = rows
    assert definer is False
    assert owner not in ("aibos_finance_role", "aibos_kernel_role", "aibos_config_role")
    grantees = {item.split("=")[0] for item in acl}
    assert "" not in grantees  # no EXECUTE for PUBLIC
    assert grantees - {owner} == {"aibos_finance_role"}


def test_the_posting_function_cannot_post_an_unbalanced_entry(books: SimpleNamespace) -> None:
    tenant = books.tenant.id
    with pytest.raises(DatabaseError) as exc:
        run(
            tenant,
            (
                CREATE,
                [
                    uuid.uuid4(),
                    tenant,
                    books.us.company.pk,
                    DAY,
                    *_lines(books.us, "10", "9"),
                    True,
                ],
            ),
        )
    assert refused(exc) == ("23514", "finance_journalentry_balanced")
    # Unposted, the same lines make a draft (drafts may be unbalanced), numbered nothing.
    entry = uuid.uuid4()
    run(
        tenant,
        (CREATE, [entry, tenant, books.us.company.pk, DAY, *_lines(books.us, "10", "9"), False]),
    )
    assert run(
        tenant,
        (
            "SELECT status, posting_seq, line_count FROM finance.journal_entries WHERE id = %s",
            [entry],
        ),
    ) == [("DRAFT", None, 2)]


def test_the_posting_function_cannot_write_for_another_tenant(
    books: SimpleNamespace, books_b: Any
) -> None:
    """As tenant A with tenant B's ids: B's company is invisible under RLS, so the call is
    refused before it writes (and were it to try, WITH CHECK would refuse the rows)."""
    tenant_b = books_b.company.tenant_id
    entry = uuid.uuid4()
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id,
            (CREATE, [entry, tenant_b, books_b.company.pk, DAY, *_lines(books_b, "5", "5"), True]),
        )
    assert refused(exc) == ("22023", "finance_request_company_missing")
    assert fetchall("default", "SELECT 1 FROM finance.journal_entries WHERE id = %s", [entry]) == []


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_the_posting_function_posts_through_the_guards(
    committed: None, books: SimpleNamespace
) -> None:
    """Numbered, balances booked, and audited like any posting (committed: the audit log is
    read on another connection)."""
    tenant = books.tenant.id
    entry = uuid.uuid4()
    ((result,),) = run(
        tenant,
        (CREATE, [entry, tenant, books.us.company.pk, DAY, *_lines(books.us, "7", "7"), True]),
    )
    created = json.loads(result)
    assert created["created"] is True
    row = created["entry"]
    assert (row["posting_seq"], row["posted_by"], row["status"]) == (
        1,
        "command:sql-test",
        "POSTED",
    )  # helpers.run's actor
    assert [line["debit"] for line in row["lines"]] == [7, 0]
    balance = run(
        tenant,
        (
            "SELECT debit_total FROM finance.account_balances WHERE account_id = %s",
            [books.us.accounts["5000"].pk],
        ),
    )
    assert balance == [(Decimal("7.0000"),)]
    audited = fetchall(
        "default",
        "SELECT table_name, operation, jsonb_array_length(new_values->'lines') "
        "FROM kernel.audit_events WHERE row_id = %s OR new_values->>'entry_id' = %s ORDER BY id",
        [str(entry), str(entry)],
    )
    # One event: the entry as posted, carrying its two lines (tests/finance/test_ledger_audit.py).
    assert audited == [("journal_entries", "INSERT", 2)]


def test_a_refusal_from_the_one_call_path_names_no_row(books: SimpleNamespace) -> None:
    with pytest.raises(services.ApplicationError) as exc:
        services.journal_create_draft(
            actor=system(books.tenant.id),
            company_id=books.us.company.pk,
            entry_date=DAY,
            lines=[services.LineInput(books.us.accounts["5000"].pk, "debit", Decimal("3"))],
            post=True,
        )
    assert exc.value.status == 422
    assert "the journal entry" in exc.value.message.lower()
