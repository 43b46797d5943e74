"""Payments and their approvals: create (idempotent), submit (the policy is frozen), approve
or reject (maker-checker, proven by the identity plane's grant), cancel, mark paid (posts the
journal entry). Each returns the payment as written, with its decisions
(``payment.approvals.all()`` runs no query)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.utils import timezone

from aibos import idempotency
from aibos.actors import Actor
from aibos.db.fetch import scoped_get
from aibos.db.returning import attach_prefetched, insert_returning, update_returning
from aibos.errors import Conflict
from aibos.tenancy import tenant_context
from finance import currencies, errors, limits
from finance.models import (
    Account,
    ApprovalBand,
    ApprovalMatrix,
    BankAccount,
    Company,
    Payment,
    PaymentApproval,
)
from finance.selectors import fx_rate_valid_on
from finance.services._plumbing import (
    ALIAS,
    CREDIT,
    DEBIT,
    unit,
    validate_amount,
    validate_currency,
)
from finance.services.journals import LineInput, journal_create_draft

# What a status change makes the database set (besides the status): read back as it writes.
_CHANGED_BY_DB = ("updated_at", "version")


def payment_create(
    *,
    actor: Actor,
    idempotency_key: str,
    company_id: uuid.UUID,
    payment_type: str,
    amount: Decimal,
    currency: str,
    bank_account_id: uuid.UUID,
    debit_account_id: uuid.UUID,
    beneficiary_name: str,
    beneficiary_account: str,
    reference: str = "",
) -> tuple[Payment, bool]:
    validate_currency(currency)
    validate_amount(amount, currency)
    tenant_id = actor.tenant_id
    digest, payload = idempotency.fingerprint(
        {
            "company_id": company_id,
            "payment_type": payment_type,
            "amount": str(amount),
            "currency": currency,
            "bank_account_id": bank_account_id,
            "debit_account_id": debit_account_id,
            "beneficiary_name": beneficiary_name,
            "beneficiary_account": beneficiary_account,
            "reference": reference,
        }
    )

    def build() -> Payment:
        company = scoped_get(Company, tenant_id=tenant_id, pk=company_id)
        bank = scoped_get(BankAccount, tenant_id=tenant_id, pk=bank_account_id)
        debit = scoped_get(Account, tenant_id=tenant_id, pk=debit_account_id)
        for what, obj in (("Bank account", bank), ("Account", debit)):
            if obj.company_id != company.pk:
                raise errors.Unprocessable(errors.WRONG_COMPANY.format(what=what, id=obj.pk))
            if obj.currency != currency:
                raise errors.Unprocessable(
                    errors.WRONG_CURRENCY.format(what=what, actual=obj.currency, expected=currency)
                )
        payment = Payment(
            tenant_id=tenant_id,
            company=company,
            payment_type=payment_type,
            amount=amount,
            currency=currency,
            bank_account=bank,
            debit_account=debit,
            beneficiary_name=beneficiary_name,
            beneficiary_account=beneficiary_account.replace(" ", ""),
            reference=reference,
            requested_by=actor.label,
            idempotency_key=idempotency_key,
            request_hash=digest,
            request_payload=payload,
        )
        payment.save(force_insert=True)
        attach_prefetched(payment, "approvals", [])  # a new payment has no decisions
        return payment

    with unit(actor):
        payment, created = idempotency.create_once(
            Payment.objects.prefetch_related("approvals"),
            tenant_id=tenant_id,
            key=idempotency_key,
            build=build,
            using=ALIAS,
        )
        if not created:
            payment = idempotency.replay(
                payment, key=idempotency_key, digest=digest, payload=payload
            )
    return payment, created


def _policy_for(payment: Payment, company: Company, on: dt.date) -> dict[str, Any]:
    """The band of the active matrix that holds the amount: a matrix in the payment's currency
    first, else the one in the company currency with the amount converted at the stored rate."""
    for currency in dict.fromkeys([payment.currency, company.base_currency]):
        matrix = ApprovalMatrix.objects.filter(
            tenant_id=payment.tenant_id,
            company_id=payment.company_id,
            payment_type=payment.payment_type,
            currency=currency,
            status=ApprovalMatrix.Status.ACTIVE,
        ).first()
        if matrix is None:
            continue
        fx = None
        amount = payment.amount
        if currency != payment.currency:
            fx = fx_rate_valid_on(
                tenant_id=payment.tenant_id, base=payment.currency, quote=currency, on=on
            )
            if fx is None:
                raise errors.Unprocessable(
                    errors.NO_FX_RATE.format(base=payment.currency, quote=currency, date=on)
                )
            amount = currencies.round_to_currency(amount * fx.rate, currency)
            limits.check_amount(
                amount,
                currency,
                field="amount",
                what=f"once converted from {payment.amount} {payment.currency}",
            )
        band = (
            ApprovalBand.objects.filter(
                tenant_id=payment.tenant_id, matrix=matrix, min_amount__lte=amount
            )
            .order_by("-min_amount")
            .first()
        )
        assert band is not None  # an active matrix covers [0, infinity): enforced on activation
        return {
            "policy_matrix": matrix,
            "policy_band": band,
            "policy_currency": currency,
            "policy_amount": amount,
            "policy_fx_rate": fx,
            "policy_fx_rate_value": fx.rate if fx else None,
            "required_approvals": band.required_approvals,
            "approver_roles": list(band.approver_roles),
            "required_roles": list(band.required_roles),
        }
    raise errors.Unprocessable(
        errors.NO_ACTIVE_MATRIX.format(
            company=company.code,
            payment_type=payment.payment_type,
            currency=payment.currency,
            base=company.base_currency,
        )
    )


def _transition_check(payment: Payment, allowed: Sequence[str], action: str) -> None:
    if payment.status not in allowed:
        raise Conflict(
            errors.BAD_TRANSITION.format(id=payment.pk, status=payment.status, action=action),
            extra={"code": "finance_payment_transition", "status": payment.status},
        )


def payment_submit(*, actor: Actor, payment_id: uuid.UUID) -> Payment:
    """Freeze the approval policy onto the payment; later matrix edits never change it."""
    tenant_id = actor.tenant_id
    with unit(actor):
        payment = scoped_get(Payment, tenant_id=tenant_id, pk=payment_id, lock=True)
        _transition_check(
            payment, Payment.transitions.sources(Payment.Status.SUBMITTED), "submitted"
        )
        company = scoped_get(Company, tenant_id=tenant_id, pk=payment.company_id)
        policy = _policy_for(payment, company, timezone.localdate())
        for field, value in policy.items():
            setattr(payment, field, value)
        payment.status = Payment.Status.SUBMITTED
        update_returning(
            payment,
            fields=[*policy, "status"],
            returning=["submitted_at", *_CHANGED_BY_DB],
            using=ALIAS,
        )
        # A draft has no decisions: the approval guard accepts them only while SUBMITTED.
        attach_prefetched(payment, "approvals", [])
    return payment


def role_names_for(*, actor: Actor) -> set[str]:
    from kernel.selectors import role_names_for_user

    assert actor.user_id is not None
    with tenant_context(actor.tenant_id, using=["kernel"]):
        return role_names_for_user(tenant_id=actor.tenant_id, user_id=actor.user_id)


def approval_grant_for(
    *, actor: Actor, payment_id: uuid.UUID, role: str, decision: str
) -> dict[str, object]:
    """The identity plane's signed grant the approval guard requires (on the kernel alias)."""
    from kernel.services import approval_grant_issue

    return approval_grant_issue(actor=actor, payment_id=payment_id, role=role, decision=decision)


