"""The framework's own floor for the HTTP posting benchmark (bench/posting.py), never deployed.

``POST /bench/floor/``: a minimal DRF endpoint behind the same middleware as the API (the same
Bearer credential check, the same tenant context and transaction per alias), whose whole work is
validating a small JSON body and one INSERT on the finance connection. Served with
``DJANGO_SETTINGS_MODULE=bench.http_settings`` (these URLs, then the application's).
"""

from __future__ import annotations

from django.db import connections
from django.urls import include, path
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.tenancy import require_context

FLOOR_TABLE_SQL = """
CREATE SCHEMA IF NOT EXISTS bench_http;
CREATE TABLE IF NOT EXISTS bench_http.floor_rows (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    reference text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
GRANT USAGE ON SCHEMA bench_http TO aibos_finance_role;
GRANT INSERT ON bench_http.floor_rows TO aibos_finance_role;
"""


class FloorApi(APIView):
    class InputSerializer(serializers.Serializer):
        reference = serializers.CharField(max_length=100)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with connections["finance"].cursor() as cur:
            cur.execute(
                "INSERT INTO bench_http.floor_rows (tenant_id, reference) VALUES (%s, %s)",
                [require_context().tenant_id, data.validated_data["reference"]],
            )
        return Response({"reference": data.validated_data["reference"]}, status.HTTP_201_CREATED)


urlpatterns = [
    path("bench/floor/", FloorApi.as_view()),
    path("", include("aibos.urls")),
]
