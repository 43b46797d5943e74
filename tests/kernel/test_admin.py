"""Admin history and delete pages: history comes from kernel.audit_events (the admin neither
writes nor reads django_admin_log, a table without tenant_id); deleting works where rows may
go, and is refused with the reason where they are final."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.db import connections
from django.test import Client

from aibos.tenancy import tenant_context
from kernel import services
from kernel.models import Role, Tenant, User
from tests.factories import RoleFactory, system
from tests.finance.test_admin import sign_in

pytestmark = pytest.mark.django_db(databases="__all__")


def test_history_pages_show_the_rows_audit_events(
    committed: None, client: Client, books: SimpleNamespace, alice: User, tenant_a: Tenant
) -> None:
    role = RoleFactory(tenant=tenant_a, name="ops.viewer")
    sign_in(client, "tenant-a", "alice@a.test")
    changed = client.post(
        f"/admin/kernel/role/{role.pk}/change/",
        {"name": "ops.viewer", "description": "Sees operations", "version": role.version},
    )
    assert changed.status_code == 302, changed.content

    history = client.get(f"/admin/kernel/role/{role.pk}/history/")
    assert history.status_code == 200
    page = history.content.decode()
    assert "INSERT" in page and "UPDATE" in page
    assert "description: &#x27;&#x27; \u2192 &#x27;Sees operations&#x27;" in page
    assert f"user:{alice.pk}" in page  # the admin change is attributed to the signed-in user

    company = books.us.company
    history = client.get(f"/admin/finance/company/{company.pk}/history/")
    assert history.status_code == 200 and b"INSERT" in history.content
    assert client.get(f"/admin/kernel/user/{alice.pk}/history/").status_code == 200
    with connections["default"].cursor() as cur:  # the owner: the runtime roles cannot read it
        cur.execute("SELECT count(*) FROM django_admin_log")
        assert cur.fetchone() == (0,)


def test_another_tenants_history_is_not_shown(
    committed: None, client: Client, tenant_a: Tenant, charlie: User
) -> None:
    role = RoleFactory(tenant=tenant_a)
    sign_in(client, "tenant-b", "charlie@b.test")
    response = client.get(f"/admin/kernel/role/{role.pk}/history/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/"


def test_deleting_a_kernel_object_through_the_admin(
    committed: None, client: Client, alice: User, bob: User, tenant_a: Tenant
) -> None:
    role = RoleFactory(tenant=tenant_a)
    services.user_assign_role(actor=system(tenant_a), user=bob, role=role)
    sign_in(client, "tenant-a", "alice@a.test")
    confirm = client.get(f"/admin/kernel/role/{role.pk}/delete/")
    assert confirm.status_code == 200 and b"Are you sure" in confirm.content
    done = client.post(f"/admin/kernel/role/{role.pk}/delete/", {"post": "yes"})
    assert done.status_code == 302, done.content
    with tenant_context(tenant_a.id):
        assert not Role.objects.filter(pk=role.pk).exists()
    # The deletion is in the audit log, attributed to alice.
    history = client.get("/admin/kernel/auditevent/?q=" + str(role.pk))
    assert history.status_code == 200 and b"DELETE" in history.content


def test_final_rows_explain_why_they_cannot_be_deleted(
    committed: None, client: Client, books: SimpleNamespace, alice: User
) -> None:
    sign_in(client, "tenant-a", "alice@a.test")
    company = books.us.company
    for url, reason in (
        (f"/admin/finance/company/{company.pk}/delete/", b"A company is never deleted"),
        (f"/admin/finance/account/{books.us.accounts['1000'].pk}/delete/", b"An account is never"),
        (f"/admin/kernel/user/{alice.pk}/delete/", b"A user is never deleted"),
        (f"/admin/kernel/tenant/{alice.tenant_id}/delete/", b"These rows are final"),
    ):
        page = client.get(url)
        assert page.status_code == 200, url
        assert reason in page.content, url
        refused = client.post(url, {"post": "yes"})
        assert refused.status_code == 403 and reason in refused.content, url
    with tenant_context(alice.tenant_id):
        assert User.objects.filter(pk=alice.pk).exists()


def test_a_delete_the_database_refuses_shows_its_reason(
    committed: None, client: Client, alice: User, tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kernel.admin import RoleAdmin

    def refused_delete(self: RoleAdmin, request: object, obj: Role) -> None:
        # Stands in for a final row: the runtime role may not delete audit events.
        with connections["kernel"].cursor() as cur:
            cur.execute("DELETE FROM kernel.audit_events")

    monkeypatch.setattr(RoleAdmin, "delete_model", refused_delete)
    role = RoleFactory(tenant=tenant_a)
    sign_in(client, "tenant-a", "alice@a.test")
    response = client.post(f"/admin/kernel/role/{role.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert b"Cannot delete" in response.content
    assert b"permission denied for table audit_events" in response.content
    with tenant_context(tenant_a.id):
        assert Role.objects.filter(pk=role.pk).exists()
