"""The HTTP API under attack: requests with API credentials through Django's test client (the
whole middleware stack: credential check, tenant context, services, exception handler)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http.request import validate_host
from django.test import Client

from kernel import services as kernel_services
from kernel.models import User

from .attacks_payments import IDEMPOTENCY, MAKER_CHECKER, _open, pay_quorum_open, pay_self_open
from .base import API, Expect, Got, Registry, expect_rows
from .dataset import QUORUM_AMOUNT, Dataset, Side

API_ISOLATION = ("CC6.1", "CC6.6", "PI1.4")

CREDENTIALS = ("CC6.1", "CC6.2", "CC6.6")


def b_pay_open(ds: Dataset) -> str | None:
    return _open(ds.b, ds.b.pay_self)


# --- HTTP -----------------------------------------------------------------------------------


def _host() -> str:
    if validate_host("testserver", settings.ALLOWED_HOSTS):
        return "testserver"
    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", "")]
    return hosts[0] if hosts else "localhost"


def _token(side: Side, user: User | None) -> str:
    """A credential issued inside the attack's transaction: rolled back with it."""
    _, token = kernel_services.api_credential_issue(
        actor=side.actor,
        name="trust-test",
        user=user,
        canon=None if user else side.canon,
    )
    return token


ISSUE = "issue a credential"


def http(
    side: Side,
    method: str,
    path: str,
    body: Any = None,
    *,
    user: User | None = None,
    key: str | None = None,
    token: str | None = ISSUE,
) -> Any:
    """One request to /api/v1/<path> with a credential of ``side`` (its Cell, or ``user``),
    or with ``token`` as given (None: no Authorization header)."""
    headers: dict[str, str] = {}
    if token is ISSUE:
        token = _token(side, user)
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    if key:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    client = Client(raise_request_exception=False, HTTP_HOST=_host())
    url = f"/api/v1/{path}"
    # Refusals are the expected outcome here: keep Django's 4xx warnings out of the report.
    with _quiet("django.request"):
        if method == "GET":
            return client.get(url, secure=True, **headers)  # type: ignore[arg-type]
        return client.post(
            url,
            json.dumps(body or {}),
            content_type="application/json",
            secure=True,
            **headers,  # type: ignore[arg-type]
        )


@contextmanager
def _quiet(name: str) -> Iterator[None]:
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _status(response: Any) -> Got:
    return Got(http=response.status_code, message=response.content[:300].decode(errors="replace"))


def _leaks(ds: Dataset) -> Got:
    """A's list of journals: 200, and how many of B's entries it shows."""
    response = http(ds.a, "GET", "journals/?limit=100")
    ids = {str(ds.b.posted.pk), str(ds.b.draft.pk)}
    shown = [r for r in response.json().get("results", []) if r.get("id") in ids]
    return Got(http=response.status_code, rows=len(shown))


def _journal_body(side_company: Any, side_accounts: dict[str, Any], credit: str) -> dict:
    return {
        "company_id": str(side_company.pk),
        "entry_date": "2026-01-15",
        "reference": "trust-api",
        "post": True,
        "lines": [
            {"account_id": str(side_accounts["5000"].pk), "side": "debit", "amount": "100.00"},
            {"account_id": str(side_accounts["1000"].pk), "side": "credit", "amount": credit},
        ],
    }


def _payment_body(side: Side, amount: str) -> dict:
    return {
        "company_id": str(side.company.pk),
        "payment_type": "vendor",
        "amount": amount,
        "currency": "USD",
        "bank_account_id": str(side.bank.pk),
        "debit_account_id": str(side.accounts["2000"].pk),
        "beneficiary_name": "Trust vendor (quorum)",
        "beneficiary_account": "DE89370400440532013000",
        "reference": "TRUST-QUORUM",
    }


def no_api_entry(side_attr: str):  # type: ignore[no-untyped-def]
    def probe(ds: Dataset) -> str | None:
        side = getattr(ds, side_attr)
        return expect_rows(
            "finance",
            side.id,
            "SELECT count(*) FROM finance.journal_entries WHERE reference = 'trust-api'",
            [],
            [(0,)],
        )

    return probe


