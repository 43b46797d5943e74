"""Sign-in and API credentials work with RLS on, and the tenant only ever comes from them."""

from __future__ import annotations

import pytest
from django.test import Client

from aibos.tenancy import tenant_context
from kernel import credentials, services
from kernel.models import Event, Session, Tenant, User
from tests.factories import PASSWORD, CanonFactory, UserFactory, as_user, system

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


def _login(client: Client, tenant: str, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post(
        "/admin/login/?next=/admin/",
        {"tenant": tenant, "username": email, "password": password},
    )


def test_admin_sign_in_names_the_tenant_and_lists_only_its_users(
    committed: None, client: Client, alice: User, bob: User, charlie: User
) -> None:
    page = client.get("/admin/login/")
    assert b'name="tenant"' in page.content
    response = _login(client, "tenant-a", "ALICE@a.test")
    assert response.status_code == 302, response.content[:500]
    users_page = client.get("/admin/kernel/user/")
    assert users_page.status_code == 200
    assert b"alice@a.test" in users_page.content and b"bob@a.test" in users_page.content
    assert b"charlie@b.test" not in users_page.content
    # Another tenant's row by id: the same 404-ish redirect as a missing one.
    other = client.get(f"/admin/kernel/user/{charlie.pk}/change/")
    assert other.status_code == 302 and other.url == "/admin/"
    with tenant_context(alice.tenant_id):
        assert Session.objects.filter(user=alice, revoked_at__isnull=True).count() == 1
        assert Event.objects.filter(type="auth.login.succeeded").count() == 1
        assert User.objects.get(pk=alice.pk).last_login is not None


@pytest.mark.parametrize(
    ("tenant", "email", "password"),
    [
        ("tenant-b", "alice@a.test", PASSWORD),  # right user, wrong tenant
        ("tenant-a", "alice@a.test", "wrong-password"),
        ("tenant-a", "nobody@a.test", PASSWORD),
        ("no-such-tenant", "alice@a.test", PASSWORD),
    ],
)
def test_failed_sign_in_is_refused_and_recorded(
    committed: None,
    client: Client,
    alice: User,
    charlie: User,
    tenant: str,
    email: str,
    password: str,
) -> None:
    response = _login(client, tenant, email, password)
    assert response.status_code == 200
    assert b"correct tenant, email and password" in response.content
    assert client.get("/admin/").status_code == 302
    if tenant == "tenant-a":
        with tenant_context(alice.tenant_id):
            assert Event.objects.filter(type="auth.login.failed").count() == 1


def test_revoked_session_signs_the_user_out(committed: None, client: Client, alice: User) -> None:
    assert _login(client, "tenant-a", "alice@a.test").status_code == 302
    assert client.get("/admin/").status_code == 200
    with tenant_context(alice.tenant_id):
        session = Session.objects.get(user=alice)
    services.session_revoke(tenant_id=alice.tenant_id, session_id=session.pk)
    assert client.get("/admin/").status_code == 302
    assert client.get("/admin/", follow=True).redirect_chain[-1][0].startswith("/admin/login/")


def test_logout_revokes_the_session_row(committed: None, client: Client, alice: User) -> None:
    assert _login(client, "tenant-a", "alice@a.test").status_code == 302
    assert client.post("/admin/logout/").status_code == 200
    with tenant_context(alice.tenant_id):
        assert Session.objects.get(user=alice).revoked_at is not None


@pytest.fixture
def issued(committed: None, tenant_a: Tenant, tenant_b: Tenant):  # type: ignore[no-untyped-def]
    canon = CanonFactory(tenant=tenant_a)
    credential, token = services.api_credential_issue(actor=system(tenant_a), name="t", canon=canon)
    return credential, token


def test_api_credential_identifies_tenant_and_cell(
    client: Client, issued, tenant_a: Tenant
) -> None:  # type: ignore[no-untyped-def]
    credential, token = issued
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    body = response.json()
    assert body["tenant_id"] == str(tenant_a.id)
    assert body["actor"] == f"cell:{credential.canon_id}"


def test_api_credential_secret_is_stored_hashed(issued, tenant_a: Tenant) -> None:  # type: ignore[no-untyped-def]
    credential, token = issued
    secret = credentials.parse_token(token).secret
    assert secret not in credential.secret_hash
    assert credential.secret_hash == credentials.hash_secret(secret)


def test_token_edited_to_name_another_tenant_is_refused(
    client: Client, issued, tenant_b: Tenant
) -> None:  # type: ignore[no-untyped-def]
    _, token = issued
    parsed = credentials.parse_token(token)
    forged = credentials.format_token(tenant_b.id, parsed.key_id, parsed.secret)
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {forged}")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid, expired or revoked API credential."


@pytest.mark.parametrize("header", ["Bearer nonsense", "Bearer aibos_zz_k_s", "Bearer "])
def test_malformed_token_is_a_clear_401(committed: None, client: Client, header: str) -> None:
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert "Malformed API credential" in response.json()["detail"]


def test_wrong_secret_and_revoked_credentials_are_refused(
    client: Client, issued, tenant_a: Tenant
) -> None:  # type: ignore[no-untyped-def]
    credential, token = issued
    wrong = token[:-4] + "AAAA"
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {wrong}").status_code == 401
    services.api_credential_revoke(actor=system(tenant_a), credential=credential)
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_user_credential_acts_as_the_user(
    committed: None, client: Client, tenant_a: Tenant, alice: User
) -> None:
    _, token = services.api_credential_issue(actor=as_user(alice), name="mine", user=alice)
    body = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    assert body["actor"] == f"user:{alice.pk}"


def test_every_admin_page_renders_for_a_tenant_admin(
    committed: None, client: Client, alice: User
) -> None:
    from django.contrib import admin

    assert _login(client, "tenant-a", "alice@a.test").status_code == 302
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        url = f"/admin/{opts.app_label}/{opts.model_name}/"
        assert client.get(url).status_code == 200, url
        if model_admin.has_add_permission(client.get(url).wsgi_request):
            assert client.get(url + "add/").status_code == 200, url + "add/"
    assert client.get("/admin/").status_code == 200


def test_admin_writes_happen_inside_the_tenant_and_are_audited(
    committed: None, client: Client, alice: User
) -> None:
    from kernel.models import AuditEvent, Role

    assert _login(client, "tenant-a", "alice@a.test").status_code == 302
    response = client.post("/admin/kernel/role/add/", {"name": "ops.viewer", "description": "d"})
    assert response.status_code == 302, response.content[:1000]
    with tenant_context(alice.tenant_id):
        role = Role.objects.get(name="ops.viewer")
        event = AuditEvent.objects.get(table_name="roles", row_id=str(role.pk), operation="INSERT")
    assert role.tenant_id == alice.tenant_id
    assert event.actor == f"user:{alice.pk}"


def test_staff_without_a_role_permission_is_refused_by_the_admin(
    committed: None, client: Client, tenant_a: Tenant, alice: User
) -> None:
    from tests.factories import RoleFactory

    clerk = UserFactory(tenant=tenant_a, email="clerk@a.test")
    role = RoleFactory(tenant=tenant_a, name="finance.viewer", permissions=["finance.view_company"])
    services.user_assign_role(actor=as_user(alice), user=clerk, role=role)
    assert _login(client, "tenant-a", "clerk@a.test").status_code == 302
    assert client.get("/admin/finance/company/").status_code == 200
    assert client.get("/admin/finance/company/add/").status_code == 403
    assert client.get("/admin/kernel/user/").status_code == 403


def test_credentials_of_a_deactivated_cell_or_user_stop_working(
    committed: None, client: Client, tenant_a: Tenant, alice: User
) -> None:
    from django.utils import timezone

    from kernel.models import Canon

    canon = CanonFactory(tenant=tenant_a)
    _, cell_token = services.api_credential_issue(actor=system(tenant_a), name="c", canon=canon)
    _, user_token = services.api_credential_issue(actor=system(tenant_a), name="u", user=alice)
    for token in (cell_token, user_token):
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    with tenant_context(tenant_a.id):
        Canon.objects.filter(pk=canon.pk).update(deleted_at=timezone.now())
        User.objects.filter(pk=alice.pk).update(is_active=False)
    for token in (cell_token, user_token):
        assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
