"""Payments under attack in raw SQL as aibos_finance_role: maker-checker, quorum, approval
grants, frozen amounts, idempotency."""

from __future__ import annotations

import json
from typing import Any

from finance import demo
from kernel import services as kernel_services
from kernel.models import User

from .base import CONSTRAINT, GUARD, PRIVILEGE, Expect, Got, Registry, expect_rows, sql
from .dataset import Dataset, Side

MAKER_CHECKER = ("CC6.3", "PI1.3")
IDEMPOTENCY = ("PI1.2", "PI1.3")
APPROVAL = (
    "INSERT INTO finance.payment_approvals (tenant_id, payment_id, requester, approver, decision, "
    "reason, level, approver_role, approval_grant) VALUES (%s, %s, %s, %s, 'APPROVE', 'trust', 0, "
    "%s, %s)"
)


def _grant(side: Side, user: User, payment_id: Any, role: str) -> dict[str, Any]:
    """The identity plane's signed grant for ``user`` (kernel connection, in the attack's
    transaction)."""
    from aibos.actors import Actor

    return dict(
        kernel_services.approval_grant_issue(
            actor=Actor.for_user(side.id, user.pk),
            payment_id=payment_id,
            role=role,
            decision="APPROVE",
        )
    )


def _approval(side: Side, payment: Any, user: User, role: str, grant: Any) -> tuple[str, list]:
    label = f"user:{user.pk}"
    return APPROVAL, [
        side.id,
        payment.pk,
        payment.requested_by,
        label,
        role,
        None if grant is None else json.dumps(grant),
    ]


def pay_self_open(ds: Dataset) -> str | None:
    return _open(ds.a, ds.a.pay_self)


def pay_quorum_open(ds: Dataset) -> str | None:
    return _open(ds.a, ds.a.pay_quorum)


def _open(side: Side, payment: Any) -> str | None:
    """Still SUBMITTED, at its amount, with no decision."""
    return expect_rows(
        "finance",
        side.id,
        "SELECT status, amount, (SELECT count(*) FROM finance.payment_approvals pa "
        "WHERE pa.tenant_id = p.tenant_id AND pa.payment_id = p.id) "
        "FROM finance.payments p WHERE id = %s",
        [payment.pk],
        [("SUBMITTED", payment.amount, 0)],
    )


def _self_approval(ds: Dataset) -> Got:
    a = ds.a
    grant = _grant(a, a.maker, a.pay_self.pk, demo.L1)
    return sql("finance", a.id, _approval(a, a.pay_self, a.maker, demo.L1, grant))


def _one_of_two_then_approve(ds: Dataset) -> Got:
    """A valid first approval (the checker, L2), then the status forced to APPROVED."""
    a = ds.a
    grant = _grant(a, a.checker, a.pay_quorum.pk, demo.L2)
    return sql(
        "finance",
        a.id,
        _approval(a, a.pay_quorum, a.checker, demo.L2, grant),
        ("UPDATE finance.payments SET status = 'APPROVED' WHERE id = %s", [a.pay_quorum.pk]),
    )


def one_approval_still_submitted(ds: Dataset) -> str | None:
    return pay_quorum_open(ds)


def _tampered_grant(ds: Dataset) -> Got:
    a = ds.a
    grant = _grant(a, a.checker, a.pay_quorum.pk, demo.L2)
    grant["signature"] = "0" * len(str(grant.get("signature", "")))
    return sql("finance", a.id, _approval(a, a.pay_quorum, a.checker, demo.L2, grant))


def _replayed_grant(ds: Dataset) -> Got:
    a = ds.a
    grant = _grant(a, a.checker, a.pay_self.pk, demo.L2)  # issued for the other payment
    return sql("finance", a.id, _approval(a, a.pay_quorum, a.checker, demo.L2, grant))


