"""The OpenAPI document tells the truth: every response of every operation — successes and
errors — has a documented status and a body that validates against the generated schema."""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from django.test import Client

from tests.api_client import LIST_PATHS, Api, token_for
from tests.finance.books import DAY, post_simple
from tests.finance.test_api import journal_body, payment_body

pytestmark = pytest.mark.django_db(databases="__all__")


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema (``nullable`` becomes a "null" alternative)."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        node = {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def document(client: Client) -> dict[str, Any]:
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


class Contract:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.components = _json_schema(copy.deepcopy(document["components"]))
        self.seen: set[tuple[str, str, int]] = set()
        self.templates = [
            (re.compile("^" + re.sub(r"\{\w+\}", "[^/]+", path) + "$"), path)
            for path in document["paths"]
        ]

    def template(self, url: str) -> str:
        path = url.split("?")[0]
        for pattern, template in self.templates:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not in the document")

    def check(self, method: str, url: str, response: Any) -> Any:
        template = self.template(url)
        operation = self.document["paths"][template][method]
        status = str(response.status_code)
        assert status in operation["responses"], (method, template, status, response.content)
        self.seen.add((method, template, response.status_code))
        content = operation["responses"][status].get("content")
        if content is None:
            return response
        assert response["Content-Type"] == "application/json", (method, template, status)
        schema = {**_json_schema(content["application/json"]["schema"])}
        schema["components"] = self.components
        jsonschema.Draft7Validator(
            schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
        ).validate(response.json())
        return response


class CheckedApi(Api):
    def __init__(self, client: Client, token: str, contract: Contract) -> None:
        super().__init__(client, token)
        self.contract = contract

    def get(self, path: str, **params: Any) -> Any:
        return self.contract.check("get", f"/api/v1/{path}", super().get(path, **params))

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.contract.check("post", f"/api/v1/{path}", super().post(path, body, **kwargs))


@pytest.fixture
def contract(document: dict[str, Any]) -> Iterator[Contract]:
    yield Contract(document)


