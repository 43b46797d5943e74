from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.api import actor_of
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
        actor = actor_of(request)
        tenant = Tenant.objects.get(pk=actor.tenant_id)
        data = {
            "tenant_id": actor.tenant_id,
            "tenant_slug": tenant.slug,
            "actor": actor.label,
            "correlation_id": require_context().correlation_id,
        }
        return Response(self.OutputSerializer(data).data)
