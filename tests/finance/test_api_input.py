"""Input that means one thing: amounts, limits, dates and filters, each refused with a 4xx that
names the field, and nothing written."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DataError

from aibos.errors import DatabaseRefusal
from finance.limits import AMOUNT_MAX
from tests.api_client import Api, token_for
from tests.finance.books import DAY, make_payment, post_simple
from tests.finance.helpers import run
from tests.finance.test_api import entry_count, journal_body, payment_body

pytestmark = pytest.mark.django_db(databases="__all__")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def payment_count(books: SimpleNamespace) -> int:
    return run(books.tenant.id, "SELECT count(*) FROM finance.payments")[0][0]


@pytest.mark.parametrize(
    "amount",
    [
        "\uff11\uff12\uff13",
        "\u0661\u0662\u0663",
        "5\n",
        " 5",
        "5 ",
        "+5",
        "5e2",
        "05.00",
        "",
        "0",
        "0.0000",
        "1,000.00",
        "∞",
    ],
)
def test_amounts_are_ascii_decimal_strings_only(
    cell: Api, books: SimpleNamespace, amount: str
) -> None:
    response = cell.post("journals/", journal_body(books, amount), key=str(uuid.uuid4()))
    assert response.status_code == 400, response.content
    assert "lines" in response.json()["errors"]
    payment = cell.post("payments/", payment_body(books, amount), key=str(uuid.uuid4()))
    assert payment.status_code == 400 and "amount" in payment.json()["errors"]
    assert entry_count(books) == 0 and payment_count(books) == 0


def test_a_line_beyond_the_limit_once_converted_names_the_field_and_the_limit(
    cell: Api, books: SimpleNamespace
) -> None:
    us = books.us
    body = journal_body(books)
    body["lines"] = [
        {
            "account_id": str(us.accounts["1010"].pk),
            "side": "debit",
            "amount": "999999999999999.99",
        },
        {
            "account_id": str(us.accounts["2010"].pk),
            "side": "credit",
            "amount": "999999999999999.99",
        },
    ]
    response = cell.post("journals/", body, key="huge-eur")
    assert response.status_code == 422, response.content
    error = response.json()
    assert error["code"] == "finance_amount_limit"
    assert error["field"] == "lines[0].amount" and error["limit"] == str(AMOUNT_MAX)
    assert "numeric field overflow" not in error["detail"] and "22003" not in str(error)
    assert entry_count(books) == 0


def test_an_entry_total_beyond_the_limit_is_a_422(cell: Api, books: SimpleNamespace) -> None:
    us = books.us
    half = "600000000000000.00"
    body = journal_body(books)
    body["lines"] = [
        {"account_id": str(us.accounts["5000"].pk), "side": "debit", "amount": half},
        {"account_id": str(us.accounts["5000"].pk), "side": "debit", "amount": half},
        {"account_id": str(us.accounts["1000"].pk), "side": "credit", "amount": half},
        {"account_id": str(us.accounts["1000"].pk), "side": "credit", "amount": half},
    ]
    response = cell.post("journals/", body, key="total")
    assert response.status_code == 422 and response.json()["field"] == "lines"
    assert entry_count(books) == 0


def test_balances_hold_any_number_of_maximal_postings(cell: Api, books: SimpleNamespace) -> None:
    largest = "999999999999999.99"  # the largest USD amount (2 decimals)
    for _ in range(3):
        post_simple(books.us, largest)
    body = cell.get(f"accounts/{books.us.accounts['5000'].pk}/balance/").json()
    assert body["debit_total"] == "2999999999999999.9700"


def test_a_payment_beyond_the_limit_once_converted_is_a_422_at_submission(
    cell: Api, books: SimpleNamespace
) -> None:
    us = books.us
    body = payment_body(
        books,
        "999999999999999.99",
        currency="EUR",
        bank_account_id=str(us.foreign_bank.pk),
        debit_account_id=str(us.accounts["2010"].pk),
    )
    created = cell.post("payments/", body, key="huge-pay")
    assert created.status_code == 201, created.content
    submitted = cell.post(f"payments/{created.json()['id']}/submit/")
    assert submitted.status_code == 422, submitted.content
    assert submitted.json()["field"] == "amount" and "limit" in submitted.json()
    assert cell.get(f"payments/{created.json()['id']}/").json()["status"] == "DRAFT"


def test_no_raw_sqlstate_text_reaches_a_client() -> None:
    class Diag:
        message_primary = "numeric field overflow"
        constraint_name = None

    class Cause(Exception):
        sqlstate = "22003"
        diag = Diag()

    exc = DataError("numeric field overflow")
    exc.__cause__ = Cause()
    assert "overflow" not in DatabaseRefusal.of(exc).for_client()


def test_a_date_that_does_not_exist_says_so(cell: Api, books: SimpleNamespace) -> None:
    response = cell.post("journals/", journal_body(books, entry_date="2026-02-30"), key="d")
    assert response.status_code == 400
    assert "not a date that exists" in response.json()["errors"]["entry_date"][0]
    assert entry_count(books) == 0


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01", "1999-12-31", "9999-12-31"])
def test_entry_dates_outside_the_books_window_are_refused(
    cell: Api, books: SimpleNamespace, day: str
) -> None:
    response = cell.post("journals/", journal_body(books, entry_date=day), key=day)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "finance_date_window"
    assert response.json()["field"] == "entry_date"
    assert entry_count(books) == 0


def test_the_window_is_configurable(cell: Api, books: SimpleNamespace, settings: Any) -> None:
    settings.AIBOS_BOOKS_EARLIEST_DATE = dt.date(2026, 6, 1)
    response = cell.post("journals/", journal_body(books), key="early")  # DAY is 2026-03-10
    assert response.status_code == 422 and "2026-06-01" in response.json()["detail"]
    settings.AIBOS_BOOKS_EARLIEST_DATE = dt.date(2000, 1, 1)
    settings.AIBOS_BOOKS_MAX_DAYS_AHEAD = 0
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    late = cell.post("journals/", journal_body(books, entry_date=tomorrow), key="late")
    assert late.status_code == 422 and late.json()["field"] == "entry_date"


def test_mark_paid_on_an_implausible_date_is_refused(
    committed: None, client: Any, cell: Api, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    # Committed: the approval guard reads the approver through another connection.
    payment = make_payment(books, "100.00")
    approver = Api(client, token_for(books.tenant, user=approvers.l1))
    assert approver.post(f"payments/{payment.pk}/approve/").json()["status"] == "APPROVED"
    response = cell.post(f"payments/{payment.pk}/mark-paid/", {"paid_on": "1900-01-01"})
    assert response.status_code == 422 and response.json()["field"] == "paid_on"
    assert cell.get(f"payments/{payment.pk}/").json()["status"] == "APPROVED"
    assert entry_count(books) == 0


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("journals/", {"status": "FOO"}, "status"),
        ("payments/", {"status": "FOO"}, "status"),
        ("journals/", {"status": ""}, "status"),
        ("payments/", {"company_id": "", "status": ""}, "company_id"),
        ("accounts/", {"company_id": "not-a-uuid"}, "company_id"),
    ],
)
def test_bad_filter_values_are_a_400_listing_the_allowed_ones(
    cell: Api, path: str, query: dict[str, str], field: str
) -> None:
    response = cell.get(path, **query)
    assert response.status_code == 400, response.content
    message = response.json()["errors"][field][0]
    if query.get(field) == "FOO":
        assert "DRAFT" in message and ("POSTED" in message or "APPROVED" in message)


def test_a_good_filter_filters(cell: Api, books: SimpleNamespace) -> None:
    post_simple(books.us)
    assert len(cell.get("journals/", status="POSTED").json()["results"]) == 1
    assert cell.get("journals/", status="DRAFT").json()["results"] == []


def test_an_unbalanced_entry_posted_at_creation_names_no_entry(
    cell: Api, books: SimpleNamespace
) -> None:
    body = journal_body(books)
    body["lines"][1]["amount"] = "125.49"
    response = cell.post("journals/", body, key="unbalanced")
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert detail.startswith("The journal entry does not balance"), detail
    # Any id it names must exist (here: none at all, the entry was rolled back).
    named_ids = {k: v for k, v in response.json().items() if k != "correlation_id"}
    for named in UUID.findall(str(named_ids)):
        assert cell.get(f"journals/{named}/").status_code == 200
    assert entry_count(books) == 0


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(post=0), "post"),
        (lambda b: b.update(post="true"), "post"),
        (lambda b: b.update(reference=123), "reference"),
        (lambda b: b.update(memo="a\x00b"), "memo"),
        (lambda b: b.update(company_id=uuid.uuid4().hex), "company_id"),
        (lambda b: b["lines"][0].update(side="DEBIT"), "lines"),
    ],
)
def test_inputs_of_the_wrong_json_type_are_refused(
    cell: Api, books: SimpleNamespace, mutate: Any, field: str
) -> None:
    body = journal_body(books)
    mutate(body)
    response = cell.post("journals/", body, key=str(uuid.uuid4()))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]
    assert entry_count(books) == 0


def test_currency_codes_are_exact(admin: Api, books: SimpleNamespace) -> None:
    body = {"code": "LOW", "name": "Lower", "base_currency": "chf"}
    response = admin.post("companies/", body)
    assert response.status_code == 400 and "base_currency" in response.json()["errors"]
    assert admin.post("companies/", {**body, "base_currency": "CHF"}).status_code == 201


def test_fx_rate_base_and_quote_must_differ(cell: Api) -> None:
    rate = {"base": "GBP", "quote": "GBP", "rate": "1", "valid_from": DAY.isoformat()}
    response = cell.post("fx-rates/", rate)
    assert response.status_code == 422 and response.json()["code"] == "finance_fxrate_pair"
