"""The Cells API: happy paths, idempotency, bad input (4xx, nothing written), other-tenant
access to every endpoint, keyset pagination and bounded query counts."""

from __future__ import annotations

import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kernel.models import Tenant, User
from tests.api_client import LIST_PATHS, Api, token_for
from tests.finance.books import DAY, make_payment, post_simple
from tests.finance.helpers import run

pytestmark = pytest.mark.django_db(databases="__all__")


@pytest.fixture
def charlie_api(client: Client, charlie: User, tenant_b: Tenant, books_b: Any) -> Api:
    return Api(client, token_for(tenant_b, user=charlie))


def journal_body(books: SimpleNamespace, amount: str = "125.50", **extra: Any) -> dict[str, Any]:
    us = books.us
    return {
        "company_id": str(us.company.pk),
        "entry_date": DAY.isoformat(),
        "reference": "API-1",
        "lines": [
            {"account_id": str(us.accounts["5000"].pk), "side": "debit", "amount": amount},
            {"account_id": str(us.accounts["1000"].pk), "side": "credit", "amount": amount},
        ],
        "post": True,
        **extra,
    }


def payment_body(books: SimpleNamespace, amount: str = "900.00", **extra: Any) -> dict[str, Any]:
    us = books.us
    return {
        "company_id": str(us.company.pk),
        "payment_type": "vendor",
        "amount": amount,
        "currency": "USD",
        "bank_account_id": str(us.bank.pk),
        "debit_account_id": str(us.accounts["2000"].pk),
        "beneficiary_name": "Vendor GmbH",
        "beneficiary_account": "DE89370400440532013000",
        **extra,
    }


def entry_count(books: SimpleNamespace) -> int:
    return run(books.tenant.id, "SELECT count(*) FROM finance.journal_entries")[0][0]


# --- journals ------------------------------------------------------------------------------


def test_post_a_journal_and_replay_it(cell: Api, books: SimpleNamespace) -> None:
    first = cell.post("journals/", journal_body(books), key="j-1")
    assert first.status_code == 201, first.json()
    body = first.json()
    assert body["status"] == "POSTED" and body["posting_seq"] == 1 and len(body["lines"]) == 2
    assert body["lines"][0]["debit"] == "125.5000"
    replay = cell.post("journals/", journal_body(books), key="j-1")
    assert replay.status_code == 200 and replay["Idempotent-Replay"] == "true"
    assert replay.json()["id"] == body["id"]
    clash = cell.post("journals/", journal_body(books, "125.51", reference="other"), key="j-1")
    assert clash.status_code == 409
    assert clash.json()["differing_fields"] == ["lines", "reference"]
    assert entry_count(books) == 1


def test_draft_add_line_post_reverse(cell: Api, books: SimpleNamespace) -> None:
    us = books.us
    draft = cell.post(
        "journals/", {**journal_body(books), "lines": [], "post": False}, key="d-1"
    ).json()
    for account, side in (("5000", "debit"), ("1000", "credit")):
        line = cell.post(
            f"journals/{draft['id']}/lines/",
            {"account_id": str(us.accounts[account].pk), "side": side, "amount": "10.00"},
        )
        assert line.status_code == 201, line.json()
    posted = cell.post(f"journals/{draft['id']}/post/")
    assert posted.status_code == 200 and posted.json()["status"] == "POSTED"
    assert cell.post(f"journals/{draft['id']}/post/").json()["posting_seq"] == 1  # idempotent
    late = cell.post(
        f"journals/{draft['id']}/lines/",
        {"account_id": str(us.accounts["5000"].pk), "side": "debit", "amount": "1.00"},
    )
    assert late.status_code == 409
    reversal = cell.post(f"journals/{draft['id']}/reverse/", {"entry_date": DAY.isoformat()})
    assert reversal.status_code == 201 and reversal.json()["reversal_of_id"] == draft["id"]
    again = cell.post(f"journals/{draft['id']}/reverse/", {"entry_date": DAY.isoformat()})
    assert again.status_code == 409 and again.json()["reversal_id"] == reversal.json()["id"]


def test_unbalanced_posting_is_a_422_naming_the_rule_and_writes_nothing(
    cell: Api, books: SimpleNamespace
) -> None:
    body = journal_body(books)
    body["lines"][1]["amount"] = "125.49"
    response = cell.post("journals/", body, key="u-1")
    assert response.status_code == 422
    assert response.json()["code"] == "finance_journalentry_balanced"
    assert "does not balance" in response.json()["detail"]
    assert entry_count(books) == 0