def _decide(*, actor: Actor, payment_id: uuid.UUID, decision: str, reason: str) -> Payment:
    action = "approve" if decision == PaymentApproval.Decision.APPROVE else "reject"
    if actor.user_id is None:
        raise errors.Forbidden(errors.NOT_A_USER.format(action=action))
    tenant_id, label = actor.tenant_id, actor.label
    roles = role_names_for(actor=actor)
    with unit(actor):
        # Lock first: racing approvers queue here (the approval trigger locks the row too).
        payment = scoped_get(Payment, tenant_id=tenant_id, pk=payment_id, lock=True)
        approving = decision == PaymentApproval.Decision.APPROVE
        outcome = Payment.Status.APPROVED if approving else Payment.Status.REJECTED
        _transition_check(payment, Payment.transitions.sources(outcome), outcome.lower())
        if payment.requested_by == label:
            raise errors.Forbidden(errors.SELF_APPROVAL)
        # One read of the decisions so far (the row lock above keeps them stable); they are
        # also the payment's history handed back.
        prior = list(PaymentApproval.objects.filter(tenant_id=tenant_id, payment=payment))
        if any(a.approver == label for a in prior):
            raise Conflict(errors.ALREADY_DECIDED)
        present = {a.approver_role for a in prior if a.decision == PaymentApproval.Decision.APPROVE}
        approvals = len([a for a in prior if a.decision == PaymentApproval.Decision.APPROVE])
        eligible = [r for r in payment.approver_roles if r in roles]
        if not eligible:
            raise errors.Forbidden(
                errors.NOT_AN_APPROVER.format(roles=", ".join(payment.approver_roles))
            )
        # Sign with a required role still missing if the approver holds one.
        missing = [r for r in payment.required_roles if r not in present and r in eligible]
        role = missing[0] if missing else eligible[-1]
        # The database accepts the decision only with the identity plane's signature for it.
        # Asked for here, under the payment lock, because the role depends on the decisions
        # read above: one short round trip on the kernel connection.
        grant = approval_grant_for(actor=actor, payment_id=payment.pk, role=role, decision=decision)
        # The guard numbers the decision (level) and stamps it: read back with the INSERT.
        decided = insert_returning(
            PaymentApproval(
                tenant_id=tenant_id,
                payment=payment,
                requester=payment.requested_by,
                approver=label,
                decision=decision,
                reason=reason,
                approver_role=role,
                approval_grant=grant,
            ),
            returning=["level", "decided_at"],
            using=ALIAS,
        )
        if decision == PaymentApproval.Decision.REJECT:
            payment.status = Payment.Status.REJECTED
        elif approvals + 1 >= (payment.required_approvals or 0) and set(
            payment.required_roles
        ) <= present | {role}:
            payment.status = Payment.Status.APPROVED
        if payment.status != Payment.Status.SUBMITTED:
            update_returning(
                payment,
                fields=["status"],
                returning=["decided_at", *_CHANGED_BY_DB],
                using=ALIAS,
            )
        # The new decision is the last: any earlier one is an approval (a rejection ends it).
        attach_prefetched(payment, "approvals", [*prior, decided])
    return payment


