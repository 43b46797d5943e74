"""One exception handler for the API: every error is JSON of one shape (``ErrorOut``), a 4xx
with a message for anything the caller can fix, never a 500 for bad input, and never the
database's own wording."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aibos.actors import Actor, request_actor
from aibos.errors import ApplicationError, DatabaseRefusal
from aibos.middleware import request_correlation_id
from aibos.tenancy import TenantContextMissing, TenantSwitchRefused

INVALID_INPUT = "The request is invalid; see errors for each field."
TENANT_SWITCH_REFUSED = "This request acts for its own tenant only; it cannot act for another."


@extend_schema_serializer(component_name="Error")
class ErrorOut(serializers.Serializer):
    """Every error the API answers (4xx and 5xx) has this shape; some add fields named in their
    description (e.g. ``differing_fields`` on an idempotency clash)."""

    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(
        required=False, help_text="Stable, for programs (e.g. a rule name)."
    )
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named "errors"
        required=False,
        help_text="On 400s for invalid input: the messages per field (nested like the input).",
    )
    correlation_id = serializers.CharField(
        required=False, help_text="Also in the X-Correlation-ID header; quote it in reports."
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = _handle(exc, context)
    if response is None:
        return None  # a server fault: the API middleware answers a JSON 500
    request = context.get("request")
    correlation_id = request_correlation_id(request) if request is not None else None
    if correlation_id and isinstance(response.data, dict):
        response.data.setdefault("correlation_id", correlation_id)
    return response


def _handle(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.extra}, status=exc.status)
    # Safety net: services translate database refusals themselves; anything that still gets
    # here is bad input (22xxx) or a clash with existing data (23xxx), not a server fault.
    if isinstance(exc, DataError):
        return Response(
            {"detail": DatabaseRefusal.of(exc).for_client(), "code": "invalid_value"}, status=400
        )
    if isinstance(exc, IntegrityError):
        refusal = DatabaseRefusal.of(exc)
        return Response(
            {"detail": refusal.for_client(), "code": refusal.rule or "conflict"}, status=409
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, TenantSwitchRefused):
        # The request's own tenant is the only one it may act for. The message names no tenant.
        return Response(
            {"detail": TENANT_SWITCH_REFUSED, "code": "tenant_switch_refused"},
            status=status.HTTP_403_FORBIDDEN,
        )
    if isinstance(exc, TenantContextMissing):
        return Response(
            {"detail": "Authentication required.", "code": "not_authenticated"},
            status=status.HTTP_401_UNAUTHORIZED,
        )
    if isinstance(exc, exceptions.ValidationError):
        response = drf_exception_handler(exc, context)
        assert response is not None
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {"detail": INVALID_INPUT, "code": "invalid", "errors": errors}
        return response
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.APIException):
        response.data = {"detail": str(exc.detail), "code": exc.default_code}
    return response


def actor_of(request: Request) -> Actor:
    """Who the request acts as (the middleware attached it after checking the credential or
    session); a request without one is unauthenticated."""
    actor = request_actor(request)
    if actor is None:
        raise exceptions.NotAuthenticated()
    return actor
