"""Ties Django's login/logout to kernel.sessions rows inside the user's tenant context."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import user_logged_in, user_logged_out
from django.http import HttpRequest

from kernel import services
from kernel.models import User

SESSION_TENANT_KEY = "aibos.tenant_id"
SESSION_ID_KEY = "aibos.session_id"


def _on_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    session = services.session_open(
        user=user,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.headers.get("User-Agent", ""),
        lifetime_seconds=settings.SESSION_COOKIE_AGE,
    )
    request.session[SESSION_TENANT_KEY] = str(user.tenant_id)
    request.session[SESSION_ID_KEY] = str(session.pk)


def _on_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    tenant_id = request.session.get(SESSION_TENANT_KEY)
    session_id = request.session.get(SESSION_ID_KEY)
    if tenant_id and session_id:
        services.session_revoke(tenant_id=tenant_id, session_id=session_id)


def connect() -> None:
    # Django's own last-login receiver saves the user outside any tenant context, which RLS
    # (rightly) turns into "no row updated"; session_open records last_login instead.
    user_logged_in.disconnect(dispatch_uid="update_last_login")
    user_logged_in.connect(_on_login, dispatch_uid="aibos_session_open")
    user_logged_out.connect(_on_logout, dispatch_uid="aibos_session_revoke")