def register(r: Registry) -> None:
    # --- the same through the API ----------------------------------------------------------
    r.add(
        name="api.self_approval",
        title="POST /payments/<own>/approve/ with the maker's own credential",
        layer=API,
        tsc=MAKER_CHECKER,
        role="HTTP",
        expect=Expect(http=403),
        attempt=lambda ds: _status(
            http(ds.a, "POST", f"payments/{ds.a.pay_self.pk}/approve/", user=ds.a.maker)
        ),
        unchanged=pay_self_open,
    )
    r.add(
        name="api.cell_approves",
        title="POST /payments/<id>/approve/ with a Cell's credential (not a person)",
        layer=API,
        tsc=MAKER_CHECKER,
        role="HTTP",
        expect=Expect(http=403),
        attempt=lambda ds: _status(http(ds.a, "POST", f"payments/{ds.a.pay_quorum.pk}/approve/")),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="api.reuse_idempotency_key",
        title="POST /payments/ again with the key of an existing payment and another amount",
        layer=API,
        tsc=IDEMPOTENCY,
        role="HTTP",
        expect=Expect(http=409),
        attempt=lambda ds: _status(
            http(
                ds.a,
                "POST",
                "payments/",
                _payment_body(ds.a, str(QUORUM_AMOUNT * 10)),
                key="trust-test-quorum",
            )
        ),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="api.post_unbalanced_journal",
        title="POST /journals/ with post=true and 100.00 Dr / 90.00 Cr",
        layer=API,
        tsc=("PI1.2", "PI1.3"),
        role="HTTP",
        expect=Expect(http=422),
        attempt=lambda ds: _status(
            http(
                ds.a,
                "POST",
                "journals/",
                _journal_body(ds.a.company, ds.a.accounts, "90.00"),
                key="trust-api-unbalanced",
            )
        ),
        unchanged=no_api_entry("a"),
    )
    # --- another tenant's ids through the API ----------------------------------------------
    r.add(
        name="api.read_other_tenant_journal",
        title="GET /journals/<B's posted journal>/ with tenant A's credential",
        layer=API,
        tsc=API_ISOLATION,
        role="HTTP",
        expect=Expect(http=404),
        attempt=lambda ds: _status(http(ds.a, "GET", f"journals/{ds.b.posted.pk}/")),
        unchanged=lambda ds: expect_rows(
            "finance",
            ds.b.id,
            "SELECT status FROM finance.journal_entries WHERE id = %s",
            [ds.b.posted.pk],
            [("POSTED",)],
        ),
    )
    r.add(
        name="api.read_other_tenant_payment",
        title="GET /payments/<B's payment>/ with tenant A's credential",
        layer=API,
        tsc=API_ISOLATION,
        role="HTTP",
        expect=Expect(http=404),
        attempt=lambda ds: _status(http(ds.a, "GET", f"payments/{ds.b.pay_self.pk}/")),
        unchanged=b_pay_open,
    )
    r.add(
        name="api.list_shows_no_other_tenant_rows",
        title="GET /journals/ with tenant A's credential: none of B's journals listed",
        layer=API,
        tsc=API_ISOLATION,
        role="HTTP",
        expect=Expect(http=200, rows=0),
        attempt=_leaks,
        unchanged=lambda ds: expect_rows(
            "finance",
            ds.b.id,
            "SELECT count(*) FROM finance.journal_entries WHERE id IN (%s, %s)",
            [ds.b.posted.pk, ds.b.draft.pk],
            [(2,)],
        ),
    )
    r.add(
        name="api.approve_other_tenant_payment",
        title="POST /payments/<B's payment>/approve/ as tenant A's checker",
        layer=API,
        tsc=API_ISOLATION,
        role="HTTP",
        expect=Expect(http=404),
        attempt=lambda ds: _status(
            http(ds.a, "POST", f"payments/{ds.b.pay_self.pk}/approve/", user=ds.a.checker)
        ),
        unchanged=b_pay_open,
    )
    r.add(
        name="api.post_journal_on_other_tenant_company",
        title="POST /journals/ for tenant B's company and accounts with A's credential",
        layer=API,
        tsc=API_ISOLATION,
        role="HTTP",
        expect=Expect(http=404),
        attempt=lambda ds: _status(
            http(
                ds.a,
                "POST",
                "journals/",
                _journal_body(ds.b.company, ds.b.accounts, "100.00"),
                key="trust-api-cross",
            )
        ),
        unchanged=no_api_entry("b"),
    )
    r.add(
        name="api.add_line_to_other_tenant_journal",
        title="POST /journals/<B's draft>/lines/ with tenant A's credential",
        layer=API,
        tsc=API_ISOLATION,
        role="HTTP",
        expect=Expect(http=404),
        attempt=lambda ds: _status(
            http(
                ds.a,
                "POST",
                f"journals/{ds.b.draft.pk}/lines/",
                {"account_id": str(ds.a.accounts["5000"].pk), "side": "debit", "amount": "1.00"},
            )
        ),
        unchanged=lambda ds: expect_rows(
            "finance",
            ds.b.id,
            "SELECT count(*) FROM finance.journal_lines WHERE entry_id = %s",
            [ds.b.draft.pk],
            [(2,)],
        ),
    )
    # --- credentials -----------------------------------------------------------------------
    r.add(
        name="api.no_credential",
        title="GET /payments/ with no credential",
        layer=API,
        tsc=CREDENTIALS,
        role="HTTP",
        expect=Expect(http=401),
        attempt=lambda ds: _status(http(ds.a, "GET", "payments/", token=None)),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="api.token_claims_other_tenant",
        title="A's API token rewritten to claim tenant B (same key id and secret)",
        layer=API,
        tsc=CREDENTIALS,
        role="HTTP",
        expect=Expect(http=401),
        attempt=lambda ds: _status(
            http(
                ds.b,
                "GET",
                f"payments/{ds.b.pay_self.pk}/",
                token=_token(ds.a, None).replace(ds.a.tenant.id.hex, ds.b.tenant.id.hex),
            )
        ),
        unchanged=b_pay_open,
    )
    r.add(
        name="api.forged_secret",
        title="A's API token with its secret replaced",
        layer=API,
        tsc=CREDENTIALS,
        role="HTTP",
        expect=Expect(http=401),
        attempt=lambda ds: _status(
            http(
                ds.a,
                "GET",
                "payments/",
                token=_token(ds.a, None).rsplit("_", 1)[0] + "_" + "A" * 43,
            )
        ),
        unchanged=pay_quorum_open,
    )
