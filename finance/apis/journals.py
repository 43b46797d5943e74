"""Journals over the API: create (idempotent; with ``post: true`` posted at once), add lines
to a draft, post, reverse, and read. Every write answers with the entry the service wrote,
lines included."""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos import idempotency
from aibos.api import actor_of
from aibos.fields import StrictBooleanField, StrictUUIDField
from aibos.pagination import KeysetPagination
from aibos.serializers import FastOutput
from finance import selectors, services
from finance.apis._fields import BOOKS_WINDOW, DecimalStringField, StrictDateField, choice, text
from finance.apis._plumbing import CompanyFilter, filters, page, validated
from finance.models import JournalEntry


class JournalFilter(CompanyFilter):
    status = choice(JournalEntry.Status.choices, required=False)


@extend_schema_serializer(component_name="JournalLineCreate")
class LineIn(serializers.Serializer):
    account_id = StrictUUIDField()
    side = choice([services.DEBIT, services.CREDIT])
    amount = DecimalStringField(help_text="in the account's currency")
    memo = text(max_length=255, required=False)


@extend_schema_serializer(component_name="JournalLine")
class LineOut(FastOutput):
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
class JournalOut(FastOutput):
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
        tenant_id = actor_of(request).tenant_id
        qs = selectors.journal_entries(tenant_id=tenant_id, **filters(JournalFilter, request))
        return page(self, request, qs, JournalListOut)

    @extend_schema(
        parameters=[idempotency.HEADER],
        request=InputSerializer,
        responses={201: JournalDetailOut, 200: JournalDetailOut},
    )
    def post(self, request: Request) -> Response:
        """Create a draft (optionally with lines; ``post: true`` posts it at once)."""
        key = idempotency.key_from(request)
        data = validated(self.InputSerializer, request)
        actor = actor_of(request)
        entry, created = services.journal_create_draft(
            actor=actor,
            company_id=data["company_id"],
            entry_date=data["entry_date"],
            reference=data["reference"],
            memo=data["memo"],
            lines=_line_inputs(data["lines"]),
            post=data["post"],
            idempotency_key=key,
        )
        # The entry comes back with its lines: serialized as written, not read again.
        return idempotency.respond(JournalDetailOut(entry).data, created)


class JournalDetailApi(APIView):
    @extend_schema(responses=JournalDetailOut)
    def get(self, request: Request, entry_id: uuid.UUID) -> Response:
        tenant_id = actor_of(request).tenant_id
        entry = selectors.journal_entry_get(tenant_id=tenant_id, entry_id=entry_id)
        return Response(JournalDetailOut(entry).data)


class JournalLineApi(APIView):
    @extend_schema(request=LineIn, responses={201: LineOut})
    def post(self, request: Request, entry_id: uuid.UUID) -> Response:
        data = validated(LineIn, request)
        actor = actor_of(request)
        line = services.journal_add_line(actor=actor, entry_id=entry_id, **data)
        return Response(LineOut(line).data, status=status.HTTP_201_CREATED)


class JournalPostApi(APIView):
    @extend_schema(request=None, responses=JournalDetailOut)
    def post(self, request: Request, entry_id: uuid.UUID) -> Response:
        """Post a draft; posting a posted entry returns it unchanged."""
        entry = services.journal_post(actor=actor_of(request), entry_id=entry_id)
        return Response(JournalDetailOut(entry).data)


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
        data = validated(self.InputSerializer, request)
        actor = actor_of(request)
        reversal = services.journal_reverse(actor=actor, entry_id=entry_id, **data)
        return Response(JournalDetailOut(reversal).data, status=status.HTTP_201_CREATED)
