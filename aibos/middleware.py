"""Resolves who is calling and runs the request inside that tenant's context.

Principals come from exactly two places, and the tenant always comes from the credential:
- a signed session cookie (set at sign-in) holding the tenant, the user and a kernel.sessions
  row id, checked for revocation and expiry on every request;
- ``Authorization: Bearer aibos_...``, an API credential verified under RLS in its tenant.

The middleware owns the transaction it sets the tenant in (``tenant_context``); a response with
status >= 400 rolls back every alias, so a rejected request writes nothing.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse

from aibos.db.roles import RUNTIME_ALIASES
from aibos.tenancy import tenant_context
from kernel import credentials, selectors
from kernel.signals import SESSION_ID_KEY, SESSION_TENANT_KEY

INVALID_CREDENTIAL = "Invalid, expired or revoked API credential."
CORRELATION_HEADER = "X-Correlation-ID"
_CORRELATION_OK = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class Principal:
    tenant_id: uuid.UUID
    user_id: uuid.UUID | None
    actor: str
    credential_id: uuid.UUID | None = None
    canon_id: uuid.UUID | None = None


def _correlation_id(request: HttpRequest) -> str:
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
        request.principal = None  # type: ignore[attr-defined]
        auth_header = request.headers.get("Authorization", "")
        if auth_header.startswith("Bearer "):
            try:
                principal = self._verify_token(
                    auth_header[len("Bearer ") :].strip(), correlation_id
                )
            except credentials.MalformedToken as exc:
                return _unauthorized(str(exc))
            if principal is None:
                return _unauthorized(INVALID_CREDENTIAL)
        else:
            principal = self._session_claim(request)

        if principal is None:
            response = self.get_response(request)
        else:
            response = self._run_as(principal, request, correlation_id)
        response[CORRELATION_HEADER] = correlation_id
        return response

    def _run_as(
        self, principal: Principal, request: HttpRequest, correlation_id: str
    ) -> HttpResponse:
        with tenant_context(
            principal.tenant_id,
            user_id=principal.user_id,
            actor=principal.actor,
            correlation_id=correlation_id,
        ):
            if principal.credential_id is None and not self._session_live(request, principal):
                # Revoked or expired: forget the cookie and let the next request start anonymous.
                request.session.flush()
                return HttpResponseRedirect(request.get_full_path())
            request.principal = principal  # type: ignore[attr-defined]
            response = self.get_response(request)
            if response.status_code >= 400:
                for alias in RUNTIME_ALIASES:
                    transaction.set_rollback(True, using=alias)
            return response

    @staticmethod
    def _session_claim(request: HttpRequest) -> Principal | None:
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
        return Principal(tenant_id=tenant, user_id=user, actor=f"user:{user}")

    @staticmethod
    def _session_live(request: HttpRequest, principal: Principal) -> bool:
        return selectors.session_is_active(
            tenant_id=principal.tenant_id,
            session_id=request.session[SESSION_ID_KEY],
            user_id=principal.user_id,  # type: ignore[arg-type]
        )

    @staticmethod
    def _verify_token(token: str, correlation_id: str) -> Principal | None:
        parsed = credentials.parse_token(token)
        # A short unit of work in the tenant the token names; the claim counts only if the
        # secret matches a live credential visible under that tenant's RLS scope.
        with tenant_context(parsed.tenant_id, using=["kernel"], correlation_id=correlation_id):
            credential = selectors.api_credential_live(
                tenant_id=parsed.tenant_id, key_id=parsed.key_id
            )
            if credential is None or not credentials.secrets_match(
                parsed.secret, credential.secret_hash
            ):
                return None
        if credential.user_id:
            actor = f"user:{credential.user_id}"
        else:
            actor = f"cell:{credential.canon_id}"
        return Principal(
            tenant_id=parsed.tenant_id,
            user_id=credential.user_id,
            actor=actor,
            credential_id=credential.pk,
            canon_id=credential.canon_id,
        )
