"""Column conventions shared by the finance models."""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models

from aibos.db.roles import FINANCE_ROLE, READONLY_ROLE, SCHEMA_DEFAULT_GRANTS

FINANCE_GRANTS = SCHEMA_DEFAULT_GRANTS["finance"]
CURRENCY_FORMAT = r"^[A-Z]{3}$"
currency_code = RegexValidator(CURRENCY_FORMAT, "Use an ISO 4217 code such as USD.")

# NUMERIC(19,4): 15 integer digits, 4 decimals; amounts are Decimal in Python, never float.
MONEY: dict[str, Any] = {"max_digits": 19, "decimal_places": 4}
RATE: dict[str, Any] = {"max_digits": 20, "decimal_places": 10}
# NUMERIC(38,4) for running totals: wide enough that no sequence of accepted postings can
# overflow them (finance/limits.py has the arithmetic).
BALANCE: dict[str, Any] = {"max_digits": 38, "decimal_places": 4}


def currency_field(**kwargs: Any) -> models.CharField[str, str]:
    return models.CharField(max_length=3, validators=[currency_code], **kwargs)


def finance_grants(*finance_privileges: str) -> dict[str, tuple[str, ...]]:
    """Narrower than the schema default: the finance role gets only these; readers read."""
    return {FINANCE_ROLE: tuple(finance_privileges), READONLY_ROLE: ("SELECT",)}
