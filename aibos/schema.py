"""The OpenAPI generator: drf-spectacular's, plus the error answers every operation can give,
all with the shared ``Error`` schema (``aibos.api.ErrorOut``)."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular import openapi

ERRORS = {
    400: "Malformed request: a parameter or body field does not match this document "
    "(`errors` names each field).",
    401: "No credential, or an invalid, expired or revoked one.",
    403: "The credential may not do this (e.g. a Cell writing reference data or approving).",
    404: "No such row in the caller's tenant (another tenant's rows look exactly the same), "
    "or a cursor that points at no row of the list.",
    409: "Conflicts with the current state: a transition the row's status does not allow, a "
    "code already taken, or an Idempotency-Key reused with another body "
    "(`differing_fields`).",
    413: "The body is larger than the configured limit, or nested too deeply.",
    415: "The body is not UTF-8 `application/json`.",
    422: "Well-formed, but a ledger or payment rule refuses it (`code` names the rule): "
    "unbalanced, too many decimals for the currency, no FX rate, a date outside the books' "
    "window, an amount beyond the limits.",
    500: "A server fault; the body carries only a correlation_id to quote.",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        from aibos.api import ErrorOut  # the handler module imports settings-bound DRF parts

        component = self.resolve_serializer(ErrorOut, "response")
        for code in self._error_statuses():
            responses.setdefault(
                str(code),
                {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": component.ref}},
                },
            )
        return responses

    def _error_statuses(self) -> list[int]:
        if self.method == "GET":
            codes = [401, 404, 500]
            if self._is_list_view():
                codes.append(400)
            return sorted(codes)
        return sorted(ERRORS)


def add_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """OpenAPI links from each create (``POST /x/`` answering 201) to the operations on the row
    it created (``/x/{x_id}/...``): clients, and schemathesis' stateful mode, can follow them."""
    paths = result.get("paths", {})
    for path, operations in paths.items():
        created = operations.get("post", {}).get("responses", {}).get("201")
        if "{" in path or created is None:
            continue
        links = {}
        for other, other_operations in paths.items():
            match = re.match(r"\{(\w+)\}", other[len(path) :]) if other.startswith(path) else None
            if match is None:
                continue
            for operation in other_operations.values():
                links[operation["operationId"]] = {
                    "operationId": operation["operationId"],
                    "parameters": {match.group(1): "$response.body#/id"},
                }
        if links:
            created["links"] = links
    return result
