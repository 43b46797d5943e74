"""ISO 4217 active currency codes and their minor units, and the project's rounding rule.

Rounding (docs/data-model.md, "Money"): amounts are ``Decimal`` end to end and ``NUMERIC`` in
SQL. A transaction amount may not carry more decimals than its currency has minor units. An
amount converted into the company currency is rounded half away from zero (``ROUND_HALF_UP``,
what PostgreSQL's ``round(numeric, n)`` does) to the company currency's minor units, once per
line; any difference that leaves a currency unbalanced must be booked on an explicit line.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

# Minor units other than 2 (ISO 4217 list one, 2024 edition).
_EXPONENTS = {
    0: "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF",
    3: "BHD IQD JOD KWD LYD OMR TND",
    4: "CLF UYW",
}
_TWO = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD BTN BWP BYN "
    "BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP "
    "GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP "
    "LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR "
    "NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN "
    "SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UZS VED VES WST XCD YER ZAR ZMW ZWG"
)

MINOR_UNITS: dict[str, int] = {code: 2 for code in _TWO.split()}
for _exp, _codes in _EXPONENTS.items():
    MINOR_UNITS.update({code: _exp for code in _codes.split()})


# The codes, sorted: the API's currency enum.
ISO_CODES = sorted(MINOR_UNITS)


def is_currency(code: str) -> bool:
    return code in MINOR_UNITS


def minor_units(code: str) -> int:
    return MINOR_UNITS[code]


def quantum(code: str) -> Decimal:
    return Decimal(1).scaleb(-MINOR_UNITS[code])


def round_to_currency(amount: Decimal, code: str) -> Decimal:
    return amount.quantize(quantum(code), rounding=ROUND_HALF_UP)


def fits_currency(amount: Decimal, code: str) -> bool:
    return amount == amount.quantize(quantum(code))


def exponent_sql_function() -> str:
    """``finance.currency_exponent(text)``: the same table for the posting check in SQL."""
    cases = " ".join(
        f"WHEN code IN ({', '.join(repr(c) for c in codes.split())}) THEN {exp}"
        for exp, codes in sorted(_EXPONENTS.items())
    )
    return (
        'CREATE OR REPLACE FUNCTION "finance".currency_exponent(code text) RETURNS integer '
        f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT CASE {cases} ELSE 2 END $$"
    )


# The code's declaration of the function (finance migration 0002 deployed a frozen copy; a change
# here needs a migration, or tests/aibos/test_sql_functions.py fails).
CURRENCY_EXPONENT_SQL = exponent_sql_function()
