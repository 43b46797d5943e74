"""One exception handler for the API: every error is a JSON 4xx with a message, never a 500
for bad input."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from aibos.errors import ApplicationError, DatabaseRefusal
from aibos.tenancy import TenantContextMissing


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApplicationError):
        return Response({"detail": exc.message, **exc.extra}, status=exc.status)
    # Safety net: services translate database refusals themselves; anything that still gets
    # here is bad input (22xxx) or a clash with existing data (23xxx), not a server fault.
    if isinstance(exc, DataError):
        return Response(
            {"detail": DatabaseRefusal.of(exc).message, "code": "invalid_value"}, status=400
        )
    if isinstance(exc, IntegrityError):
        return Response({"detail": DatabaseRefusal.of(exc).message, "code": "conflict"}, status=409)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, TenantContextMissing):
        return Response({"detail": "Authentication required."}, status=status.HTTP_401_UNAUTHORIZED)
    return drf_exception_handler(exc, context)
