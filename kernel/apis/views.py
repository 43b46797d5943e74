from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.tenancy import require_context
from kernel.models import Tenant


class MeApi(APIView):
    """Who the platform thinks is calling: the tenant comes from the credential only."""

    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        tenant_id = serializers.UUIDField()
        tenant_slug = serializers.CharField()
        actor = serializers.CharField()
        correlation_id = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:
        ctx = require_context()
        tenant = Tenant.objects.get(pk=ctx.tenant_id)
        data = {
            "tenant_id": ctx.tenant_id,
            "tenant_slug": tenant.slug,
            "actor": ctx.actor,
            "correlation_id": ctx.correlation_id,
        }
        return Response(self.OutputSerializer(data).data)