@pytest.mark.parametrize(
    ("mutate", "status"),
    [
        (lambda b: b["lines"][0].update(amount=125.5), 400),  # a JSON number
        (lambda b: b["lines"][0].update(amount="NaN"), 400),
        (lambda b: b["lines"][0].update(amount="-125.50"), 400),
        (lambda b: b["lines"][0].update(amount="0.00"), 400),
        (
            lambda b: b["lines"][0].update(amount="1234567890123456.00"),
            400,
        ),  # overflows NUMERIC(19,4)
        (lambda b: b["lines"][0].update(amount="1.00001"), 400),
        (lambda b: b["lines"][0].update(amount="125.505"), 422),  # more decimals than USD has
        (lambda b: b["lines"][0].update(side="sideways"), 400),
        (lambda b: b["lines"][0].update(account_id="not-a-uuid"), 400),
        (lambda b: b["lines"][0].update(account_id=str(uuid.uuid4())), 404),
        (lambda b: b.update(company_id=str(uuid.uuid4())), 404),
        (lambda b: b.update(entry_date="2026-02-30"), 400),
        (lambda b: b.pop("company_id"), 400),
    ],
)
def test_bad_journal_input_is_a_clear_4xx_and_writes_nothing(
    cell: Api, books: SimpleNamespace, mutate: Any, status: int
) -> None:
    body = journal_body(books)
    mutate(body)
    response = cell.post("journals/", body, key=str(uuid.uuid4()))
    assert response.status_code == status, response.content
    assert response.json()["detail"] if "detail" in response.json() else response.json()
    assert entry_count(books) == 0


def test_another_companys_account_is_refused(cell: Api, books: SimpleNamespace) -> None:
    body = journal_body(books)
    body["lines"][1]["account_id"] = str(books.eu.accounts["1000"].pk)
    response = cell.post("journals/", body, key="x-co")
    assert response.status_code == 422 and "another company" in response.json()["detail"]
    assert entry_count(books) == 0


@pytest.mark.parametrize(
    "raw",
    ['{"company_id": ', "not json", '{"amount": NaN}', '{"amount": Infinity}'],
)
def test_malformed_json_is_a_400(cell: Api, books: SimpleNamespace, raw: str) -> None:
    response = cell.post("journals/", raw=raw, key="m-1")
    assert response.status_code == 400
    assert "JSON" in response.json()["detail"]
    assert entry_count(books) == 0


def test_missing_idempotency_key_is_a_400(cell: Api, books: SimpleNamespace) -> None:
    for path, body in (("journals/", journal_body(books)), ("payments/", payment_body(books))):
        response = cell.post(path, body)
        assert response.status_code == 400
        assert response.json()["code"] == "idempotency_key_required"
    assert entry_count(books) == 0


def test_a_tenant_id_in_the_body_is_ignored(
    cell: Api, books: SimpleNamespace, tenant_b: Tenant
) -> None:
    response = cell.post("journals/", journal_body(books, tenant_id=str(tenant_b.id)), key="t-1")
    assert response.status_code == 201
    assert run(tenant_b.id, "SELECT count(*) FROM finance.journal_entries") == [(0,)]
    assert entry_count(books) == 1


# --- payments ------------------------------------------------------------------------------


def test_payment_lifecycle_through_the_api(
    committed: None, client: Client, cell: Api, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    created = cell.post("payments/", payment_body(books, "15000.00"), key="p-1")
    assert created.status_code == 201, created.json()
    payment = created.json()
    assert payment["beneficiary_account"].endswith("3000") and "•" in payment["beneficiary_account"]
    pid = payment["id"]
    submitted = cell.post(f"payments/{pid}/submit/").json()
    assert submitted["policy"]["required_approvals"] == 2
    assert cell.post(f"payments/{pid}/approve/").status_code == 403  # a Cell is not a person
    for user in (approvers.l1, approvers.l2):
        response = Api(client, token_for(books.tenant, user=user)).post(f"payments/{pid}/approve/")
        assert response.status_code == 200, response.json()
    detail = cell.get(f"payments/{pid}/").json()
    assert detail["status"] == "APPROVED"
    assert [a["level"] for a in detail["approvals"]] == [1, 2]
    paid = cell.post(f"payments/{pid}/mark-paid/", {"paid_on": DAY.isoformat()}).json()
    assert paid["status"] == "PAID" and paid["journal_entry_id"]
    assert cell.post(f"payments/{pid}/cancel/").status_code == 409


def test_rejection_needs_a_reason(
    committed: None, client: Client, cell: Api, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    pid = cell.post("payments/", payment_body(books), key="p-r").json()["id"]
    cell.post(f"payments/{pid}/submit/")
    approver = Api(client, token_for(books.tenant, user=approvers.l1))
    assert approver.post(f"payments/{pid}/reject/", {}).status_code == 400
    rejected = approver.post(f"payments/{pid}/reject/", {"reason": "Wrong vendor"})
    assert rejected.json()["status"] == "REJECTED"


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"currency": "XYZ"}, 400),
        ({"currency": "EUR"}, 422),  # the bank account is in USD
        ({"amount": 900.0}, 400),
        ({"amount": "-1.00"}, 400),
        ({"payment_type": "gift"}, 400),
        ({"bank_account_id": str(uuid.uuid4())}, 404),
    ],
)
def test_bad_payment_input(
    cell: Api, books: SimpleNamespace, change: dict[str, Any], status: int
) -> None:
    response = cell.post("payments/", payment_body(books, **change), key=str(uuid.uuid4()))
    assert response.status_code == status, response.content
    assert run(books.tenant.id, "SELECT count(*) FROM finance.payments") == [(0,)]


