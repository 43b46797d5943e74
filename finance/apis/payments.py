"""Payments over the API: create (idempotent), read, and the actions of their approval:
submit, approve, reject, cancel, mark paid. Every write answers with the payment the service
wrote, its decisions included."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos import idempotency
from aibos.api import actor_of
from aibos.fields import StrictUUIDField
from aibos.pagination import KeysetPagination
from aibos.serializers import FastOutput
from finance import selectors, services
from finance.apis._fields import (
    BOOKS_WINDOW,
    CurrencyField,
    DecimalStringField,
    StrictDateField,
    choice,
    text,
)
from finance.apis._plumbing import CompanyFilter, filters, page, validated
from finance.models import Payment, PaymentType, mask_account_number


class PaymentFilter(CompanyFilter):
    status = choice(Payment.Status.choices, required=False)


@extend_schema_serializer(component_name="PaymentApproval")
class ApprovalOut(FastOutput):
    approver = serializers.CharField()
    decision = serializers.CharField()
    reason = serializers.CharField()
    level = serializers.IntegerField()
    approver_role = serializers.CharField()
    decided_at = serializers.DateTimeField()


@extend_schema_serializer(component_name="PaymentPolicy")
class PolicyOut(FastOutput):
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
class PaymentOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        qs = selectors.payments(tenant_id=tenant_id, **filters(PaymentFilter, request))
        return page(self, request, qs, PaymentOut)

    @extend_schema(
        parameters=[idempotency.HEADER],
        request=InputSerializer,
        responses={201: PaymentDetailOut, 200: PaymentDetailOut},
    )
    def post(self, request: Request) -> Response:
        key = idempotency.key_from(request)
        data = validated(self.InputSerializer, request)
        actor = actor_of(request)
        payment, created = services.payment_create(actor=actor, idempotency_key=key, **data)
        # The payment comes back with its decisions: serialized as written, not read again.
        return idempotency.respond(PaymentDetailOut(payment).data, created)


class PaymentDetailApi(APIView):
    @extend_schema(responses=PaymentDetailOut)
    def get(self, request: Request, payment_id: uuid.UUID) -> Response:
        tenant_id = actor_of(request).tenant_id
        payment = selectors.payment_get(tenant_id=tenant_id, payment_id=payment_id)
        return Response(PaymentDetailOut(payment).data)


@extend_schema_serializer(component_name="PaymentActionInput")
class _NoInput(serializers.Serializer):
    pass


class _PaymentActionApi(APIView):
    """POST /payments/<id>/<action>/: one service call, the payment it wrote (with its
    decisions) back."""

    InputSerializer: type[serializers.Serializer] = _NoInput
    service: Any  # a finance service taking actor, payment_id and the input; returns the payment

    def post(self, request: Request, payment_id: uuid.UUID) -> Response:
        data = validated(self.InputSerializer, request)
        actor = actor_of(request)
        payment = type(self).service(actor=actor, payment_id=payment_id, **data)
        return Response(PaymentDetailOut(payment).data)


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
