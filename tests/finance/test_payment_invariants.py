"""Payments, approvals, FX rates and the approval matrix: the database's rules, proven with raw
SQL as aibos_finance_role, and the policy snapshot taken at submission."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError

from finance import demo, services
from kernel import services as kernel_services
from tests.factories import system
from tests.finance.books import (
    CELL,
    DAY,
    actor,
    approver_create,
    cell_actor,
    make_payment,
    post_simple,
)
from tests.finance.helpers import refused, run

pytestmark = pytest.mark.django_db(databases="__all__")

INSERT_APPROVAL = (
    "INSERT INTO finance.payment_approvals (tenant_id, payment_id, requester, approver, decision, "
    "reason, level, approver_role, approval_grant) VALUES (%s, %s, %s, %s, %s, %s, 0, %s, %s)"
)


def approve_raw(
    books: SimpleNamespace,
    payment: Any,
    user: Any,
    role: str,
    *,
    requester: str = CELL,
    decision: str = "APPROVE",
) -> None:
    """A raw approval row as the finance role, carrying the identity plane's grant for it (the
    forgeries themselves are in test_approval_proofs.py)."""
    grant = kernel_services.approval_grant_issue(
        actor=actor(user), payment_id=payment.pk, role=role, decision=decision
    )
    run(
        books.tenant.id,
        (
            INSERT_APPROVAL,
            [
                books.tenant.id,
                payment.pk,
                requester,
                actor(user).label,
                decision,
                "r",
                role,
                json.dumps(grant),
            ],
        ),
    )


def set_status(books: SimpleNamespace, payment: Any, status: str) -> None:
    run(
        books.tenant.id,
        ("UPDATE finance.payments SET status = %s WHERE id = %s", [status, payment.pk]),
    )


# --- the approval policy snapshot ----------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "approvals", "required"),
    [
        ("9999.99", 1, []),
        ("10000.00", 2, []),
        ("100000.00", 2, []),
        ("100000.01", 3, [demo.CFO]),
    ],
)
def test_the_seeds_bands_at_their_edges(
    books: SimpleNamespace, amount: str, approvals: int, required: list[str]
) -> None:
    payment = make_payment(books, amount)
    assert (payment.required_approvals, payment.required_roles) == (approvals, required)
    assert payment.policy_amount == Decimal(amount)


def test_editing_the_matrix_later_never_changes_an_in_flight_payment(
    books: SimpleNamespace,
) -> None:
    payment = make_payment(books, "20000.00")
    matrix = services.approval_matrix_create(
        actor=system(books.tenant.id),
        company_id=books.us.company.pk,
        payment_type="vendor",
        currency="USD",
        bands=[services.BandInput(Decimal(0), None, 5, [demo.CFO])],
    )
    services.approval_matrix_activate(actor=system(books.tenant.id), matrix_id=matrix.pk)
    assert make_payment(books, "20000.00").required_approvals == 5
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id,
            ("UPDATE finance.payments SET required_approvals = 1 WHERE id = %s", [payment.pk]),
        )
    assert refused(exc) == ("23514", "finance_payment_frozen")
    rows = run(
        books.tenant.id,
        ("SELECT required_approvals FROM finance.payments WHERE id = %s", [payment.pk]),
    )
    assert rows == [(2,)]


def test_a_forged_snapshot_is_refused_at_submission(books: SimpleNamespace) -> None:
    payment = make_payment(books, "500000.00", submit=False)
    band = run(
        books.tenant.id,
        "SELECT b.id, b.matrix_id FROM finance.approval_bands b JOIN finance.approval_matrices m "
        "ON m.id = b.matrix_id WHERE m.status = 'ACTIVE' AND m.currency = 'USD' AND b.min_amount = 0",
    )[0]
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id,
            (
                "UPDATE finance.payments SET status = 'SUBMITTED', policy_band_id = %s, policy_matrix_id = %s, "
                "policy_currency = 'USD', policy_amount = amount, required_approvals = 1, "
                "approver_roles = %s, required_roles = '{}' WHERE id = %s",
                [band[0], band[1], [demo.L1, demo.L2, demo.CFO], payment.pk],
            ),
        )
    assert refused(exc) == ("23514", "finance_payment_policy_snapshot")


def test_a_foreign_currency_payment_is_measured_in_company_currency(books: SimpleNamespace) -> None:
    us = books.us
    payment, _ = services.payment_create(
        actor=cell_actor(books.tenant.id),
        idempotency_key="eur-1",
        company_id=us.company.pk,
        payment_type="vendor",
        amount=Decimal("95000.00"),
        currency="EUR",
        bank_account_id=us.foreign_bank.pk,
        debit_account_id=us.accounts["2010"].pk,
        beneficiary_name="EU vendor",
        beneficiary_account="FR7630006000011234567890189",
    )
    payment = services.payment_submit(actor=cell_actor(books.tenant.id), payment_id=payment.pk)
    # 95,000 EUR x 1.1 = 104,500 USD: the top band (three approvers, CFO required).
    assert (payment.policy_currency, payment.policy_amount) == ("USD", Decimal("104500.00"))
    assert payment.policy_fx_rate_value == Decimal("1.1")
    assert payment.required_approvals == 3


# --- status graph and quorum ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "target"),
    [("DRAFT", "PAID"), ("DRAFT", "APPROVED"), ("SUBMITTED", "DRAFT"), ("SUBMITTED", "PAID")],
)
def test_status_moves_only_along_the_graph(books: SimpleNamespace, start: str, target: str) -> None:
    payment = make_payment(books, "100.00", submit=start == "SUBMITTED")
    with pytest.raises(DatabaseError) as exc:
        set_status(books, payment, target)
    assert refused(exc) == ("23514", "finance_payment_transition")


def test_terminal_states_are_final(books: SimpleNamespace) -> None:
    payment = make_payment(books, "100.00")
    services.payment_cancel(actor=cell_actor(books.tenant.id), payment_id=payment.pk)
    for target in ("SUBMITTED", "APPROVED", "DRAFT"):
        with pytest.raises(DatabaseError) as exc:
            set_status(books, payment, target)
        assert refused(exc)[1] == "finance_payment_transition"


def test_approved_needs_the_snapshotted_quorum(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "20000.00")  # two approvers
    with pytest.raises(DatabaseError) as exc:
        set_status(books, payment, "APPROVED")
    assert refused(exc) == ("23514", "finance_payment_quorum")
    approve_raw(books, payment, approvers.l1, demo.L1)
    with pytest.raises(DatabaseError) as exc:
        set_status(books, payment, "APPROVED")
    assert "1 of 2" in str(exc.value)
    approve_raw(books, payment, approvers.l2, demo.L2)
    set_status(books, payment, "APPROVED")


def test_approved_needs_every_required_role(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "150000.00")  # three approvers, CFO required
    approve_raw(books, payment, approvers.l1, demo.L1)
    approve_raw(books, payment, approvers.l2, demo.L2)
    extra = approver_create(books.tenant, "l2b@a.test", demo.L2)
    with pytest.raises(DatabaseError) as exc:  # the last slot is reserved for the CFO
        approve_raw(books, payment, extra, demo.L2)
    assert refused(exc) == ("23514", "finance_paymentapproval_required_role")
    approve_raw(books, payment, approvers.cfo, demo.CFO)
    set_status(books, payment, "APPROVED")


def test_an_approver_is_never_the_requester(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "100.00")
    with pytest.raises(DatabaseError) as exc:  # the requesting Cell approving its own payment
        run(
            books.tenant.id,
            (
                INSERT_APPROVAL,
                [books.tenant.id, payment.pk, CELL, CELL, "APPROVE", "", demo.L1, None],
            ),
        )
    assert refused(exc)[0] == "23514"
    assert refused(exc)[1] in (
        "finance_paymentapproval_not_requester",
        "finance_paymentapproval_approver_is_user",
        "finance_paymentapproval_approver_unknown",  # a Cell is no user of the tenant
    )
    requester = actor(approvers.l1)
    own = services.payment_create(
        actor=requester,
        idempotency_key="own",
        company_id=books.us.company.pk,
        payment_type="vendor",
        amount=Decimal("10.00"),
        currency="USD",
        bank_account_id=books.us.bank.pk,
        debit_account_id=books.us.accounts["2000"].pk,
        beneficiary_name="V",
        beneficiary_account="X",
    )[0]
    services.payment_submit(actor=requester, payment_id=own.pk)
    with pytest.raises(DatabaseError) as exc:
        approve_raw(books, own, approvers.l1, demo.L1, requester=requester.label)
    assert refused(exc) == ("23514", "finance_paymentapproval_not_requester")


def test_lying_about_the_requester_breaks_the_key(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "100.00")
    with pytest.raises(DatabaseError) as exc:
        approve_raw(books, payment, approvers.l1, demo.L1, requester="cell:someone-else")
    assert refused(exc) == ("23503", "finance_paymentapproval_requester_fk")


def test_one_decision_per_approver(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "20000.00")
    approve_raw(books, payment, approvers.l1, demo.L1)
    with pytest.raises(DatabaseError) as exc:
        approve_raw(books, payment, approvers.l1, demo.L1)
    assert refused(exc) == ("23505", "finance_paymentapproval_one_per_approver")


def test_a_rejection_ends_the_approval(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "20000.00")
    services.payment_reject(
        actor=actor(approvers.l1),
        payment_id=payment.pk,
        reason="duplicate",
    )
    with pytest.raises(DatabaseError) as exc:
        approve_raw(books, payment, approvers.l2, demo.L2)
    assert refused(exc) == ("23514", "finance_paymentapproval_open")
    with pytest.raises(services.ApplicationError) as app_exc:
        services.payment_approve(actor=actor(approvers.l2), payment_id=payment.pk)
    assert app_exc.value.status == 409


def test_only_eligible_roles_may_approve(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "100.00")
    admin = approver_create(books.tenant, "admin@a.test", "tenant.admin")
    with pytest.raises(DatabaseError) as exc:  # a role the user holds, but not an approver role
        approve_raw(books, payment, admin, "tenant.admin")
    assert refused(exc) == ("23514", "finance_paymentapproval_role")


def test_approvals_are_final(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "20000.00")
    approve_raw(books, payment, approvers.l1, demo.L1)
    for sql in (
        "UPDATE finance.payment_approvals SET decision = 'REJECT'",
        "DELETE FROM finance.payment_approvals",
    ):
        with pytest.raises(DatabaseError) as exc:
            run(books.tenant.id, sql)
        assert refused(exc)[0] == "42501"


def test_paid_needs_a_posted_entry_of_its_company(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    payment = make_payment(books, "100.00")
    approve_raw(books, payment, approvers.l1, demo.L1)
    set_status(books, payment, "APPROVED")
    with pytest.raises(DatabaseError) as exc:
        set_status(books, payment, "PAID")
    assert refused(exc)[1] in ("finance_payment_paid_entry", "finance_payment_paid_has_entry")
    other = post_simple(books.eu)
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id,
            (
                "UPDATE finance.payments SET status = 'PAID', journal_entry_id = %s WHERE id = %s",
                [other.pk, payment.pk],
            ),
        )
    assert refused(exc) == ("23514", "finance_payment_paid_entry")


def test_payments_are_never_deleted(books: SimpleNamespace) -> None:
    payment = make_payment(books, "100.00", submit=False)
    with pytest.raises(DatabaseError) as exc:
        run(books.tenant.id, ("DELETE FROM finance.payments WHERE id = %s", [payment.pk]))
    assert refused(exc)[0] == "42501"


def test_the_full_path_through_the_services(
    committed: None, books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    tenant = books.tenant.id
    payment = make_payment(books, "150000.00")
    for user in (approvers.l1, approvers.cfo, approvers.l2):
        payment = services.payment_approve(actor=actor(user), payment_id=payment.pk)
    assert payment.status == "APPROVED"
    approvals = run(
        tenant,
        (
            "SELECT level, approver_role FROM finance.payment_approvals WHERE payment_id = %s ORDER BY level",
            [payment.pk],
        ),
    )
    assert approvals == [(1, demo.L1), (2, demo.CFO), (3, demo.L2)]
    paid = services.payment_mark_paid(actor=cell_actor(tenant), payment_id=payment.pk, paid_on=DAY)
    assert paid.status == "PAID" and paid.journal_entry_id is not None
    again = services.payment_mark_paid(actor=cell_actor(tenant), payment_id=payment.pk)
    assert again.journal_entry_id == paid.journal_entry_id
    lines = run(
        tenant,
        (
            "SELECT account_id, debit, credit FROM finance.journal_lines WHERE entry_id = %s ORDER BY debit DESC",
            [paid.journal_entry_id],
        ),
    )
    assert lines == [
        (books.us.accounts["2000"].pk, Decimal("150000.0000"), Decimal("0")),
        (books.us.accounts["1000"].pk, Decimal("0"), Decimal("150000.0000")),
    ]


def test_self_approval_through_the_service_is_forbidden(
    books: SimpleNamespace, approvers: SimpleNamespace
) -> None:
    requester = actor(approvers.l1)
    payment = services.payment_create(
        actor=requester,
        idempotency_key="self",
        company_id=books.us.company.pk,
        payment_type="vendor",
        amount=Decimal("10.00"),
        currency="USD",
        bank_account_id=books.us.bank.pk,
        debit_account_id=books.us.accounts["2000"].pk,
        beneficiary_name="V",
        beneficiary_account="X",
    )[0]
    services.payment_submit(actor=requester, payment_id=payment.pk)
    with pytest.raises(services.ApplicationError) as exc:
        services.payment_approve(actor=requester, payment_id=payment.pk)
    assert exc.value.status == 403


# --- FX rates ------------------------------------------------------------------------------


INSERT_RATE = (
    "INSERT INTO finance.fx_rates (tenant_id, base, quote, rate, valid_from, valid_to, source) "
    "VALUES (%s, %s, %s, %s, %s, %s, '')"
)


def test_rates_for_a_pair_never_overlap(books: SimpleNamespace) -> None:
    tenant = books.tenant.id
    run(tenant, (INSERT_RATE, [tenant, "GBP", "USD", "1.27", "2026-01-01", "2026-02-01"]))
    run(tenant, (INSERT_RATE, [tenant, "GBP", "USD", "1.28", "2026-02-01", None]))  # adjacent
    with pytest.raises(DatabaseError) as exc:
        run(tenant, (INSERT_RATE, [tenant, "GBP", "USD", "1.30", "2026-01-15", "2026-01-20"]))
    assert refused(exc) == ("23P01", "finance_fxrate_no_overlap")
    run(tenant, (INSERT_RATE, [tenant, "USD", "GBP", "0.78", "2026-01-15", None]))  # other pair


@pytest.mark.parametrize("bad", ["0", "-1.5"])
def test_rates_are_positive(books: SimpleNamespace, bad: str) -> None:
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id, (INSERT_RATE, [books.tenant.id, "CHF", "USD", bad, "2026-01-01", None])
        )
    assert refused(exc) == ("23514", "finance_fxrate_positive")


def test_the_boundary_date_uses_the_newer_rate(books: SimpleNamespace) -> None:
    from aibos.tenancy import tenant_context
    from finance.selectors import fx_rate_valid_on

    tenant = books.tenant.id
    services.fx_rate_set(
        actor=system(tenant),
        base="EUR",
        quote="USD",
        rate=Decimal("1.2"),
        valid_from=dt.date(2026, 6, 1),
    )
    with tenant_context(tenant):
        assert fx_rate_valid_on(
            tenant_id=tenant, base="EUR", quote="USD", on=dt.date(2026, 5, 31)
        ).rate == Decimal("1.1")
        assert fx_rate_valid_on(
            tenant_id=tenant, base="EUR", quote="USD", on=dt.date(2026, 6, 1)
        ).rate == Decimal("1.2")


def test_a_rate_used_by_a_posted_line_is_frozen(books: SimpleNamespace) -> None:
    tenant = books.tenant.id
    us = books.us
    services.journal_create_draft(
        actor=system(tenant),
        company_id=us.company.pk,
        entry_date=DAY,
        post=True,
        lines=[
            services.LineInput(us.accounts["1010"].pk, "debit", Decimal("100")),
            services.LineInput(us.accounts["7910"].pk, "credit", Decimal("100")),
        ],
    )
    fx = run(tenant, "SELECT id FROM finance.fx_rates WHERE base = 'EUR'")[0][0]
    for sql in (
        "UPDATE finance.fx_rates SET rate = 1.2 WHERE id = %s",
        "UPDATE finance.fx_rates SET valid_from = '2025-12-01' WHERE id = %s",
        "UPDATE finance.fx_rates SET valid_to = '2026-03-10' WHERE id = %s",  # would exclude the use
        "DELETE FROM finance.fx_rates WHERE id = %s",
    ):
        with pytest.raises(DatabaseError) as exc:
            run(tenant, (sql, [fx]))
        assert refused(exc) == ("23514", "finance_fxrate_frozen_once_used"), sql
    # Closing it after its last use is how a new rate takes over.
    services.fx_rate_set(
        actor=system(tenant),
        base="EUR",
        quote="USD",
        rate=Decimal("1.3"),
        valid_from=DAY + dt.timedelta(days=1),
    )


# --- approval matrices ---------------------------------------------------------------------


def _matrix(books: SimpleNamespace, bands: list[services.BandInput]) -> Any:
    return services.approval_matrix_create(
        actor=system(books.tenant.id),
        company_id=books.us.company.pk,
        payment_type="treasury",
        currency="USD",
        bands=bands,
    )


@pytest.mark.parametrize(
    "bands",
    [
        [services.BandInput(Decimal(0), Decimal(100), 1, [demo.L1])],  # no open top
        [services.BandInput(Decimal(10), None, 1, [demo.L1])],  # does not start at 0
        [  # gap between 100 and 200
            services.BandInput(Decimal(0), Decimal(100), 1, [demo.L1]),
            services.BandInput(Decimal(200), None, 1, [demo.L1]),
        ],
        [],
    ],
)
def test_activation_needs_bands_covering_zero_to_infinity(
    books: SimpleNamespace, bands: list[services.BandInput]
) -> None:
    matrix = _matrix(books, bands)
    with pytest.raises(services.ApplicationError) as exc:
        services.approval_matrix_activate(actor=system(books.tenant.id), matrix_id=matrix.pk)
    assert exc.value.extra["code"] == "finance_approvalmatrix_coverage"


def test_bands_never_overlap(books: SimpleNamespace) -> None:
    with pytest.raises(services.ApplicationError) as exc:
        _matrix(
            books,
            [
                services.BandInput(Decimal(0), Decimal(100), 1, [demo.L1]),
                services.BandInput(Decimal(50), None, 1, [demo.L1]),
            ],
        )
    assert exc.value.extra["code"] == "finance_approvalband_no_overlap"


def test_an_active_matrix_cannot_be_edited(books: SimpleNamespace) -> None:
    tenant = books.tenant.id
    for sql in (
        "UPDATE finance.approval_bands SET required_approvals = 1",
        "DELETE FROM finance.approval_bands",
        "UPDATE finance.approval_matrices SET currency = 'EUR' WHERE status = 'ACTIVE'",
    ):
        with pytest.raises(DatabaseError) as exc:
            run(tenant, sql)
        assert refused(exc) == ("23514", "finance_approvalmatrix_frozen"), sql


def test_required_roles_must_be_approver_roles_and_fit_the_count(books: SimpleNamespace) -> None:
    for band in (
        services.BandInput(Decimal(0), None, 1, [demo.L1], [demo.CFO]),
        services.BandInput(Decimal(0), None, 1, [demo.L1, demo.CFO], [demo.L1, demo.CFO]),
    ):
        with pytest.raises(services.ApplicationError) as exc:
            _matrix(books, [band])
        assert exc.value.extra["code"] == "finance_approvalband_roles"
