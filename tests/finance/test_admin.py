"""Operator screens: every finance page renders for the tenant's admin, shows only its tenant,
and the ledger cannot be edited from them."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.test import Client

from finance import services
from kernel.models import User
from tests.factories import PASSWORD, system
from tests.finance.books import actor, make_payment, post_simple
from tests.finance.helpers import run

pytestmark = pytest.mark.django_db(databases="__all__")

PAGES = (
    "company",
    "account",
    "accountbalance",
    "bankaccount",
    "fxrate",
    "journalentry",
    "payment",
    "approvalmatrix",
    "intercompanysettlement",
    "documentmetadata",
)


def sign_in(client: Client, tenant: str, email: str) -> None:
    response = client.post(
        "/admin/login/?next=/admin/", {"tenant": tenant, "username": email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content


def test_finance_pages_render_for_the_tenant_admin(
    committed: None,
    client: Client,
    books: SimpleNamespace,
    alice: User,
    approvers: SimpleNamespace,
) -> None:
    entry = post_simple(books.us)
    payment = make_payment(books, "20000.00")
    services.payment_approve(actor=actor(approvers.l1), payment_id=payment.pk)
    sign_in(client, "tenant-a", "alice@a.test")
    for page in PAGES:
        assert client.get(f"/admin/finance/{page}/").status_code == 200, page
    detail = client.get(f"/admin/finance/journalentry/{entry.pk}/change/")
    assert detail.status_code == 200 and b"5000" in detail.content
    # The approval is shown with the grant it was accepted with.
    detail = client.get(f"/admin/finance/payment/{payment.pk}/change/")
    assert detail.status_code == 200 and b"signature" in detail.content
    # Read-only: a POST to the change page does not alter the entry.
    assert (
        client.post(f"/admin/finance/journalentry/{entry.pk}/change/", {"memo": "x"}).status_code
        == 403
    )
    assert run(
        books.tenant.id, ("SELECT memo FROM finance.journal_entries WHERE id = %s", [entry.pk])
    ) == [("",)]
    assert client.get("/admin/finance/journalentry/add/").status_code == 403


def test_another_tenants_admin_sees_none_of_it(
    committed: None, client: Client, books: SimpleNamespace, charlie: User
) -> None:
    entry = post_simple(books.us)
    payment = make_payment(books, "100.00")
    sign_in(client, "tenant-b", "charlie@b.test")
    listing = client.get("/admin/finance/journalentry/")
    assert listing.status_code == 200 and str(entry.pk).encode() not in listing.content
    for url in (
        f"/admin/finance/journalentry/{entry.pk}/change/",
        f"/admin/finance/payment/{payment.pk}/change/",
    ):
        assert client.get(url, follow=True).redirect_chain[-1][0] == "/admin/"


def test_matrix_activation_action_reports_refusals(
    committed: None, client: Client, books: SimpleNamespace, alice: User
) -> None:
    draft = services.approval_matrix_create(
        actor=system(books.tenant.id),
        company_id=books.us.company.pk,
        payment_type="treasury",
        currency="USD",
        bands=[services.BandInput(Decimal("5"), None, 1, ["finance.cfo"])],  # no band from 0
    )
    sign_in(client, "tenant-a", "alice@a.test")
    response = client.post(
        "/admin/finance/approvalmatrix/",
        {"action": "activate", "_selected_action": [str(draft.pk)]},
        follow=True,
    )
    assert b"cover [0, infinity)" in response.content
    assert run(
        books.tenant.id, ("SELECT status FROM finance.approval_matrices WHERE id = %s", [draft.pk])
    ) == [("DRAFT",)]
