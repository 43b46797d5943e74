"""Intercompany settlements: money moving between two companies of a tenant, posted on both
sides in one transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.db import connections

from aibos.actors import Actor
from aibos.db.fetch import scoped_get
from aibos.db.returning import update_returning
from finance import errors
from finance.models import BankAccount, IntercompanySettlement
from finance.services._plumbing import ALIAS, CREDIT, DEBIT, unit, validate_amount
from finance.services.journals import LineInput, journal_create_draft

SETTLEMENT_CHECK = '"finance".guard_finance_settlement_posted'


def intercompany_settle(
    *,
    actor: Actor,
    from_bank_account_id: uuid.UUID,
    to_bank_account_id: uuid.UUID,
    from_account_id: uuid.UUID,
    to_account_id: uuid.UUID,
    amount: Decimal,
    entry_date: dt.date,
    reference: str = "",
) -> IntercompanySettlement:
    """Record the settlement and post both sides; the database refuses to commit a SETTLED
    settlement without a posted entry in each company (a deferred trigger)."""
    tenant_id = actor.tenant_id
    with unit(actor):
        from_bank = scoped_get(BankAccount, tenant_id=tenant_id, pk=from_bank_account_id)
        to_bank = scoped_get(BankAccount, tenant_id=tenant_id, pk=to_bank_account_id)
        if from_bank.company_id == to_bank.company_id:
            raise errors.Unprocessable(errors.SAME_COMPANY)
        if from_bank.currency != to_bank.currency:
            raise errors.Unprocessable(
                errors.WRONG_CURRENCY.format(
                    what="The receiving bank account",
                    actual=to_bank.currency,
                    expected=from_bank.currency,
                )
            )
        validate_amount(amount, from_bank.currency)
        settlement = IntercompanySettlement(
            tenant_id=tenant_id,
            from_company_id=from_bank.company_id,
            to_company_id=to_bank.company_id,
            amount=amount,
            currency=from_bank.currency,
            from_bank_account=from_bank,
            to_bank_account=to_bank,
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            reference=reference,
            requested_by=actor.label,
        )
        settlement.save(force_insert=True)
        sides = (
            (from_bank.company_id, from_account_id, DEBIT, from_bank.ledger_account_id, CREDIT),
            (to_bank.company_id, to_bank.ledger_account_id, DEBIT, to_account_id, CREDIT),
        )
        entries = []
        for company_id, first, first_side, second, second_side in sides:
            entry, _ = journal_create_draft(
                actor=actor,
                company_id=company_id,
                entry_date=entry_date,
                reference=(reference or f"IC {settlement.pk}")[:100],
                memo="Intercompany settlement",
                lines=[
                    LineInput(first, first_side, amount),
                    LineInput(second, second_side, amount),
                ],
                post=True,
            )
            entries.append(entry)
        settlement.from_entry, settlement.to_entry = entries
        settlement.status = IntercompanySettlement.Status.SETTLED
        update_returning(
            settlement,
            fields=["from_entry", "to_entry", "status"],
            returning=["settled_at", "updated_at"],
            using=ALIAS,
        )
        # Fire the deferred check now rather than at the caller's COMMIT, so a refusal is this
        # service's 4xx, not an error while the request commits.
        with connections[ALIAS].cursor() as cur:
            cur.execute(f"SET CONSTRAINTS {SETTLEMENT_CHECK} IMMEDIATE")
            cur.execute(f"SET CONSTRAINTS {SETTLEMENT_CHECK} DEFERRED")
    return settlement
