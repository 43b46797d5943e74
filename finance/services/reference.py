"""The reference books: companies, the chart of accounts, bank accounts and FX rates."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from aibos.actors import Actor
from aibos.db.fetch import scoped_get
from aibos.db.returning import update_returning
from aibos.errors import Conflict
from finance import errors, limits
from finance.models import Account, BankAccount, Company, FxRate
from finance.services._plumbing import ALIAS, unit, validate_currency


def company_create(*, actor: Actor, code: str, name: str, base_currency: str) -> Company:
    tenant_id = actor.tenant_id
    company = Company(
        tenant_id=tenant_id,
        code=code,
        name=name,
        base_currency=validate_currency(base_currency.upper()),
    )
    with unit(actor):
        if Company.objects.filter(tenant_id=tenant_id, code=code).exists():
            raise Conflict(errors.COMPANY_CODE_TAKEN.format(code=code))
        company.full_clean()
        company.save(force_insert=True)
    return company


def company_set_lock_dates(
    *,
    actor: Actor,
    company_id: uuid.UUID,
    soft_lock_date: dt.date | None,
    hard_lock_date: dt.date | None,
) -> Company:
    with unit(actor):
        company = scoped_get(Company, tenant_id=actor.tenant_id, pk=company_id, lock=True)
        company.soft_lock_date = soft_lock_date
        company.hard_lock_date = hard_lock_date
        update_returning(
            company,
            fields=["soft_lock_date", "hard_lock_date"],
            returning=["updated_at", "version"],
            using=ALIAS,
        )
    return company


def account_create(
    *,
    actor: Actor,
    company_id: uuid.UUID,
    code: str,
    name: str,
    type: str,
    currency: str | None = None,
    parent_id: uuid.UUID | None = None,
) -> Account:
    tenant_id = actor.tenant_id
    with unit(actor):
        company = scoped_get(Company, tenant_id=tenant_id, pk=company_id)
        if parent_id is not None:
            parent = scoped_get(Account, tenant_id=tenant_id, pk=parent_id)
            if parent.company_id != company.pk:
                raise errors.Unprocessable(
                    errors.WRONG_COMPANY.format(what="Parent account", id=parent_id)
                )
        if Account.objects.filter(tenant_id=tenant_id, company=company, code=code).exists():
            raise Conflict(errors.ACCOUNT_CODE_TAKEN.format(code=code))
        account = Account(
            tenant_id=tenant_id,
            company=company,
            code=code,
            name=name,
            type=type,
            currency=validate_currency(currency or company.base_currency),
            parent_id=parent_id,
        )
        account.full_clean(exclude=["company", "parent"])
        account.save(force_insert=True)
    return account


def bank_account_create(
    *,
    actor: Actor,
    company_id: uuid.UUID,
    name: str,
    bank_code: str,
    account_number: str,
    ledger_account_id: uuid.UUID,
) -> BankAccount:
    tenant_id = actor.tenant_id
    with unit(actor):
        ledger = scoped_get(Account, tenant_id=tenant_id, pk=ledger_account_id)
        if ledger.company_id != company_id:
            raise errors.Unprocessable(
                errors.WRONG_COMPANY.format(what="Account", id=ledger_account_id)
            )
        bank = BankAccount(
            tenant_id=tenant_id,
            company_id=company_id,
            name=name,
            bank_code=bank_code,
            account_number=account_number.replace(" ", ""),
            currency=ledger.currency,
            ledger_account=ledger,
        )
        bank.save(force_insert=True)
    return bank


def fx_rate_set(
    *,
    actor: Actor,
    base: str,
    quote: str,
    rate: Decimal,
    valid_from: dt.date,
    source: str = "",
) -> FxRate:
    """A new rate from ``valid_from``; the open-ended rate it follows is closed that day."""
    limits.check_accounting_date(valid_from, field="valid_from")
    if base == quote:
        raise errors.Unprocessable(errors.SAME_CURRENCY, extra={"code": "finance_fxrate_pair"})
    validate_currency(base)
    validate_currency(quote)
    tenant_id = actor.tenant_id
    with unit(actor):
        previous = (
            FxRate.objects.filter(
                tenant_id=tenant_id,
                base=base,
                quote=quote,
                valid_to__isnull=True,
                valid_from__lt=valid_from,
            )
            .select_for_update()
            .first()
        )
        if previous is not None:
            previous.valid_to = valid_from
            previous.save(update_fields=["valid_to"])
        fx = FxRate(
            tenant_id=tenant_id,
            base=base,
            quote=quote,
            rate=rate,
            valid_from=valid_from,
            source=source,
        )
        fx.save(force_insert=True)
    return fx
