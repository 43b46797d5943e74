"""Resolves who is calling and runs the request inside that tenant's context.

The caller becomes an :class:`~aibos.actors.Actor`, attached to the request
(``aibos.actors.request_actor``) and carried by the tenant context. Actors come from exactly
two places, and the tenant always comes from the credential:
- a signed session cookie (set at sign-in) holding the tenant, the user and a kernel.sessions
  row id, checked for revocation and expiry on every request;
- ``Authorization: Bearer aibos_...``, an API credential verified under RLS in its tenant.

The middleware owns the transaction it sets the tenant in (``tenant_context``); a response with
status >= 400 rolls back every alias, so a rejected request writes nothing.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from rest_framework.request import Request

from aibos import parsers
from aibos.actors import Actor, attach_actor
from aibos.db.roles import RUNTIME_ALIASES
from aibos.tenancy import tenant_context, tenant_statement
from kernel import credentials, selectors
from kernel.signals import SESSION_ID_KEY, SESSION_TENANT_KEY

INVALID_CREDENTIAL = "Invalid, expired or revoked API credential."
CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_OK = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
# In the request's WSGI environ, like the actor (aibos.actors): no attribute added to the request.
_CORRELATION_KEY = "aibos.correlation_id"


def request_correlation_id(request: HttpRequest | Request) -> str | None:
    """The correlation id the API middleware assigned to ``request``, if it did."""
    http = request._request if isinstance(request, Request) else request
    value = http.META.get(_CORRELATION_KEY)
    return value if isinstance(value, str) else None


def _correlation_id(request: HttpRequest) -> str:
    assigned = request_correlation_id(request)
    if assigned:
        return assigned
    supplied = request.headers.get(CORRELATION_HEADER, "")
    return supplied if _CORRELATION_OK.match(supplied) else str(uuid.uuid4())


def _unauthorized(message: str) -> JsonResponse:
    response = JsonResponse({"detail": message}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


class TenantContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        correlation_id = _correlation_id(request)
        attach_actor(request, None)
        auth_header = request.headers.get("Authorization", "")
        if auth_header.startswith("Bearer "):
            try:
                actor = self._verify_token(auth_header[len("Bearer ") :].strip(), correlation_id)
            except credentials.MalformedToken as exc:
                return _unauthorized(str(exc))
            if actor is None:
                return _unauthorized(INVALID_CREDENTIAL)
        else:
            actor = self._session_claim(request)

        if actor is None:
            response = self.get_response(request)
        else:
            response = self._run_as(actor, request, correlation_id)
        response[CORRELATION_HEADER] = correlation_id
        return response

    def _run_as(self, actor: Actor, request: HttpRequest, correlation_id: str) -> HttpResponse:
        with tenant_context(actor, correlation_id=correlation_id):
            if actor.credential_id is None and not self._session_live(request, actor):
                # Revoked or expired: forget the cookie and let the next request start anonymous.
                request.session.flush()
                return HttpResponseRedirect(request.get_full_path())
            attach_actor(request, actor)
            response = self.get_response(request)
            if response.status_code >= 400:
                for alias in RUNTIME_ALIASES:
                    transaction.set_rollback(True, using=alias)
            return response

    @staticmethod
    def _session_claim(request: HttpRequest) -> Actor | None:
        # The session is a signed cookie: these values were written by us at sign-in.
        session = request.session
        tenant_id, user_id = session.get(SESSION_TENANT_KEY), session.get(SESSION_KEY)
        if not (tenant_id and user_id and session.get(SESSION_ID_KEY)):
            return None
        try:
            user, tenant = uuid.UUID(str(user_id)), uuid.UUID(str(tenant_id))
            uuid.UUID(str(session[SESSION_ID_KEY]))
        except ValueError:
            # A cookie from another version of the app: start over rather than fail.
            session.flush()
            return None
        return Actor.for_user(tenant, user)

    @staticmethod
    def _session_live(request: HttpRequest, actor: Actor) -> bool:
        return actor.user_id is not None and selectors.session_is_active(
            tenant_id=actor.tenant_id,
            session_id=request.session[SESSION_ID_KEY],
            user_id=actor.user_id,
        )

    @staticmethod
    def _verify_token(token: str, correlation_id: str) -> Actor | None:
        parsed = credentials.parse_token(token)
        # A one-statement unit of work in the tenant the token names (one round trip); the claim
        # counts only if the secret matches a live credential visible under that tenant's RLS.
        with tenant_statement(parsed.tenant_id, using="kernel", correlation_id=correlation_id):
            credential = selectors.api_credential_live(
                tenant_id=parsed.tenant_id, key_id=parsed.key_id
            )
            if credential is None or not credentials.secrets_match(
                parsed.secret, credential.secret_hash
            ):
                return None
        if credential.user_id:
            return Actor.for_user(parsed.tenant_id, credential.user_id, credential_id=credential.pk)
        assert credential.canon_id is not None  # exactly one of the two (a CHECK constraint)
        return Actor.for_cell(parsed.tenant_id, credential.canon_id, credential_id=credential.pk)


API_PREFIX = "/api/"
JSON_ONLY = "This API accepts application/json request bodies only (UTF-8)."
SERVER_ERROR = "Internal server error; quote the correlation_id when reporting it."
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_STATUS_DETAIL = {
    400: "Bad request.",
    404: "Not found.",
    405: "Method not allowed.",
    413: "The request body is too large.",
    415: JSON_ONLY,
}
logger = logging.getLogger("aibos.api")


class ApiJsonMiddleware:
    """Under ``/api/``, every answer is JSON, whatever goes wrong.

    Outermost middleware: it assigns the correlation id (the tenant middleware reuses it),
    refuses bodies that are not JSON (415) or too large (413) before anything reads them, and
    replaces any non-JSON error page (Django's 404 for a malformed id, a 500 page, debug pages)
    with ``{"detail", "correlation_id"}``: no stack trace or SQL ever reaches a client.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        correlation_id = _correlation_id(request)
        request.META[_CORRELATION_KEY] = correlation_id
        refusal = self._refuse_body(request, correlation_id)
        response = refusal or self.get_response(request)
        if response.status_code >= 400 and not _is_json(response):
            response = self._as_json(response.status_code, correlation_id, response)
        response[CORRELATION_HEADER] = correlation_id
        return response

    @staticmethod
    def _refuse_body(request: HttpRequest, correlation_id: str) -> HttpResponse | None:
        if request.method not in _BODY_METHODS:
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse(
                {"correlation_id": correlation_id, "detail": "Invalid Content-Length header."},
                status=400,
            )
        if not length and "HTTP_TRANSFER_ENCODING" not in request.META:
            return None
        content_type = request.META.get("CONTENT_TYPE", "")
        media_type = content_type.split(";")[0].strip().lower()
        charset = parsers._charset(content_type)
        if media_type != "application/json" or charset not in (None, "utf-8"):
            return JsonResponse({"correlation_id": correlation_id, "detail": JSON_ONLY}, status=415)
        limit = parsers.max_body_bytes()
        if limit and length > limit:
            return JsonResponse(
                {"correlation_id": correlation_id, "detail": parsers.TOO_LARGE.format(limit=limit)},
                status=413,
            )
        return None

    @staticmethod
    def _as_json(status: int, correlation_id: str, original: HttpResponse) -> HttpResponse:
        if status >= 500:
            logger.error("API %s answered %s (correlation_id=%s)", status, status, correlation_id)
            body = {"detail": SERVER_ERROR, "correlation_id": correlation_id}
        else:
            detail = _STATUS_DETAIL.get(status, original.reason_phrase or "Error.")
            body = {"detail": detail, "correlation_id": correlation_id}
        response = JsonResponse(body, status=status)
        if original.has_header("Allow"):
            response["Allow"] = original["Allow"]
        return response


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")
