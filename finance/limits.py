"""The limits on amounts and accounting dates, and why they are what they are.

Amounts (``docs/ledger.md``, "Limits"):

- a **line amount** (in the line's currency) and a **payment amount** are positive with at
  most 15 digits before the point and 4 after it: what ``NUMERIC(19,4)`` holds. The API's
  decimal pattern says so; anything else is a 400 before a service runs;
- the same line **converted into the company currency** must fit the same limit, and so must
  the **entry total** (the sum of either side, company currency): a 422 naming the field;
- **running balances** (``finance.account_balances``) are ``NUMERIC(38,4)``: 34 integer digits.
  An account has at most 2^63 - 1 lines (``line_count`` is a bigint), each below 10^15, so a
  total stays below 9.3 x 10^33 < 10^34: no accepted posting can overflow them.

Accounting dates (entry dates, reversal dates, paid-on dates, FX validity) fall in a window:
not before ``AIBOS_BOOKS_EARLIEST_DATE`` and not more than ``AIBOS_BOOKS_MAX_DAYS_AHEAD``
days after today (lock dates narrow it further per company).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from finance.errors import Unprocessable

AMOUNT_MAX = Decimal("999999999999999.9999")
AMOUNT_LIMIT = "{field}: {amount} {currency} is beyond the limit of {limit} {currency} {what}."
DATE_TOO_EARLY = "{field}: {value} is before {earliest}, the earliest date the books accept."
DATE_TOO_LATE = (
    "{field}: {value} is more than {days} days ahead (the latest date accepted today is {latest})."
)


def check_amount(amount: Decimal, currency: str, *, field: str, what: str) -> Decimal:
    if amount > AMOUNT_MAX:
        raise beyond_the_limit(amount, currency, field=field, what=what)
    return amount


def beyond_the_limit(amount: object, currency: str, *, field: str, what: str) -> Unprocessable:
    return Unprocessable(
        AMOUNT_LIMIT.format(
            field=field, amount=amount, currency=currency, limit=AMOUNT_MAX, what=what
        ),
        extra={"code": "finance_amount_limit", "field": field, "limit": str(AMOUNT_MAX)},
    )


def date_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    today = today or timezone.localdate()
    return (
        settings.AIBOS_BOOKS_EARLIEST_DATE,
        today + dt.timedelta(days=settings.AIBOS_BOOKS_MAX_DAYS_AHEAD),
    )


def check_accounting_date(value: dt.date, *, field: str) -> dt.date:
    earliest, latest = date_window()
    if value < earliest:
        message = DATE_TOO_EARLY.format(field=field, value=value, earliest=earliest)
    elif value > latest:
        message = DATE_TOO_LATE.format(
            field=field, value=value, days=settings.AIBOS_BOOKS_MAX_DAYS_AHEAD, latest=latest
        )
    else:
        return value
    raise Unprocessable(
        message,
        extra={
            "code": "finance_date_window",
            "field": field,
            "earliest": earliest.isoformat(),
            "latest": latest.isoformat(),
        },
    )
