"""Query counts of every write endpoint: the statements one request sends, per alias (kernel,
finance, config), exactly. A write answers with the object its service wrote, so a second read
of the same row, a lost prefetch or a per-row query shows up here as a changed number.

Counted: what PostgreSQL is asked to do. Not counted: the test's and the services' savepoints
and the tenant variables (in a request they ride with the unit's first statement; nested in a
test's transaction they are separate statements, and put back afterwards). The kernel's share
includes the credential check (and, for a user's credential, loading the user; the
administrator here is a superuser, whose permission check needs no query).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aibos.db.roles import RUNTIME_ALIASES
from aibos.tenancy import without_variables
from finance import services
from tests.api_client import Api, token_for
from tests.finance.books import DAY, actor, make_payment, post_simple
from tests.finance.test_api import journal_body, payment_body

pytestmark = pytest.mark.django_db(databases="__all__")

_PLUMBING = (
    "SAVEPOINT",
    "RELEASE SAVEPOINT",
    "ROLLBACK TO SAVEPOINT",
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SELECT current_setting(",
)
# A one-statement unit inside a transaction: `SAVEPOINT s; <sql>; RELEASE SAVEPOINT s`.
_AROUND = re.compile(r"^SAVEPOINT (\w+); (?P<statement>.+); RELEASE SAVEPOINT \1$", re.DOTALL)


def _statements(sqls: list[str]) -> list[str]:
    out = []
    for sql in sqls:
        statement = without_variables(sql)  # the variables riding with a unit's first statement
        around = _AROUND.match(statement)
        statement = around["statement"] if around else statement
        if not statement.startswith((*_PLUMBING, "SELECT set_config(")):
            out.append(statement)
    return out


@contextmanager
def counted() -> Iterator[dict[str, list[str]]]:
    """The statements sent on each runtime alias inside the block."""
    sent: dict[str, list[str]] = {}
    with ExitStack() as stack:
        captures = {
            alias: stack.enter_context(CaptureQueriesContext(connections[alias]))
            for alias in RUNTIME_ALIASES
        }
        yield sent
    for alias, capture in captures.items():
        sent[alias] = _statements([q["sql"] for q in capture.captured_queries])


def assert_counts(sent: dict[str, list[str]], **expected: int) -> None:
    counts = {alias: len(sqls) for alias, sqls in sent.items()}
    assert counts == {"kernel": 0, "finance": 0, "config": 0, **expected}, "\n".join(
        f"{alias}: {sql}" for alias, sqls in sent.items() for sql in sqls
    )


def _post(api: Api, path: str, body: Any = None, *, key: str | None = None, status: int) -> Any:
    with counted() as sent:
        response = api.post(path, body, key=key)
    assert response.status_code == status, response.content
    return sent, response.json()


# --- reference books -----------------------------------------------------------------------


def test_create_a_company(admin: Api) -> None:
    body = {"code": "NEW", "name": "New Co", "base_currency": "CHF"}
    sent, _ = _post(admin, "companies/", body, status=201)
    # kernel: the credential, its user. finance: the code taken?, full_clean's checks (the code,
    # the id, the tenant key, the currency CHECK), INSERT ... RETURNING.
    assert_counts(sent, kernel=2, finance=6)


def test_create_an_account(admin: Api, books: SimpleNamespace) -> None:
    body = {
        "company_id": str(books.us.company.pk),
        "code": "6000",
        "name": "R&D",
        "type": "expense",
    }
    sent, _ = _post(admin, "accounts/", body, status=201)
    # finance: the company, the code taken?, full_clean's checks (the id, the tenant key, the
    # type and currency CHECKs), INSERT ... RETURNING.
    assert_counts(sent, kernel=2, finance=7)


def test_create_a_bank_account(admin: Api, books: SimpleNamespace) -> None:
    us = books.us
    body = {
        "company_id": str(us.company.pk),
        "name": "Payroll",
        "bank_code": "B",
        "account_number": "12 34",
        "ledger_account_id": str(us.accounts["1200"].pk),
    }
    sent, _ = _post(admin, "bank-accounts/", body, status=201)
    # finance: the ledger account, INSERT ... RETURNING.
    assert_counts(sent, kernel=2, finance=2)


def test_set_an_fx_rate(cell: Api) -> None:
    body = {"base": "EUR", "quote": "USD", "rate": "1.2000000000", "valid_from": "2026-02-01"}
    sent, _ = _post(cell, "fx-rates/", body, status=201)
    # kernel: the credential (a Cell: no user, no permission check); finance: the open rate it
    # follows (locked), closing it, INSERT.
    assert_counts(sent, kernel=1, finance=3)


# --- journals ------------------------------------------------------------------------------


def test_create_and_post_a_journal(cell: Api, books: SimpleNamespace) -> None:
    sent, body = _post(cell, "journals/", journal_body(books), key="q-1", status=201)
    assert body["status"] == "POSTED" and len(body["lines"]) == 2
    # finance: one statement (finance.journal_entry_create: the key, the checks, entry + lines
    # inserted as POSTED, returned).
    assert_counts(sent, kernel=1, finance=1)
    sent, _ = _post(cell, "journals/", journal_body(books), key="q-1", status=200)
    # A replay: the same statement answers with the stored entry and its lines.
    assert_counts(sent, kernel=1, finance=1)


def test_create_a_draft_journal(cell: Api, books: SimpleNamespace) -> None:
    sent, body = _post(cell, "journals/", journal_body(books, post=False), key="q-2", status=201)
    assert body["status"] == "DRAFT" and body["created_at"]
    # The same one statement: the draft comes back with what the database set.
    assert_counts(sent, kernel=1, finance=1)


def test_add_a_line(cell: Api, books: SimpleNamespace) -> None:
    draft = cell.post("journals/", journal_body(books, lines=[], post=False), key="q-3").json()
    line = {"account_id": str(books.us.accounts["5000"].pk), "side": "debit", "amount": "1.00"}
    sent, _ = _post(cell, f"journals/{draft['id']}/lines/", line, status=201)
    # finance: the entry, its lines so far, the company and account, INSERT, the company.
    assert_counts(sent, kernel=1, finance=5)


def test_post_a_draft(cell: Api, books: SimpleNamespace) -> None:
    draft = cell.post("journals/", journal_body(books, post=False), key="q-4").json()
    sent, body = _post(cell, f"journals/{draft['id']}/post/", status=200)
    assert body["status"] == "POSTED" and len(body["lines"]) == 2
    # finance: the entry and its lines, the posting UPDATE.
    assert_counts(sent, kernel=1, finance=3)


def test_reverse_an_entry(cell: Api, books: SimpleNamespace) -> None:
    entry = post_simple(books.us)
    sent, body = _post(
        cell, f"journals/{entry.pk}/reverse/", {"entry_date": DAY.isoformat()}, status=201
    )
    assert body["reversal_of_id"] == str(entry.pk) and len(body["lines"]) == 2
    # finance: the entry, a reversal already?, INSERT entry, its lines read, INSERT lines,
    # the posting UPDATE.
    assert_counts(sent, kernel=1, finance=6)


# --- payments ------------------------------------------------------------------------------


def test_create_a_payment(cell: Api, books: SimpleNamespace) -> None:
    sent, body = _post(cell, "payments/", payment_body(books), key="q-5", status=201)
    assert body["approvals"] == []
    # finance: the key taken?, company, bank account, debit account, INSERT.
    assert_counts(sent, kernel=1, finance=5)
    sent, _ = _post(cell, "payments/", payment_body(books), key="q-5", status=200)
    # A replay: the stored payment and its decisions.
    assert_counts(sent, kernel=1, finance=2)


def test_submit_a_payment(cell: Api, books: SimpleNamespace) -> None:
    payment = make_payment(books, "900.00", submit=False)
    sent, body = _post(cell, f"payments/{payment.pk}/submit/", status=200)
    assert body["status"] == "SUBMITTED" and body["submitted_at"]
    # finance: the payment (locked), its company, the active matrix, its band, UPDATE.
    assert_counts(sent, kernel=1, finance=5)


def test_cancel_a_payment(cell: Api, books: SimpleNamespace) -> None:
    payment = make_payment(books, "900.00")
    sent, body = _post(cell, f"payments/{payment.pk}/cancel/", status=200)
    assert body["status"] == "CANCELLED" and body["cancelled_at"]
    # finance: the payment (locked) and its decisions, UPDATE.
    assert_counts(sent, kernel=1, finance=3)


def _approver(client: Client, books: SimpleNamespace, user: Any) -> Api:
    return Api(client, token_for(books.tenant, user=user))


@pytest.mark.django_db(databases="__all__", transaction=True)
@pytest.mark.parametrize(
    ("amount", "status"),
    [("900.00", "APPROVED"), ("20000.00", "SUBMITTED")],  # one approval needed / two needed
)
def test_approve_a_payment(
    committed: None,
    client: Client,
    books: SimpleNamespace,
    approvers: SimpleNamespace,
    amount: str,
    status: str,
) -> None:
    payment = make_payment(books, amount)
    l1 = _approver(client, books, approvers.l1)
    sent, body = _post(l1, f"payments/{payment.pk}/approve/", status=200)
    assert body["status"] == status and [a["level"] for a in body["approvals"]] == [1]
    assert body["approvals"][0]["decided_at"]
    # kernel: credential, its user, the approver's roles, the identity plane's grant;
    # finance: the payment (locked), its decisions so far, INSERT the decision ... RETURNING
    # level and decided_at, and only when the payment is decided, its UPDATE ... RETURNING.
    assert_counts(sent, kernel=4, finance=3 if status == "SUBMITTED" else 4)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_reject_a_payment(
    committed: None, client: Client, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "900.00")
    l1 = _approver(client, books, approvers.l1)
    sent, body = _post(l1, f"payments/{payment.pk}/reject/", {"reason": "No"}, status=200)
    assert body["status"] == "REJECTED" and body["decided_at"]
    assert_counts(sent, kernel=4, finance=4)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_mark_a_payment_paid(
    committed: None, cell: Api, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "900.00")
    services.payment_approve(actor=actor(approvers.l1), payment_id=payment.pk)
    sent, body = _post(
        cell, f"payments/{payment.pk}/mark-paid/", {"paid_on": DAY.isoformat()}, status=200
    )
    assert body["status"] == "PAID" and body["paid_at"] and len(body["approvals"]) == 1
    # finance: the payment (locked) and its decisions, the bank account, the posting in one
    # statement, UPDATE.
    assert_counts(sent, kernel=1, finance=5)
    sent, _ = _post(cell, f"payments/{payment.pk}/mark-paid/", {}, status=200)
    assert_counts(sent, kernel=1, finance=2)  # already PAID: returned as it is


# --- approval matrices ---------------------------------------------------------------------


def _matrix_body(books: SimpleNamespace, bands: int) -> dict[str, Any]:
    bounds = [str(i * 1000) for i in range(bands)] + [None]
    return {
        "company_id": str(books.us.company.pk),
        "payment_type": "treasury",
        "currency": "USD",
        "bands": [
            {
                "min_amount": bounds[i],
                "max_amount": bounds[i + 1],
                "required_approvals": 1,
                "approver_roles": ["finance.cfo"],
            }
            for i in range(bands)
        ],
    }


def test_create_an_approval_matrix(admin: Api, books: SimpleNamespace) -> None:
    sent, body = _post(admin, "approval-matrices/", _matrix_body(books, 3), status=201)
    assert [b["min_amount"] for b in body["bands"]] == ["0.0000", "1000.0000", "2000.0000"]
    # finance: the company, the latest version, full_clean's checks (the id, the tenant key, the
    # payment type, currency and status CHECKs), INSERT the matrix, INSERT each band (3).
    assert_counts(sent, kernel=2, finance=11)


def test_activate_an_approval_matrix(admin: Api, books: SimpleNamespace) -> None:
    draft = admin.post("approval-matrices/", _matrix_body(books, 2)).json()
    sent, body = _post(admin, f"approval-matrices/{draft['id']}/activate/", status=200)
    assert body["status"] == "ACTIVE" and body["activated_at"] and len(body["bands"]) == 2
    # finance: the matrix (locked) and its bands, retire the active version, UPDATE ...
    # RETURNING activated_at.
    assert_counts(sent, kernel=2, finance=4)


def test_every_write_endpoint_is_counted() -> None:
    """A new write endpoint needs its query count here."""
    from finance import urls

    counted_names = {
        "companies",
        "accounts",
        "bank-accounts",
        "fx-rates",
        "journals",
        "journal-lines",
        "journal-post",
        "journal-reverse",
        "payments",
        "payment-submit",
        "payment-approve",
        "payment-reject",
        "payment-cancel",
        "payment-mark-paid",
        "approval-matrices",
        "approval-matrix-activate",
    }
    writes = {p.name for p in urls.urlpatterns if hasattr(p.callback.view_class, "post")}
    assert writes == counted_names


# --- what a write answers is what a read returns -------------------------------------------


def test_journal_writes_answer_what_a_read_returns(cell: Api, books: SimpleNamespace) -> None:
    """The entry a write hands back (timestamps the database set, lines attached) serializes
    exactly as the same entry read afresh."""

    def same_as_read(answer: dict[str, Any]) -> dict[str, Any]:
        assert cell.get(f"journals/{answer['id']}/").json() == answer
        return answer

    posted = same_as_read(cell.post("journals/", journal_body(books), key="same-1").json())
    draft = same_as_read(
        cell.post("journals/", journal_body(books, post=False), key="same-2").json()
    )
    same_as_read(cell.post(f"journals/{draft['id']}/post/").json())
    same_as_read(
        cell.post(f"journals/{posted['id']}/reverse/", {"entry_date": DAY.isoformat()}).json()
    )


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_payment_writes_answer_what_a_read_returns(
    committed: None, client: Client, cell: Api, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    l1 = _approver(client, books, approvers.l1)
    l2 = _approver(client, books, approvers.l2)

    def same_as_read(response: Any) -> dict[str, Any]:
        answer = response.json()
        assert cell.get(f"payments/{answer['id']}/").json() == answer
        return answer

    pid = same_as_read(cell.post("payments/", payment_body(books, "20000.00"), key="same-3"))["id"]
    steps = [
        same_as_read(cell.post(f"payments/{pid}/submit/")),
        same_as_read(l1.post(f"payments/{pid}/approve/")),
        same_as_read(l2.post(f"payments/{pid}/approve/", {"reason": "ok"})),
        same_as_read(cell.post(f"payments/{pid}/mark-paid/", {"paid_on": DAY.isoformat()})),
    ]
    assert [a["status"] for a in steps] == ["SUBMITTED", "SUBMITTED", "APPROVED", "PAID"]
    assert [a["level"] for a in steps[-1]["approvals"]] == [1, 2]
    other = same_as_read(cell.post("payments/", payment_body(books), key="same-4"))
    same_as_read(cell.post(f"payments/{other['id']}/cancel/"))


def test_matrix_writes_answer_what_a_read_returns(admin: Api, books: SimpleNamespace) -> None:
    created = admin.post("approval-matrices/", _matrix_body(books, 2)).json()
    activated = admin.post(f"approval-matrices/{created['id']}/activate/").json()
    listed = {m["id"]: m for m in admin.get("approval-matrices/").json()["results"]}
    assert listed[created["id"]] == activated
    assert {**created, "status": "ACTIVE", "activated_at": activated["activated_at"]} == activated


def test_services_hand_back_related_rows_without_a_query(
    books: SimpleNamespace,
) -> None:
    """What the services return carries its lines / decisions / bands: reading them runs no
    query (inside a context, as a view would)."""
    from aibos.tenancy import tenant_context
    from tests.factories import system

    entry = post_simple(books.us)
    payment = make_payment(books, "100.00")
    matrix = services.approval_matrix_create(
        actor=system(books.tenant),
        company_id=books.us.company.pk,
        payment_type="treasury",
        currency="USD",
        bands=[services.BandInput(Decimal(0), None, 1, ["finance.cfo"])],
    )
    with tenant_context(books.tenant.id), counted() as sent:
        assert [line.line_no for line in entry.lines.all()] == [1, 2]  # type: ignore[attr-defined]
        assert list(payment.approvals.all()) == []
        assert len(matrix.bands.all()) == 1
    assert_counts(sent)
