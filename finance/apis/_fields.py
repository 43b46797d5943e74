"""Serializer fields of the finance API: amounts and rates as decimal strings (binary floats
never touch money), text as PostgreSQL stores it, ISO dates, choices that list what is allowed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from aibos.fields import StrictCharField
from finance import currencies, errors

AMOUNT_PATTERN = (
    r"^(?:[1-9][0-9]{0,14}(?:\.[0-9]{1,4})?"
    r"|0\.(?:[1-9][0-9]{0,3}|0[1-9][0-9]{0,2}|00[1-9][0-9]?|000[1-9]))$"
)
RATE_PATTERN = (
    r"^(?:[1-9][0-9]{0,9}(?:\.[0-9]{1,10})?"
    r"|0\.(?:0{0,9}[1-9][0-9]{0,9}))$"
)
BOUND_PATTERN = r"^(?:0|[1-9][0-9]{0,14})(?:\.[0-9]{1,4})?$"
# Text: no NUL (PostgreSQL cannot store it); required text holds a visible character.
# ("+": drf-spectacular documents a blank-allowed pattern as oneOf[pattern, maxLength 0], so
# the pattern itself must not match "").
TEXT_PATTERN = r"^[^\u0000]+$"
# Whitespace spelled out as the characters Python's str.strip() removes (what DRF trims): a
# regex engine's own \s differs (ECMA's lacks U+001C-U+001F, has U+FEFF), and a string of those
# alone must be invalid to the document exactly when the API calls it blank.
WHITESPACE = (
    r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
)
REQUIRED_TEXT_PATTERN = rf"^[^\u0000]*[^\u0000{WHITESPACE}][^\u0000]*$"
AMOUNT_AS_STRING = 'Send amounts as decimal strings such as "1250.00", not JSON numbers.'
AMOUNT_FORMAT = (
    "Use a positive amount in ASCII digits with at most 15 digits before the point and 4 "
    'after it, such as "1250.00" (no sign, spaces, exponent or leading zeros).'
)
RATE_FORMAT = (
    "Use a positive rate in ASCII digits with at most 10 digits before the point and 10 after it."
)
BOUND_FORMAT = (
    "Use a decimal string of zero or more in ASCII digits, at most 15 digits before the point "
    "and 4 after it."
)
BAD_CHOICE = '"{input}" is not one of the allowed values: {allowed}.'
BAD_DATE = "{value!r} is not a date that exists; use YYYY-MM-DD."
BOOKS_WINDOW = (
    "An accounting date: not before AIBOS_BOOKS_EARLIEST_DATE (default 2000-01-01) nor more "
    "than AIBOS_BOOKS_MAX_DAYS_AHEAD days ahead (default 366); outside that window, a 422 "
    "`finance_date_window`."
)


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": AMOUNT_PATTERN, "example": "1250.00"}
)
class DecimalStringField(serializers.Field):
    """A positive decimal that must arrive as a string (binary floats never touch money)."""

    pattern = re.compile(AMOUNT_PATTERN[1:-1])
    format_message = AMOUNT_FORMAT

    def to_internal_value(self, data: Any) -> Decimal:
        if not isinstance(data, str):
            raise serializers.ValidationError(AMOUNT_AS_STRING)
        if not self.pattern.fullmatch(data):
            raise serializers.ValidationError(self.format_message)
        return Decimal(data)

    def to_representation(self, value: Any) -> str:
        return str(value)


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": RATE_PATTERN, "example": "1.0850"}
)
class RateField(DecimalStringField):
    pattern = re.compile(RATE_PATTERN[1:-1])
    format_message = RATE_FORMAT


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": BOUND_PATTERN, "example": "10000.00"}
)
class BoundField(DecimalStringField):
    """A band bound: like an amount, but zero is allowed."""

    pattern = re.compile(BOUND_PATTERN[1:-1])
    format_message = BOUND_FORMAT


def text(*, max_length: int, required: bool = True, **kwargs: Any) -> serializers.CharField:
    """A string as PostgreSQL stores it: no NUL; a required one holds a visible character."""
    if required:
        return StrictCharField(
            max_length=max_length,
            validators=[RegexValidator(REQUIRED_TEXT_PATTERN)],
            **kwargs,
        )
    return StrictCharField(
        max_length=max_length,
        required=False,
        allow_blank=True,
        default="",
        validators=[RegexValidator(TEXT_PATTERN)],
        **kwargs,
    )


class StrictDateField(serializers.DateField):
    """ISO dates only, and a date that does not exist (2026-02-30) says so."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(input_formats=["iso-8601"], **kwargs)

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise serializers.ValidationError(BAD_DATE.format(value=value)) from None
        elif isinstance(value, str):
            raise serializers.ValidationError(BAD_DATE.format(value=value))
        return super().to_internal_value(value)


def choice(choices: Any, **kwargs: Any) -> serializers.ChoiceField:
    """A choice whose error lists the allowed values."""
    allowed = ", ".join(str(c) for c in serializers.ChoiceField(choices=choices).choices)
    # As a keyword: serializers re-create their fields from the constructor arguments.
    messages: dict[str, Any] = {"invalid_choice": BAD_CHOICE.replace("{allowed}", allowed)}
    return serializers.ChoiceField(choices=choices, error_messages=messages, **kwargs)


class CurrencyField(serializers.ChoiceField):
    """An active ISO 4217 code, exactly as listed (upper case)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=currencies.ISO_CODES, **kwargs)
        self.error_messages["invalid_choice"] = errors.UNKNOWN_CURRENCY.replace(
            "{code!r}", '"{input}"'
        )