def test_same_payment_key_other_payload_is_a_409_naming_fields(
    cell: Api, books: SimpleNamespace
) -> None:
    assert cell.post("payments/", payment_body(books), key="same").status_code == 201
    assert cell.post("payments/", payment_body(books), key="same").status_code == 200
    clash = cell.post("payments/", payment_body(books, "901.00"), key="same")
    assert clash.status_code == 409 and clash.json()["differing_fields"] == ["amount"]


# --- reference data, matrices, balances ----------------------------------------------------


def test_reference_data_is_written_by_administrators_not_cells(
    cell: Api, admin: Api, books: SimpleNamespace
) -> None:
    body = {"code": "NEW", "name": "New Co", "base_currency": "CHF"}
    assert cell.post("companies/", body).status_code == 403
    assert admin.post("companies/", body).status_code == 201
    assert admin.post("companies/", body).status_code == 409
    bands = [
        {
            "min_amount": "0",
            "max_amount": None,
            "required_approvals": 1,
            "approver_roles": ["finance.cfo"],
        }
    ]
    matrix = {
        "company_id": str(books.us.company.pk),
        "payment_type": "treasury",
        "currency": "USD",
        "bands": bands,
    }
    assert cell.post("approval-matrices/", matrix).status_code == 403
    created = admin.post("approval-matrices/", matrix)
    assert created.status_code == 201 and created.json()["status"] == "DRAFT"
    activated = admin.post(f"approval-matrices/{created.json()['id']}/activate/")
    assert activated.status_code == 200 and activated.json()["status"] == "ACTIVE"
    rate = {"base": "GBP", "quote": "USD", "rate": "1.2700000000", "valid_from": "2026-01-01"}
    assert cell.post("fx-rates/", rate).status_code == 201  # rate feeds are Cells
    assert cell.post("fx-rates/", {**rate, "rate": "0"}).status_code == 400


def test_balance_endpoint(cell: Api, books: SimpleNamespace) -> None:
    post_simple(books.us, "70.00")
    post_simple(books.us, "30.00")
    body = cell.get(f"accounts/{books.us.accounts['5000'].pk}/balance/").json()
    assert (body["debit_total"], body["balance"], body["line_count"]) == ("100.0000", "100.0000", 2)


# --- other tenants -------------------------------------------------------------------------