def test_every_operation_answers_as_documented(
    committed: None,  # the approval guard reads the approvers through another connection
    client: Client,
    books: SimpleNamespace,
    alice: Any,
    approvers: SimpleNamespace,
    contract: Contract,
) -> None:
    admin = CheckedApi(client, token_for(books.tenant, user=alice), contract)
    cell = CheckedApi(client, token_for(books.tenant), contract)
    l1 = CheckedApi(client, token_for(books.tenant, user=approvers.l1), contract)
    us = books.us
    post_simple(us)
    missing = uuid.uuid4()

    # Lists: a page, a filtered page, bad filters, a cursor to nowhere; no credential.
    for path in LIST_PATHS:
        page = admin.get(path, limit="1")
        if page.json()["next"]:
            admin.client.get(page.json()["next"], **admin.auth)
        admin.get(path, limit="0")
        admin.get(path, cursor=str(missing))
        contract.check("get", f"/api/v1/{path}", client.get(f"/api/v1/{path}"))
    admin.get("journals/", status="FOO")
    admin.get("payments/", status="SUBMITTED", company_id=str(us.company.pk))
    admin.get("me/")

    # Reference data.
    company = admin.post("companies/", {"code": "C1", "name": "C1", "base_currency": "CHF"})
    admin.post("companies/", {"code": "C1", "name": "C1", "base_currency": "CHF"})  # 409
    cell.post("companies/", {"code": "C2", "name": "C2", "base_currency": "CHF"})  # 403
    admin.post("companies/", {"code": "", "name": "x", "base_currency": "CHF"})  # 400
    account = admin.post(
        "accounts/",
        {"company_id": company.json()["id"], "code": "1000", "name": "Bank", "type": "asset"},
    )
    admin.post(
        "accounts/", {"company_id": str(missing), "code": "1", "name": "x", "type": "asset"}
    )  # 404
    admin.post(
        "bank-accounts/",
        {
            "company_id": company.json()["id"],
            "name": "Main",
            "bank_code": "B",
            "account_number": "CH93 0076 2011 6238 5295 7",
            "ledger_account_id": account.json()["id"],
        },
    )
    admin.get(f"accounts/{account.json()['id']}/balance/")
    admin.get(f"accounts/{us.accounts['5000'].pk}/balance/")
    admin.get(f"accounts/{missing}/balance/")  # 404
    admin.post(
        "fx-rates/", {"base": "CHF", "quote": "USD", "rate": "1.13", "valid_from": "2026-01-01"}
    )
    admin.post(
        "fx-rates/", {"base": "CHF", "quote": "CHF", "rate": "1", "valid_from": "2026-01-01"}
    )
    bands = [{"min_amount": "0", "required_approvals": 1, "approver_roles": ["finance.cfo"]}]
    matrix = admin.post(
        "approval-matrices/",
        {
            "company_id": str(us.company.pk),
            "payment_type": "treasury",
            "currency": "USD",
            "bands": bands,
        },
    )
    admin.post(f"approval-matrices/{matrix.json()['id']}/activate/")
    admin.post(f"approval-matrices/{matrix.json()['id']}/activate/")  # 409
    admin.post(f"approval-matrices/{missing}/activate/")  # 404

    # Journals.
    created = cell.post("journals/", journal_body(books), key="c-1")
    cell.post("journals/", journal_body(books), key="c-1")  # 200 replay
    cell.post("journals/", journal_body(books, reference="other"), key="c-1")  # 409
    unbalanced = journal_body(books)
    unbalanced["lines"][1]["amount"] = "1.00"
    cell.post("journals/", unbalanced, key="c-2")  # 422
    cell.post("journals/", journal_body(books, "0"), key="c-3")  # 400
    cell.post("journals/", journal_body(books), key=None)  # 400: no key
    cell.post("journals/", raw="[" * 100, key="c-4")  # 413
    contract.check(
        "post",
        "/api/v1/journals/",
        client.post("/api/v1/journals/", "a=1", content_type="text/plain", **cell.auth),
    )  # 415
    entry = created.json()["id"]
    cell.get(f"journals/{entry}/")
    cell.get(f"journals/{missing}/")
    draft = cell.post("journals/", {**journal_body(books), "lines": [], "post": False}, key="d")
    line = {"account_id": str(us.accounts["5000"].pk), "side": "debit", "amount": "5.00"}
    cell.post(f"journals/{draft.json()['id']}/lines/", line)
    cell.post(f"journals/{draft.json()['id']}/post/")  # 422: unbalanced
    cell.post(f"journals/{entry}/lines/", line)  # 409: posted
    cell.post(f"journals/{entry}/post/")
    cell.post(f"journals/{entry}/reverse/", {"entry_date": DAY.isoformat()})
    cell.post(f"journals/{entry}/reverse/", {})  # 409
    cell.post(f"journals/{missing}/reverse/", {})  # 404

    # Payments.
    payment = cell.post("payments/", payment_body(books), key="p-1").json()["id"]
    cell.get(f"payments/{payment}/")
    cell.post(f"payments/{payment}/approve/")  # 409: still a draft
    cell.post(f"payments/{payment}/submit/")
    cell.post(f"payments/{payment}/approve/")  # 403: a Cell
    l1.post(f"payments/{payment}/reject/", {})  # 400: no reason
    assert l1.post(f"payments/{payment}/approve/", {"reason": "ok"}).status_code == 200
    cell.post(f"payments/{payment}/mark-paid/", {"paid_on": "1900-01-01"})  # 422
    assert (
        cell.post(f"payments/{payment}/mark-paid/", {"paid_on": DAY.isoformat()}).status_code == 200
    )
    other = cell.post("payments/", payment_body(books, "1.00"), key="p-2").json()["id"]
    cell.post(f"payments/{other}/submit/")
    assert l1.post(f"payments/{other}/reject/", {"reason": "no"}).status_code == 200
    cell.post(f"payments/{other}/cancel/")  # 409: rejected
    third = cell.post("payments/", payment_body(books, "2.00"), key="p-3").json()["id"]
    cell.post(f"payments/{third}/cancel/")
    cell.get(f"payments/{missing}/")

    operations = {
        (method, path) for path, ops in contract.document["paths"].items() for method in ops
    }
    exercised = {(method, path) for method, path, _ in contract.seen}
    assert operations <= exercised, operations - exercised
    statuses = {status for _, _, status in contract.seen}
    assert {200, 201, 400, 401, 403, 404, 409, 413, 415, 422} <= statuses


