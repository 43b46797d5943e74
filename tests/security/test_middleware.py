"""The request path: principal resolution, tenant context per request, nothing left behind."""

from __future__ import annotations

import pytest
from django.db import connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from aibos.tenancy import tenant_context
from kernel import services
from kernel.models import Role, Tenant, User
from tests.factories import CanonFactory, system
from tests.security.helpers import scalar

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@pytest.fixture
def cell_token(committed: None, tenant_a: Tenant) -> str:
    canon = CanonFactory(tenant=tenant_a)
    _, token = services.api_credential_issue(actor=system(tenant_a), name="t", canon=canon)
    return token


def test_request_leaves_no_tenant_variable_on_any_connection(
    cell_token: str, client: Client
) -> None:
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cell_token}")
    assert response.status_code == 200
    for alias in ("kernel", "finance", "config"):
        conn = connections[alias]
        assert conn.connection is not None, f"{alias} was not used by the request"
        assert not conn.in_atomic_block
        # Same server connection the request used (persistent): the variables are gone.
        for guc in ("app.tenant_id", "app.user_id", "app.actor", "app.correlation_id"):
            assert scalar(alias, f"SELECT current_setting('{guc}', true)") in ("", None), (
                alias,
                guc,
            )


def test_requests_never_touch_the_owner_connection(cell_token: str, client: Client) -> None:
    with CaptureQueriesContext(connections["default"]) as owner_queries:
        assert (
            client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cell_token}").status_code == 200
        )
    assert len(owner_queries) == 0


@pytest.mark.urls("tests.security.urls_rollback")
def test_an_error_response_rolls_back_what_the_view_wrote(
    cell_token: str, client: Client, tenant_a: Tenant
) -> None:
    auth = {"HTTP_AUTHORIZATION": f"Bearer {cell_token}"}
    assert client.post("/reject/", **auth).status_code == 400
    assert client.post("/accept/", **auth).status_code == 201
    with tenant_context(tenant_a.id):
        assert set(Role.objects.values_list("name", flat=True)) == {"fully-written"}


def test_correlation_id_is_echoed_and_recorded(cell_token: str, client: Client) -> None:
    response = client.get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cell_token}", HTTP_X_CORRELATION_ID="trace-42"
    )
    assert response["X-Correlation-ID"] == "trace-42"
    assert response.json()["correlation_id"] == "trace-42"
    bad = client.get(
        "/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {cell_token}", HTTP_X_CORRELATION_ID="x" * 500
    )
    assert bad["X-Correlation-ID"] != "x" * 500


def test_anonymous_request_runs_without_tenant(
    committed: None, client: Client, alice: User
) -> None:
    assert client.get("/healthz").status_code == 200
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


def test_a_session_cookie_from_another_app_version_starts_over(
    committed: None, client: Client
) -> None:
    from django.contrib.auth import SESSION_KEY

    from kernel.signals import SESSION_ID_KEY, SESSION_TENANT_KEY

    session = client.session
    session.update({SESSION_TENANT_KEY: "not-a-uuid", SESSION_KEY: "1", SESSION_ID_KEY: "x"})
    session.save()
    client.cookies["sessionid"] = session.session_key
    assert client.get("/admin/").status_code == 302  # to the sign-in page, not a 500
