"""The Cells API for finance (DRF, under /api/v1/). One view per resource or operation, nested
Input/Output serializers, services for writes and selectors for reads.

The tenant comes from the credential only (the middleware sets the context); a ``tenant_id``
in a body is never read. Amounts travel as decimal strings, never JSON numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.fields import (
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictUUIDField,
)
from aibos.pagination import KeysetPagination
from aibos.tenancy import require_context
from finance import currencies, errors, selectors, services
from finance.models import (
    Account,
    JournalEntry,
    Payment,
    PaymentType,
    mask_account_number,
)

# Positive decimals in ASCII digits, no sign, exponent, spaces or leading zeros; the integer
# and fraction digit counts are the column's (finance/limits.py). Python's \d would also
# match full-width and Arabic-Indic digits, and "$" a trailing newline: hence [0-9] and
# fullmatch.
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
NOT_ALLOWED = "Your credential may not {action}."
IDEMPOTENCY_KEY = re.compile(r"[!-~]{1,128}")  # visible ASCII, as HTTP headers carry it
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[!-~]{1,128}$"},
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per request; a retry with the same key and body returns the original "
    "result (200), the same key with another body is a 409 naming the differing fields.",
)


# --- fields --------------------------------------------------------------------------------


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


# --- plumbing ------------------------------------------------------------------------------


def _actor() -> tuple[uuid.UUID, str]:
    ctx = require_context()
    return ctx.tenant_id, ctx.actor


def _validated(
    serializer_class: type[serializers.Serializer[Any]], request: Request
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise errors.ApplicationError(
            errors.IDEMPOTENCY_KEY_REQUIRED, extra={"code": "idempotency_key_required"}
        )
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise errors.ApplicationError(
            "The Idempotency-Key header is 1 to 128 visible ASCII characters.",
            extra={"code": "invalid"},
        )
    return key


def _may_administer(request: Request, permission: str) -> None:
    """Reference data (companies, charts, matrices) is written by people with the permission,
    never by a Cell credential."""
    user = request.user
    if not getattr(user, "pk", None) or not user.has_perm(permission):
        raise errors.Forbidden(
            NOT_ALLOWED.format(action=permission.split(".")[1].replace("_", " "))
        )


def _found(obj: Any, what: str, pk: Any) -> Any:
    if obj is None:
        raise errors.NotFound(errors.NOT_FOUND.format(what=what, id=pk))
    return obj


def _page(
    view: APIView, request: Request, qs: Any, out: type[serializers.Serializer[Any]]
) -> Response:
    paginator = view.pagination_class()  # type: ignore[attr-defined]
    rows = paginator.paginate_queryset(qs, request, view)
    return paginator.get_paginated_response(out(rows, many=True).data)


def _filters(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
    # DRF skips an empty optional query value ("?status="); here it is an error, not "all".
    empty = [str(f) for f in serializer_class().fields if request.query_params.get(str(f)) == ""]
    if empty:
        raise serializers.ValidationError(
            {f: ["An empty filter value is not allowed."] for f in empty}
        )
    filters = serializer_class(data=request.query_params)
    filters.is_valid(raise_exception=True)
    return {k: v for k, v in filters.validated_data.items() if v is not None}


class CompanyFilter(serializers.Serializer):
    company_id = StrictUUIDField(required=False, help_text="Only this company's rows.")


class JournalFilter(CompanyFilter):
    status = choice(JournalEntry.Status.choices, required=False)


class PaymentFilter(CompanyFilter):
    status = choice(Payment.Status.choices, required=False)


BY_CODE = KeysetPagination.ordered_by(("code", "id"), descending=False)


def _created(data: Any, created: bool) -> Response:
    response = Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
    if not created:
        response["Idempotent-Replay"] = "true"
    return response


# --- companies, accounts, bank accounts, FX ------------------------------------------------


@extend_schema_serializer(component_name="Company")
class CompanyOut(serializers.Serializer):
    id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    base_currency = serializers.CharField()
    soft_lock_date = serializers.DateField(allow_null=True)
    hard_lock_date = serializers.DateField(allow_null=True)


class CompanyListApi(APIView):
    pagination_class = BY_CODE

    @extend_schema_serializer(component_name="CompanyCreate")
    class InputSerializer(serializers.Serializer):
        code = text(max_length=32)
        name = text(max_length=200)
        base_currency = CurrencyField()

    @extend_schema(responses=CompanyOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        return _page(self, request, selectors.companies(tenant_id=tenant_id), CompanyOut)

    @extend_schema(request=InputSerializer, responses={201: CompanyOut})
    def post(self, request: Request) -> Response:
        _may_administer(request, "finance.add_company")
        tenant_id, actor = _actor()
        company = services.company_create(
            tenant_id=tenant_id, actor=actor, **_validated(self.InputSerializer, request)
        )
        return Response(CompanyOut(company).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="Account")
class AccountOut(serializers.Serializer):
    id = serializers.UUIDField()
    company_id = serializers.UUIDField()
    code = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    currency = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)
    is_active = serializers.BooleanField()


class AccountListApi(APIView):
    pagination_class = BY_CODE

    @extend_schema_serializer(component_name="AccountCreate")
    class InputSerializer(serializers.Serializer):
        company_id = StrictUUIDField()
        code = text(max_length=32)
        name = text(max_length=200)
        type = choice(Account.Type.choices)
        currency = CurrencyField(required=False)
        parent_id = StrictUUIDField(required=False, allow_null=True)

    @extend_schema(parameters=[CompanyFilter], responses=AccountOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        filters = _filters(CompanyFilter, request)
        qs = selectors.accounts(tenant_id=tenant_id, company_id=filters.get("company_id"))
        return _page(self, request, qs, AccountOut)

    @extend_schema(request=InputSerializer, responses={201: AccountOut})
    def post(self, request: Request) -> Response:
        _may_administer(request, "finance.add_account")
        tenant_id, actor = _actor()
        account = services.account_create(
            tenant_id=tenant_id, actor=actor, **_validated(self.InputSerializer, request)
        )
        return Response(AccountOut(account).data, status=status.HTTP_201_CREATED)


class AccountBalanceApi(APIView):
    @extend_schema_serializer(component_name="AccountBalance")
    class OutputSerializer(serializers.Serializer):
        account_id = serializers.UUIDField(source="account.pk")
        currency = serializers.CharField(source="account.currency")
        debit_total = serializers.DecimalField(max_digits=38, decimal_places=4)
        credit_total = serializers.DecimalField(max_digits=38, decimal_places=4)
        balance = serializers.DecimalField(
            max_digits=39, decimal_places=4, help_text="debits minus credits, company currency"
        )
        txn_balance = serializers.DecimalField(
            max_digits=38, decimal_places=4, help_text="in the account's currency"
        )
        line_count = serializers.IntegerField()
        version = serializers.IntegerField(
            help_text="increments with every posting that touches the account"
        )

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request, account_id: uuid.UUID) -> Response:
        tenant_id, _ = _actor()
        balance = _found(
            selectors.account_balance(tenant_id=tenant_id, account_id=account_id),
            "Account",
            account_id,
        )
        return Response(self.OutputSerializer(balance).data)


@extend_schema_serializer(component_name="BankAccount")
class BankAccountOut(serializers.Serializer):
    id = serializers.UUIDField()
    company_id = serializers.UUIDField()
    name = serializers.CharField()
    bank_code = serializers.CharField()
    account_number = serializers.CharField(source="masked_number")
    currency = serializers.CharField()
    ledger_account_id = serializers.UUIDField()
    is_active = serializers.BooleanField()


class BankAccountListApi(APIView):
    pagination_class = KeysetPagination

    @extend_schema_serializer(component_name="BankAccountCreate")
    class InputSerializer(serializers.Serializer):
        company_id = StrictUUIDField()
        name = text(max_length=200)
        bank_code = text(max_length=32)
        account_number = text(max_length=64)
        ledger_account_id = StrictUUIDField()

    @extend_schema(responses=BankAccountOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        return _page(self, request, selectors.bank_accounts(tenant_id=tenant_id), BankAccountOut)

    @extend_schema(request=InputSerializer, responses={201: BankAccountOut})
    def post(self, request: Request) -> Response:
        _may_administer(request, "finance.add_bankaccount")
        tenant_id, actor = _actor()
        bank = services.bank_account_create(
            tenant_id=tenant_id, actor=actor, **_validated(self.InputSerializer, request)
        )
        return Response(BankAccountOut(bank).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="FxRate")
class FxRateOut(serializers.Serializer):
    id = serializers.UUIDField()
    base = serializers.CharField()
    quote = serializers.CharField()
    rate = serializers.DecimalField(max_digits=20, decimal_places=10)
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]  # a field named "source"


class FxRateListApi(APIView):
    pagination_class = KeysetPagination

    @extend_schema_serializer(component_name="FxRateCreate")
    class InputSerializer(serializers.Serializer):
        base = CurrencyField()
        quote = CurrencyField()
        rate = RateField()
        valid_from = StrictDateField(help_text=BOOKS_WINDOW)
        source = text(max_length=100, required=False)  # type: ignore[assignment]

    @extend_schema(responses=FxRateOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        return _page(self, request, selectors.fx_rates(tenant_id=tenant_id), FxRateOut)

    @extend_schema(request=InputSerializer, responses={201: FxRateOut})
    def post(self, request: Request) -> Response:
        """Rate feeds (Cells) and users with the permission may set rates."""
        if getattr(request.user, "pk", None):
            _may_administer(request, "finance.add_fxrate")
        tenant_id, actor = _actor()
        fx = services.fx_rate_set(
            tenant_id=tenant_id, actor=actor, **_validated(self.InputSerializer, request)
        )
        return Response(FxRateOut(fx).data, status=status.HTTP_201_CREATED)


# --- journals ------------------------------------------------------------------------------


@extend_schema_serializer(component_name="JournalLineCreate")
class LineIn(serializers.Serializer):
    account_id = StrictUUIDField()
    side = choice([services.DEBIT, services.CREDIT])
    amount = DecimalStringField(help_text="in the account's currency")
    memo = text(max_length=255, required=False)


@extend_schema_serializer(component_name="JournalLine")
class LineOut(serializers.Serializer):
    id = serializers.UUIDField()
    account_id = serializers.UUIDField()
    debit = serializers.DecimalField(max_digits=19, decimal_places=4)
    credit = serializers.DecimalField(max_digits=19, decimal_places=4)
    currency = serializers.CharField()
    txn_amount = serializers.DecimalField(max_digits=19, decimal_places=4)
    fx_rate_id = serializers.UUIDField(allow_null=True)
    fx_rate = serializers.DecimalField(source="fx_rate_value", max_digits=20, decimal_places=10)
    memo = serializers.CharField()


@extend_schema_serializer(component_name="Journal")
class JournalOut(serializers.Serializer):
    id = serializers.UUIDField()
    company_id = serializers.UUIDField()
    entry_date = serializers.DateField()
    reference = serializers.CharField()
    memo = serializers.CharField()
    status = serializers.CharField()
    posting_seq = serializers.IntegerField(allow_null=True)
    posted_at = serializers.DateTimeField(allow_null=True)
    posted_by = serializers.CharField()
    reversal_of_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="JournalSummary")
class JournalListOut(JournalOut):
    line_count = serializers.IntegerField()


@extend_schema_serializer(component_name="JournalDetail")
class JournalDetailOut(JournalOut):
    lines = LineOut(many=True)


def _line_inputs(lines: list[dict[str, Any]]) -> list[services.LineInput]:
    return [
        services.LineInput(x["account_id"], x["side"], x["amount"], x.get("memo", ""))
        for x in lines
    ]


def _journal_detail(tenant_id: uuid.UUID, entry_id: Any) -> dict[str, Any]:
    entry = _found(
        selectors.journal_entry_get(tenant_id=tenant_id, entry_id=entry_id),
        "Journal entry",
        entry_id,
    )
    return dict(JournalDetailOut(entry).data)


class JournalListApi(APIView):
    pagination_class = KeysetPagination

    @extend_schema_serializer(component_name="JournalCreate")
    class InputSerializer(serializers.Serializer):
        company_id = StrictUUIDField()
        entry_date = StrictDateField(help_text=BOOKS_WINDOW)
        reference = text(max_length=100, required=False)
        memo = text(max_length=2000, required=False)
        # A ListField, not many=True: its item limits reach the schema (maxItems).
        lines = serializers.ListField(child=LineIn(), required=False, default=list, max_length=1000)
        post = StrictBooleanField(required=False, default=False)

    @extend_schema(parameters=[JournalFilter], responses=JournalListOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        qs = selectors.journal_entries(tenant_id=tenant_id, **_filters(JournalFilter, request))
        return _page(self, request, qs, JournalListOut)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: JournalDetailOut, 200: JournalDetailOut},
    )
    def post(self, request: Request) -> Response:
        """Create a draft (optionally with lines; ``post: true`` posts it at once)."""
        key = _idempotency_key(request)
        data = _validated(self.InputSerializer, request)
        tenant_id, actor = _actor()
        entry, created = services.journal_create_draft(
            tenant_id=tenant_id,
            actor=actor,
            company_id=data["company_id"],
            entry_date=data["entry_date"],
            reference=data["reference"],
            memo=data["memo"],
            lines=_line_inputs(data["lines"]),
            post=data["post"],
            idempotency_key=key,
        )
        return _created(_journal_detail(tenant_id, entry.pk), created)


class JournalDetailApi(APIView):
    @extend_schema(responses=JournalDetailOut)
    def get(self, request: Request, entry_id: uuid.UUID) -> Response:
        tenant_id, _ = _actor()
        return Response(_journal_detail(tenant_id, entry_id))


class JournalLineApi(APIView):
    @extend_schema(request=LineIn, responses={201: LineOut})
    def post(self, request: Request, entry_id: uuid.UUID) -> Response:
        data = _validated(LineIn, request)
        tenant_id, actor = _actor()
        line = services.journal_add_line(
            tenant_id=tenant_id, actor=actor, entry_id=entry_id, **data
        )
        return Response(LineOut(line).data, status=status.HTTP_201_CREATED)


class JournalPostApi(APIView):
    @extend_schema(request=None, responses=JournalDetailOut)
    def post(self, request: Request, entry_id: uuid.UUID) -> Response:
        """Post a draft; posting a posted entry returns it unchanged."""
        tenant_id, actor = _actor()
        services.journal_post(tenant_id=tenant_id, actor=actor, entry_id=entry_id)
        return Response(_journal_detail(tenant_id, entry_id))


class JournalReverseApi(APIView):
    @extend_schema_serializer(component_name="JournalReverse")
    class InputSerializer(serializers.Serializer):
        entry_date = StrictDateField(
            required=False,
            allow_null=True,
            default=None,
            help_text=f"Default today. {BOOKS_WINDOW}",
        )
        memo = text(max_length=2000, required=False)

    @extend_schema(request=InputSerializer, responses={201: JournalDetailOut})
    def post(self, request: Request, entry_id: uuid.UUID) -> Response:
        data = _validated(self.InputSerializer, request)
        tenant_id, actor = _actor()
        reversal = services.journal_reverse(
            tenant_id=tenant_id, actor=actor, entry_id=entry_id, **data
        )
        return Response(_journal_detail(tenant_id, reversal.pk), status=status.HTTP_201_CREATED)


# --- payments ------------------------------------------------------------------------------


@extend_schema_serializer(component_name="PaymentApproval")
class ApprovalOut(serializers.Serializer):
    approver = serializers.CharField()
    decision = serializers.CharField()
    reason = serializers.CharField()
    level = serializers.IntegerField()
    approver_role = serializers.CharField()
    decided_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="PaymentPolicy")
class PolicyOut(serializers.Serializer):
    matrix_id = serializers.UUIDField(source="policy_matrix_id", allow_null=True)
    band_id = serializers.UUIDField(source="policy_band_id", allow_null=True)
    currency = serializers.CharField(source="policy_currency")
    amount = serializers.DecimalField(
        source="policy_amount", max_digits=19, decimal_places=4, allow_null=True
    )
    fx_rate = serializers.DecimalField(
        source="policy_fx_rate_value", max_digits=20, decimal_places=10, allow_null=True
    )
    required_approvals = serializers.IntegerField(allow_null=True)
    approver_roles = serializers.ListField(child=serializers.CharField())
    required_roles = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(component_name="Payment")
class PaymentOut(serializers.Serializer):
    id = serializers.UUIDField()
    company_id = serializers.UUIDField()
    payment_type = serializers.CharField()
    amount = serializers.DecimalField(max_digits=19, decimal_places=4)
    currency = serializers.CharField()
    bank_account_id = serializers.UUIDField()
    debit_account_id = serializers.UUIDField()
    beneficiary_name = serializers.CharField()
    beneficiary_account = serializers.SerializerMethodField()
    reference = serializers.CharField()
    status = serializers.CharField()
    requested_by = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    paid_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    journal_entry_id = serializers.UUIDField(allow_null=True)
    policy = PolicyOut(source="*")
    created_at = serializers.DateTimeField()

    def get_beneficiary_account(self, payment: Payment) -> str:
        return mask_account_number(payment.beneficiary_account)


@extend_schema_serializer(component_name="PaymentDetail")
class PaymentDetailOut(PaymentOut):
    approvals = ApprovalOut(many=True)


def _payment_detail(tenant_id: uuid.UUID, payment_id: Any) -> dict[str, Any]:
    payment = _found(
        selectors.payment_get(tenant_id=tenant_id, payment_id=payment_id), "Payment", payment_id
    )
    return dict(PaymentDetailOut(payment).data)


class PaymentListApi(APIView):
    pagination_class = KeysetPagination

    @extend_schema_serializer(component_name="PaymentCreate")
    class InputSerializer(serializers.Serializer):
        company_id = StrictUUIDField()
        payment_type = choice(PaymentType.choices)
        amount = DecimalStringField()
        currency = CurrencyField()
        bank_account_id = StrictUUIDField()
        debit_account_id = StrictUUIDField()
        beneficiary_name = text(max_length=200)
        beneficiary_account = text(max_length=64)
        reference = text(max_length=140, required=False)

    @extend_schema(parameters=[PaymentFilter], responses=PaymentOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        qs = selectors.payments(tenant_id=tenant_id, **_filters(PaymentFilter, request))
        return _page(self, request, qs, PaymentOut)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=InputSerializer,
        responses={201: PaymentDetailOut, 200: PaymentDetailOut},
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request)
        data = _validated(self.InputSerializer, request)
        tenant_id, actor = _actor()
        payment, created = services.payment_create(
            tenant_id=tenant_id, actor=actor, idempotency_key=key, **data
        )
        return _created(_payment_detail(tenant_id, payment.pk), created)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentDetailOut)
    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        tenant_id, _ = _actor()
        return Response(_payment_detail(tenant_id, payment_id))


@extend_schema_serializer(component_name="PaymentActionInput")
class _NoInput(serializers.Serializer):
    pass


class _PaymentActionApi(APIView):
    """POST /payments/<id>/<action>/: one service call, the payment with its history back."""

    InputSerializer: type[serializers.Serializer] = _NoInput
    service: Any  # a finance service taking tenant_id, actor, payment_id and the input

    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        data = _validated(self.InputSerializer, request)
        tenant_id, actor = _actor()
        type(self).service(tenant_id=tenant_id, actor=actor, payment_id=payment_id, **data)
        return Response(_payment_detail(tenant_id, payment_id))


def _payment_action(
    description: str, input_serializer: type[serializers.Serializer] | None = None
) -> Any:
    return extend_schema_view(
        post=extend_schema(
            request=input_serializer, responses=PaymentDetailOut, description=description
        )
    )


@_payment_action("Freeze the approval policy onto the payment and ask for approval.")
class PaymentSubmitApi(_PaymentActionApi):
    service = staticmethod(services.payment_submit)


@extend_schema_serializer(component_name="PaymentApprove")
class _ApproveInput(serializers.Serializer):
    reason = text(max_length=500, required=False)


@_payment_action(
    "Approve as the signed-in user (never the requester; one decision per approver).",
    _ApproveInput,
)
class PaymentApproveApi(_PaymentActionApi):
    InputSerializer = _ApproveInput
    service = staticmethod(services.payment_approve)


@extend_schema_serializer(component_name="PaymentReject")
class _RejectInput(serializers.Serializer):
    reason = text(max_length=500)


@_payment_action("Reject as the signed-in user; a rejection ends the approval.", _RejectInput)
class PaymentRejectApi(_PaymentActionApi):
    InputSerializer = _RejectInput
    service = staticmethod(services.payment_reject)


@_payment_action("Cancel a DRAFT, SUBMITTED or APPROVED payment.")
class PaymentCancelApi(_PaymentActionApi):
    service = staticmethod(services.payment_cancel)


@extend_schema_serializer(component_name="PaymentMarkPaid")
class _MarkPaidInput(serializers.Serializer):
    paid_on = StrictDateField(
        required=False, allow_null=True, default=None, help_text=f"Default today. {BOOKS_WINDOW}"
    )


@_payment_action("Post the payment's journal entry and mark it PAID (idempotent).", _MarkPaidInput)
class PaymentMarkPaidApi(_PaymentActionApi):
    InputSerializer = _MarkPaidInput
    service = staticmethod(services.payment_mark_paid)


# --- approval matrices ---------------------------------------------------------------------


@extend_schema_serializer(component_name="ApprovalBand")
class BandSerializer(serializers.Serializer):
    min_amount = BoundField()
    max_amount = BoundField(allow_null=True, required=False, default=None)
    required_approvals = StrictIntegerField(min_value=1, max_value=20)
    approver_roles = serializers.ListField(child=text(max_length=150), min_length=1)
    required_roles = serializers.ListField(child=text(max_length=150), required=False, default=list)


@extend_schema_serializer(component_name="ApprovalMatrix")
class MatrixOut(serializers.Serializer):
    id = serializers.UUIDField()
    company_id = serializers.UUIDField()
    payment_type = serializers.CharField()
    currency = serializers.CharField()
    version = serializers.IntegerField()
    status = serializers.CharField()
    activated_at = serializers.DateTimeField(allow_null=True)
    bands = BandSerializer(many=True, source="bands.all")
    created_at = serializers.DateTimeField()


class ApprovalMatrixListApi(APIView):
    pagination_class = KeysetPagination

    @extend_schema_serializer(component_name="ApprovalMatrixCreate")
    class InputSerializer(serializers.Serializer):
        company_id = StrictUUIDField()
        payment_type = choice(PaymentType.choices)
        currency = CurrencyField()
        bands = serializers.ListField(child=BandSerializer(), min_length=1, max_length=20)

    @extend_schema(responses=MatrixOut(many=True))
    def get(self, request: Request) -> Response:
        tenant_id, _ = _actor()
        return _page(self, request, selectors.approval_matrices(tenant_id=tenant_id), MatrixOut)

    @extend_schema(request=InputSerializer, responses={201: MatrixOut})
    def post(self, request: Request) -> Response:
        """A new DRAFT version; activate it to replace the active one."""
        _may_administer(request, "finance.add_approvalmatrix")
        data = _validated(self.InputSerializer, request)
        tenant_id, actor = _actor()
        matrix = services.approval_matrix_create(
            tenant_id=tenant_id,
            actor=actor,
            company_id=data["company_id"],
            payment_type=data["payment_type"],
            currency=data["currency"],
            bands=[services.BandInput(**band) for band in data["bands"]],
        )
        return Response(MatrixOut(matrix).data, status=status.HTTP_201_CREATED)


class ApprovalMatrixActivateApi(APIView):
    @extend_schema(request=None, responses=MatrixOut)
    def post(self, request: Request, matrix_id: uuid.UUID) -> Response:
        _may_administer(request, "finance.change_approvalmatrix")
        tenant_id, actor = _actor()
        matrix = services.approval_matrix_activate(
            tenant_id=tenant_id, actor=actor, matrix_id=matrix_id
        )
        return Response(MatrixOut(matrix).data)