def register(r: Registry) -> None:
    f = "finance"
    # --- maker-checker and quorum, in SQL --------------------------------------------------
    r.add(
        name="payments.self_approval_sql",
        title="The maker approves their own payment, with a valid grant (raw SQL)",
        layer=CONSTRAINT,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="23514", rule="finance_paymentapproval_not_requester"),
        attempt=_self_approval,
        unchanged=pay_self_open,
    )
    r.add(
        name="payments.approve_without_quorum_sql",
        title="UPDATE a 20,000.00 payment (two approvers) to APPROVED with no approval",
        layer=GUARD,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="23514", rule="finance_payment_quorum"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            (
                "UPDATE finance.payments SET status = 'APPROVED' WHERE id = %s",
                [ds.a.pay_quorum.pk],
            ),
        ),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="payments.approve_under_quorum_sql",
        title="One valid approval of two, then UPDATE the payment to APPROVED",
        layer=GUARD,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="23514", rule="finance_payment_quorum"),
        attempt=_one_of_two_then_approve,
        unchanged=one_approval_still_submitted,
    )
    r.add(
        name="payments.approval_without_grant_sql",
        title="INSERT an approval by a real approver with no grant from the identity plane",
        layer=GUARD,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="23514", rule="finance_paymentapproval_grant_missing"),
        attempt=lambda ds: sql(
            f, ds.a.id, _approval(ds.a, ds.a.pay_quorum, ds.a.checker, demo.L2, None)
        ),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="payments.tampered_grant_sql",
        title="INSERT an approval whose grant signature was altered",
        layer=GUARD,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="23514", rule="finance_paymentapproval_grant_signature"),
        attempt=_tampered_grant,
        unchanged=pay_quorum_open,
    )
    r.add(
        name="payments.grant_replayed_on_other_payment_sql",
        title="INSERT an approval carrying a grant issued for another payment",
        layer=GUARD,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="23514", rule="finance_paymentapproval_grant_other_payment"),
        attempt=_replayed_grant,
        unchanged=pay_quorum_open,
    )
    r.add(
        name="payments.change_frozen_amount_sql",
        title="UPDATE the amount of a SUBMITTED payment (policy frozen at submission)",
        layer=GUARD,
        tsc=("PI1.3", "CC8.1"),
        expect=Expect(sqlstate="23514", rule="finance_payment_frozen"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            ("UPDATE finance.payments SET amount = 1 WHERE id = %s", [ds.a.pay_quorum.pk]),
        ),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="payments.delete_payment_sql",
        title="DELETE a SUBMITTED payment",
        layer=PRIVILEGE,
        tsc=("PI1.5", "CC8.1"),
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            f, ds.a.id, ("DELETE FROM finance.payments WHERE id = %s", [ds.a.pay_quorum.pk])
        ),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="payments.sign_own_grant_sql",
        title="Call kernel.approval_grant_signature from the finance role (mint a grant)",
        layer=PRIVILEGE,
        tsc=MAKER_CHECKER,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            (
                "SELECT kernel.approval_grant_signature(%s, %s, 'user:x', 'finance.cfo', "
                "'APPROVE', 9999999999)",
                [ds.a.id, ds.a.pay_quorum.pk],
            ),
        ),
        unchanged=pay_quorum_open,
    )
    r.add(
        name="idempotency.reuse_key_sql",
        title="INSERT a second payment under an idempotency key already used (raw SQL)",
        layer=CONSTRAINT,
        tsc=IDEMPOTENCY,
        expect=Expect(sqlstate="23505", rule="finance_payment_idempotency_unique"),
        attempt=lambda ds: sql(
            f,
            ds.a.id,
            (
                "INSERT INTO finance.payments (tenant_id, company_id, payment_type, amount, "
                "currency, bank_account_id, debit_account_id, beneficiary_name, "
                "beneficiary_account, reference, status, requested_by, idempotency_key, "
                "request_hash, request_payload, policy_currency, approver_roles, required_roles) "
                "SELECT tenant_id, company_id, payment_type, 99999, currency, bank_account_id, "
                "debit_account_id, beneficiary_name, beneficiary_account, reference, 'DRAFT', "
                "requested_by, idempotency_key, 'x', '{}', currency, '{}', '{}' "
                "FROM finance.payments WHERE id = %s",
                [ds.a.pay_quorum.pk],
            ),
        ),
        unchanged=pay_quorum_open,
    )
