"""What every finance service shares: the unit of work on the finance alias and the checks of
currency codes and amounts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

from django.db import DataError, IntegrityError, InternalError, OperationalError

from aibos.actors import Actor
from aibos.tenancy import tenant_context, tenant_statement
from finance import currencies, errors

ALIAS = "finance"
DEBIT, CREDIT = "debit", "credit"


@contextmanager
def unit(actor: Actor, *, one_statement: bool = False) -> Iterator[None]:
    """One transaction on the finance alias as ``actor``, in its tenant; a refusal by the
    database becomes a 4xx ApplicationError once the transaction (or savepoint) is rolled
    back. ``one_statement``: the unit is a single statement (``tenant_statement``: one round
    trip outside a transaction)."""
    try:
        with (
            tenant_statement(actor, using=ALIAS)
            if one_statement
            else tenant_context(actor, using=[ALIAS])
        ):
            yield
    except (IntegrityError, InternalError, DataError) as exc:
        raise errors.from_database(exc) from exc
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) in ("40001", "40P01"):
            raise errors.from_database(exc) from exc
        raise


def validate_currency(code: str) -> str:
    if not currencies.is_currency(code):
        raise errors.Unprocessable(errors.UNKNOWN_CURRENCY.format(code=code))
    return code


def validate_amount(amount: Decimal, currency: str) -> Decimal:
    if not currencies.fits_currency(amount, currency):
        raise errors.Unprocessable(
            errors.TOO_MANY_DECIMALS.format(
                amount=amount, currency=currency, places=currencies.minor_units(currency)
            )
        )
    return amount
