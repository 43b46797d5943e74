"""What the finance API views share: input validation, the administrator check, pages and
list filters."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from aibos.fields import StrictUUIDField
from aibos.pagination import KeysetPagination
from finance import errors

NOT_ALLOWED = "Your credential may not {action}."


def validated(
    serializer_class: type[serializers.Serializer[Any]], request: Request
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def may_administer(request: Request, permission: str) -> None:
    """Reference data (companies, charts, matrices) is written by people with the permission,
    never by a Cell credential."""
    user = request.user
    if not getattr(user, "pk", None) or not user.has_perm(permission):
        raise errors.Forbidden(
            NOT_ALLOWED.format(action=permission.split(".")[1].replace("_", " "))
        )


def page(
    view: APIView, request: Request, qs: Any, out: type[serializers.Serializer[Any]]
) -> Response:
    paginator = view.pagination_class()  # type: ignore[attr-defined]
    rows = paginator.paginate_queryset(qs, request, view)
    return paginator.get_paginated_response(out(rows, many=True).data)


def filters(serializer_class: type[serializers.Serializer[Any]], request: Request) -> Any:
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


BY_CODE = KeysetPagination.ordered_by(("code", "id"), descending=False)
