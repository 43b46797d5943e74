"""DRF side of API credentials: the middleware has already verified them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request

from aibos.actors import request_actor
from kernel import selectors


@dataclass(frozen=True)
class CellPrincipal:
    """A Cell calling with its own credential (no user behind it)."""

    tenant_id: uuid.UUID
    canon_id: uuid.UUID
    is_authenticated: bool = True
    is_active: bool = True
    is_staff: bool = False
    is_superuser: bool = False
    pk: None = None

    def __str__(self) -> str:
        return f"cell:{self.canon_id}"


class ApiCredentialAuthentication(BaseAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        actor = request_actor(request)
        if actor is None or actor.credential_id is None:
            return None
        if actor.user_id is not None:
            user = selectors.user_get(tenant_id=actor.tenant_id, user_id=actor.user_id)
            return (user, actor) if user is not None else None
        assert actor.canon_id is not None  # a credential belongs to a user or a Cell
        return CellPrincipal(tenant_id=actor.tenant_id, canon_id=actor.canon_id), actor

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class ApiCredentialScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes API credentials."""

    target_class = "kernel.apis.authentication.ApiCredentialAuthentication"
    name = "apiCredential"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "aibos_<tenant>_<key>_<secret>",
            "description": "Issued with `manage.py api_credential_issue`; bound to one tenant.",
        }