def test_every_endpoint_hides_another_tenants_rows(
    charlie_api: Api, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    entry = post_simple(books.us)
    payment = make_payment(books, "100.00")
    matrix = run(books.tenant.id, "SELECT id FROM finance.approval_matrices LIMIT 1")[0][0]
    account = books.us.accounts["5000"].pk
    for path in (
        f"journals/{entry.pk}/",
        f"payments/{payment.pk}/",
        f"accounts/{account}/balance/",
    ):
        assert charlie_api.get(path).status_code == 404, path
    for path, body in (
        (f"journals/{entry.pk}/post/", None),
        (f"journals/{entry.pk}/reverse/", {}),
        (
            f"journals/{entry.pk}/lines/",
            {"account_id": str(account), "side": "debit", "amount": "1.00"},
        ),
        (f"payments/{payment.pk}/submit/", None),
        (f"payments/{payment.pk}/approve/", None),
        (f"payments/{payment.pk}/reject/", {"reason": "x"}),
        (f"payments/{payment.pk}/cancel/", None),
        (f"payments/{payment.pk}/mark-paid/", {}),
        (f"approval-matrices/{matrix}/activate/", None),
    ):
        assert charlie_api.post(path, body).status_code in (403, 404), path
    for path in LIST_PATHS:
        ids = {row["id"] for row in charlie_api.get(path).json()["results"]}
        assert str(entry.pk) not in ids and str(payment.pk) not in ids and str(account) not in ids
        assert not ids & {str(books.us.company.pk), str(books.us.bank.pk)}, path
    # Creating anything in tenant B that points at tenant A's rows: the same 404 as a missing row.
    us = books.us
    own = str(run(charlie_api_tenant(charlie_api), "SELECT id FROM finance.companies")[0][0])
    body = journal_body(books)
    body["company_id"] = own
    assert charlie_api.post("journals/", body, key="c-1").status_code == 404
    band = {"min_amount": "0", "required_approvals": 1, "approver_roles": ["r"]}
    for path, create in (
        ("payments/", payment_body(books)),
        ("payments/", payment_body(books, company_id=own)),
        (
            "accounts/",
            {"company_id": str(us.company.pk), "code": "9", "name": "x", "type": "asset"},
        ),
        (
            "bank-accounts/",
            {
                "company_id": own,
                "name": "x",
                "bank_code": "B",
                "account_number": "1",
                "ledger_account_id": str(us.accounts["1000"].pk),
            },
        ),
        (
            "approval-matrices/",
            {
                "company_id": str(us.company.pk),
                "payment_type": "vendor",
                "currency": "USD",
                "bands": [band],
            },
        ),
    ):
        response = charlie_api.post(path, create, key=str(uuid.uuid4()))
        assert response.status_code == 404, (path, response.content)
    assert run(books.tenant.id, "SELECT count(*) FROM finance.payments") == [(1,)]


def charlie_api_tenant(api: Api) -> uuid.UUID:
    me = api.get("me/").json()
    return uuid.UUID(me["tenant_id"])


def test_no_credential_no_access(client: Client, books: SimpleNamespace) -> None:
    for path in ("journals/", "payments/", "companies/"):
        assert client.get(f"/api/v1/{path}").status_code == 401


# --- pagination and query counts -----------------------------------------------------------


def test_keyset_pages_cover_everything_once(cell: Api, books: SimpleNamespace) -> None:
    for i in range(7):
        post_simple(books.us, f"{i + 1}.00")
    seen: list[str] = []
    url: str | None = "journals/?limit=3"
    pages = 0
    while url:
        body = cell.client.get(
            url if url.startswith("http") else f"/api/v1/{url}", **cell.auth
        ).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == 7
    assert cell.get("journals/", cursor="garbage").status_code == 400
    assert cell.get("journals/", limit="0").status_code == 400
    assert cell.get("journals/", limit="x").status_code == 400


def test_journal_list_counts_each_entrys_lines(cell: Api, books: SimpleNamespace) -> None:
    posted = post_simple(books.us)
    draft = cell.post(
        "journals/", {**journal_body(books), "lines": [], "post": False}, key="lc-1"
    ).json()
    rows = {row["id"]: row["line_count"] for row in cell.get("journals/").json()["results"]}
    assert rows == {str(posted.pk): 2, draft["id"]: 0}


@pytest.mark.parametrize("path", ["journals/", "payments/", "accounts/", "approval-matrices/"])
def test_list_query_count_does_not_grow_with_rows(
    cell: Api, books: SimpleNamespace, path: str
) -> None:
    def queries() -> int:
        """Data queries on the finance connection (not the test's savepoints or the tenant
        variables the context sets)."""
        with CaptureQueriesContext(connections["finance"]) as captured:
            assert cell.get(path).status_code == 200
        plumbing = ("SAVEPOINT", "RELEASE", "SELECT set_config", "SELECT current_setting")
        return sum(not q["sql"].startswith(plumbing) for q in captured.captured_queries)

    post_simple(books.us)
    make_payment(books, "10.00")
    few = queries()
    for i in range(6):
        post_simple(books.us)
        make_payment(books, f"{i + 11}.00")
    assert queries() == few <= 2  # the page, and for matrices their bands (one prefetch)


# --- OpenAPI -------------------------------------------------------------------------------


def test_openapi_schema_and_offline_docs(client: Client) -> None:
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    doc = json.loads(schema.content)
    assert "/api/v1/payments/{payment_id}/approve/" in doc["paths"]
    assert doc["components"]["securitySchemes"]["apiCredential"]["scheme"] == "bearer"
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html and "cdn" not in html.lower() and "unpkg" not in html