def test_the_checker_rejects_a_body_the_document_does_not_describe(
    cell: Api, contract: Contract
) -> None:
    class Fake:
        status_code = 200
        content = b""

        def __getitem__(self, key: str) -> str:
            return "application/json"

        def json(self) -> Any:
            return [{"id": "not a page"}]  # a bare array: what the document used to claim

    with pytest.raises(jsonschema.ValidationError):
        contract.check("get", "/api/v1/journals/", Fake())
    Fake.json = lambda self: {"results": [], "next": None, "extra": 1}  # type: ignore[method-assign]
    contract.check("get", "/api/v1/journals/", Fake())
    Fake.status_code = 418
    with pytest.raises(AssertionError):
        contract.check("get", "/api/v1/journals/", Fake())


def test_every_documented_default_is_valid_for_its_own_field(contract: Contract) -> None:
    checked = 0
    for component in contract.components["schemas"].values():
        for schema in component.get("properties", {}).values():
            alternatives = schema.get("oneOf") or schema.get("anyOf") or [schema]
            default = next((s["default"] for s in alternatives if "default" in s), None)
            if default is None:
                continue
            checked += 1
            jsonschema.Draft7Validator(schema).validate(default)
    assert checked >= 5


def test_list_filters_and_page_parameters_are_documented(contract: Contract) -> None:
    parameters = {
        p["name"]: p for p in contract.document["paths"]["/api/v1/payments/"]["get"]["parameters"]
    }
    assert set(parameters) == {"company_id", "cursor", "limit", "status"}
    assert "APPROVED" in parameters["status"]["schema"]["enum"]
    assert parameters["limit"]["schema"]["maximum"] == 200
    page = contract.document["components"]["schemas"]["PaginatedPaymentList"]
    assert set(page["required"]) == {"results", "next"}


# Every character Python's str.strip() removes (what DRF trims before it calls a value blank),
# and U+FEFF, which ECMA's \s has and str.strip() keeps.
BLANKISH = ["\t", "\n", "\x0b", "\x1c", "\x1e", " ", "\x85", "\xa0", "\u2007", "\u3000", "\ufeff"]


def _text_patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "string" and "pattern" in node and "format" not in node:
            yield node["pattern"]
        for value in node.values():
            yield from _text_patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _text_patterns(value)


def test_required_text_is_blank_to_the_document_exactly_when_the_api_says_so(
    contract: Contract, client: Client, alice: Any, books: SimpleNamespace
) -> None:
    """Found by schemathesis: a role named "\\x1e" matched the document's ``\\s``-based pattern
    (ECMA's \\s lacks U+001C-U+001F) while DRF trimmed it to blank and answered 400."""
    from finance.apis import REQUIRED_TEXT_PATTERN

    patterns = set(_text_patterns(contract.document["components"]))
    assert REQUIRED_TEXT_PATTERN in patterns
    # Shorthand classes mean different things to Python's re and to ECMA (the document's
    # dialect, and schemathesis'): every documented pattern spells its characters out.
    assert [p for p in patterns if re.search(r"\\[sSwWdDb]", p)] == []
    for char in BLANKISH:
        blank_to_api = char.strip() == ""
        assert bool(re.search(REQUIRED_TEXT_PATTERN, char * 2)) is not blank_to_api, repr(char)
    band = {"min_amount": "0", "required_approvals": 1, "approver_roles": ["\x1e"]}
    body = {"company_id": str(books.us.company.pk), "payment_type": "vendor", "currency": "USD"}
    admin = Api(client, token_for(books.tenant, user=alice))
    response = admin.post("approval-matrices/", {**body, "bands": [band]})
    assert response.status_code == 400
    assert "approver_roles" in response.json()["errors"]["bands"]["0"]


def test_max_length_counts_what_was_sent_before_trimming() -> None:
    from rest_framework.exceptions import ValidationError

    from aibos.fields import StrictCharField

    field = StrictCharField(max_length=5)
    assert field.run_validation(" abc ") == "abc"
    with pytest.raises(ValidationError):
        field.run_validation(" abcde")