def payment_approve(*, actor: Actor, payment_id: uuid.UUID, reason: str = "") -> Payment:
    return _decide(
        actor=actor,
        payment_id=payment_id,
        decision=PaymentApproval.Decision.APPROVE,
        reason=reason,
    )


def payment_reject(*, actor: Actor, payment_id: uuid.UUID, reason: str) -> Payment:
    if not reason.strip():
        raise errors.Unprocessable(errors.REJECTION_NEEDS_REASON)
    return _decide(
        actor=actor,
        payment_id=payment_id,
        decision=PaymentApproval.Decision.REJECT,
        reason=reason.strip(),
    )


def payment_cancel(*, actor: Actor, payment_id: uuid.UUID) -> Payment:
    with unit(actor):
        payment = scoped_get(
            Payment.objects.prefetch_related("approvals"),
            tenant_id=actor.tenant_id,
            pk=payment_id,
            lock=True,
        )
        _transition_check(
            payment, Payment.transitions.sources(Payment.Status.CANCELLED), "cancelled"
        )
        payment.status = Payment.Status.CANCELLED
        update_returning(
            payment,
            fields=["status"],
            returning=["cancelled_at", *_CHANGED_BY_DB],
            using=ALIAS,
        )
    return payment


def payment_mark_paid(
    *, actor: Actor, payment_id: uuid.UUID, paid_on: dt.date | None = None
) -> Payment:
    """Post Dr debit account / Cr bank for the payment and mark it PAID, in one transaction.
    Idempotent: a PAID payment is returned as it is."""
    if paid_on is not None:
        limits.check_accounting_date(paid_on, field="paid_on")
    tenant_id = actor.tenant_id
    with unit(actor):
        # Lock: two "mark paid" calls racing must not post twice.
        payment = scoped_get(
            Payment.objects.prefetch_related("approvals"),
            tenant_id=tenant_id,
            pk=payment_id,
            lock=True,
        )
        if payment.status == Payment.Status.PAID:
            return payment
        _transition_check(payment, Payment.transitions.sources(Payment.Status.PAID), "marked paid")
        bank = scoped_get(BankAccount, tenant_id=tenant_id, pk=payment.bank_account_id)
        entry, _ = journal_create_draft(
            actor=actor,
            company_id=payment.company_id,
            entry_date=paid_on or timezone.localdate(),
            reference=(payment.reference or f"PAY {payment.pk}")[:100],
            memo=f"Payment to {payment.beneficiary_name}",
            lines=[
                LineInput(payment.debit_account_id, DEBIT, payment.amount),
                LineInput(bank.ledger_account_id, CREDIT, payment.amount),
            ],
            post=True,
        )
        payment.journal_entry = entry
        payment.status = Payment.Status.PAID
        update_returning(
            payment,
            fields=["journal_entry", "status"],
            returning=["paid_at", *_CHANGED_BY_DB],
            using=ALIAS,
        )
    return payment
