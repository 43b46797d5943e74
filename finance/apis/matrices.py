"""Approval matrices over the API: create a draft version with its bands, activate it.
Written by administrators; answered with the matrix as written, bands included."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.api import actor_of
from aibos.fields import StrictIntegerField, StrictUUIDField
from aibos.pagination import KeysetPagination
from aibos.serializers import FastOutput
from finance import selectors, services
from finance.apis._fields import BoundField, CurrencyField, choice, text
from finance.apis._plumbing import may_administer, page, validated
from finance.models import PaymentType


@extend_schema_serializer(component_name="ApprovalBand")
class BandSerializer(FastOutput):
    min_amount = BoundField()
    max_amount = BoundField(allow_null=True, required=False, default=None)
    required_approvals = StrictIntegerField(min_value=1, max_value=20)
    approver_roles = serializers.ListField(child=text(max_length=150), min_length=1)
    required_roles = serializers.ListField(child=text(max_length=150), required=False, default=list)


@extend_schema_serializer(component_name="ApprovalMatrix")
class MatrixOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        return page(self, request, selectors.approval_matrices(tenant_id=tenant_id), MatrixOut)

    @extend_schema(request=InputSerializer, responses={201: MatrixOut})
    def post(self, request: Request) -> Response:
        """A new DRAFT version; activate it to replace the active one."""
        may_administer(request, "finance.add_approvalmatrix")
        data = validated(self.InputSerializer, request)
        actor = actor_of(request)
        matrix = services.approval_matrix_create(
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
        may_administer(request, "finance.change_approvalmatrix")
        actor = actor_of(request)
        matrix = services.approval_matrix_activate(actor=actor, matrix_id=matrix_id)
        return Response(MatrixOut(matrix).data)
