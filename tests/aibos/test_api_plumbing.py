"""The API plumbing (aibos/): every answer under /api/ is JSON, bodies are JSON only and
bounded, cursors and limits cannot make a 500."""

from __future__ import annotations

import base64
import json
import uuid
from types import SimpleNamespace

import pytest
from django.test import Client

from aibos.parsers import MAX_DEPTH, nesting_depth
from tests.api_client import LIST_PATHS, Api
from tests.finance.test_api import entry_count, journal_body

pytestmark = pytest.mark.django_db(databases="__all__")


def _cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize("path", LIST_PATHS)
@pytest.mark.parametrize(
    "cursor",
    [
        _cursor("[null,null]"),
        _cursor('["2020-01-01",null]'),
        _cursor("[" * 3000 + "]" * 3000),
        "garbage",
        "",
        "0123456789abcdef0123456789abcdef",  # a UUID, but not in canonical form
    ],
)
def test_a_forged_cursor_is_a_400_on_every_list(cell: Api, path: str, cursor: str) -> None:
    response = cell.get(path, cursor=cursor)
    assert response.status_code == 400, response.content
    assert "cursor" in response.json()["errors"]


@pytest.mark.parametrize("path", LIST_PATHS)
def test_a_cursor_pointing_at_no_row_is_a_404(cell: Api, path: str) -> None:
    response = cell.get(path, cursor=str(uuid.uuid4()))
    assert response.status_code == 404 and response.json()["detail"]


@pytest.mark.parametrize("limit", ["", "0", "201", "-1", "+5", " 5", "\uff15", "5.0"])
def test_a_bad_limit_is_a_400(cell: Api, limit: str) -> None:
    assert cell.get("journals/", limit=limit).status_code == 400


def test_pages_follow_the_next_link(cell: Api, books: SimpleNamespace) -> None:
    first = cell.get("companies/", limit="1").json()
    assert len(first["results"]) == 1 and first["next"]
    second = cell.client.get(first["next"], **cell.auth).json()
    assert [r["id"] for r in second["results"]] != [r["id"] for r in first["results"]]


def deep(depth: int) -> str:
    return '{"lines": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1000, 5000, 100_000])
def test_an_over_deep_body_is_a_413_and_writes_nothing(
    cell: Api, books: SimpleNamespace, depth: int
) -> None:
    response = cell.post("journals/", raw=deep(depth), key="deep")
    assert response.status_code == 413, response.content
    assert "nested" in response.json()["detail"]
    payment = cell.post(f"payments/{uuid.uuid4()}/cancel/", raw=deep(depth), key="deep")
    assert payment.status_code == 413
    assert entry_count(books) == 0


def test_nesting_depth_ignores_brackets_in_strings() -> None:
    assert nesting_depth('{"a": "[[[[[[[[", "b": [{"c": "]]]"}]}') == 3


def test_an_oversized_body_is_a_413(
    cell: Api, books: SimpleNamespace, settings: pytest.FixtureRequest
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # type: ignore[attr-defined]
    body = journal_body(books, memo="x" * 2000)
    response = cell.post("journals/", body, key="big")
    assert response.status_code == 413 and "larger than 1000 bytes" in response.json()["detail"]
    assert entry_count(books) == 0


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "text/plain",
        "application/json; charset=latin-1",
        "application/json; charset=bogus",
    ],
)
def test_only_utf8_json_bodies_are_accepted(
    cell: Api, books: SimpleNamespace, content_type: str
) -> None:
    for path in ("journals/", f"payments/{uuid.uuid4()}/cancel/", f"journals/{uuid.uuid4()}/post/"):
        response = cell.client.generic(
            "POST",
            f"/api/v1/{path}",
            json.dumps(journal_body(books)).encode(),
            content_type=content_type,
            HTTP_IDEMPOTENCY_KEY="ct",
            **cell.auth,
        )
        assert response.status_code == 415, (path, content_type, response.content)
        assert response["Content-Type"] == "application/json"
        assert response.json()["correlation_id"] == response["X-Correlation-ID"]
    assert entry_count(books) == 0


def test_json_with_explicit_utf8_charset_is_fine(cell: Api, books: SimpleNamespace) -> None:
    response = cell.client.post(
        "/api/v1/journals/",
        json.dumps(journal_body(books)),
        content_type="application/json; charset=UTF-8",
        HTTP_IDEMPOTENCY_KEY="utf8",
        **cell.auth,
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "path",
    ["journals/abc/", "payments/1/", "accounts/x/balance/", "nothing-here/", "journals/%00/"],
)
def test_a_malformed_id_or_unknown_path_is_a_json_404(cell: Api, path: str) -> None:
    response = cell.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"] == "Not found."
    assert response.json()["correlation_id"] == response["X-Correlation-ID"]


def test_an_unsupported_method_is_a_json_405(cell: Api) -> None:
    response = cell.client.delete("/api/v1/journals/", **cell.auth)
    assert response.status_code == 405 and response.json()["detail"]


def test_a_server_fault_is_a_json_500_with_only_a_correlation_id(
    cell: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from finance import selectors

    def boom(**kwargs: object) -> None:
        raise RuntimeError("secret internals: SELECT * FROM finance.payments")

    monkeypatch.setattr(selectors, "payments", boom)
    cell.client.raise_request_exception = False
    response = cell.get("payments/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "correlation_id"}
    assert body["correlation_id"] == response["X-Correlation-ID"]
    assert "SELECT" not in response.content.decode() and "secret" not in response.content.decode()


def test_switching_tenant_inside_a_request_is_a_403_naming_no_tenant(
    cell: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not a 401 'Authentication required': the caller is authenticated, for its own tenant."""
    from aibos.api import TENANT_SWITCH_REFUSED
    from aibos.tenancy import tenant_context
    from finance import selectors

    other = uuid.uuid4()

    def switch(**kwargs: object) -> None:
        with tenant_context(other):
            pass

    monkeypatch.setattr(selectors, "payments", switch)
    response = cell.get("payments/")
    assert response.status_code == 403
    body = response.json()
    assert (body["detail"], body["code"]) == (TENANT_SWITCH_REFUSED, "tenant_switch_refused")
    assert str(other) not in response.content.decode()


def test_outside_the_api_nothing_changes(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/api/v1/docs/")["Content-Type"].startswith("text/html")
