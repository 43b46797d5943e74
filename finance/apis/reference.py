"""The reference books over the API: companies, accounts (and their balances), bank accounts,
FX rates. Written by administrators (FX rates also by rate-feed Cells)."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.api import actor_of
from aibos.fields import StrictUUIDField
from aibos.pagination import KeysetPagination
from aibos.serializers import FastOutput
from finance import selectors, services
from finance.apis._fields import (
    BOOKS_WINDOW,
    CurrencyField,
    RateField,
    StrictDateField,
    choice,
    text,
)
from finance.apis._plumbing import BY_CODE, CompanyFilter, filters, may_administer, page, validated
from finance.models import Account


@extend_schema_serializer(component_name="Company")
class CompanyOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        return page(self, request, selectors.companies(tenant_id=tenant_id), CompanyOut)

    @extend_schema(request=InputSerializer, responses={201: CompanyOut})
    def post(self, request: Request) -> Response:
        may_administer(request, "finance.add_company")
        actor = actor_of(request)
        company = services.company_create(actor=actor, **validated(self.InputSerializer, request))
        return Response(CompanyOut(company).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="Account")
class AccountOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        chosen = filters(CompanyFilter, request)
        qs = selectors.accounts(tenant_id=tenant_id, company_id=chosen.get("company_id"))
        return page(self, request, qs, AccountOut)

    @extend_schema(request=InputSerializer, responses={201: AccountOut})
    def post(self, request: Request) -> Response:
        may_administer(request, "finance.add_account")
        actor = actor_of(request)
        account = services.account_create(actor=actor, **validated(self.InputSerializer, request))
        return Response(AccountOut(account).data, status=status.HTTP_201_CREATED)


class AccountBalanceApi(APIView):
    @extend_schema_serializer(component_name="AccountBalance")
    class OutputSerializer(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        balance = selectors.account_balance(tenant_id=tenant_id, account_id=account_id)
        return Response(self.OutputSerializer(balance).data)


@extend_schema_serializer(component_name="BankAccount")
class BankAccountOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        return page(self, request, selectors.bank_accounts(tenant_id=tenant_id), BankAccountOut)

    @extend_schema(request=InputSerializer, responses={201: BankAccountOut})
    def post(self, request: Request) -> Response:
        may_administer(request, "finance.add_bankaccount")
        actor = actor_of(request)
        bank = services.bank_account_create(actor=actor, **validated(self.InputSerializer, request))
        return Response(BankAccountOut(bank).data, status=status.HTTP_201_CREATED)


@extend_schema_serializer(component_name="FxRate")
class FxRateOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        return page(self, request, selectors.fx_rates(tenant_id=tenant_id), FxRateOut)

    @extend_schema(request=InputSerializer, responses={201: FxRateOut})
    def post(self, request: Request) -> Response:
        """Rate feeds (Cells) and users with the permission may set rates."""
        if getattr(request.user, "pk", None):
            may_administer(request, "finance.add_fxrate")
        actor = actor_of(request)
        fx = services.fx_rate_set(actor=actor, **validated(self.InputSerializer, request))
        return Response(FxRateOut(fx).data, status=status.HTTP_201_CREATED)
