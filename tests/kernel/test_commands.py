"""Management commands name their tenant; bad input is a clear CommandError that writes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from aibos.tenancy import tenant_context
from kernel.models import ApiCredential, Tenant, User
from tests.factories import CanonFactory

pytestmark = pytest.mark.django_db(databases="__all__")


def _run(*args: str, **env: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_tenant_is_required() -> None:
    with pytest.raises(CommandError, match="--tenant"):
        call_command("user_create", "--email", "x@example.test")


def test_unknown_tenant_is_refused() -> None:
    with pytest.raises(CommandError, match="No active tenant with slug 'nope'"):
        call_command("user_create", "--tenant", "nope", "--email", "x@example.test")


def test_tenant_and_user_creation(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Created tenant acme-2" in _run("tenant_create", "--slug", "ACME-2", "--name", "Acme 2")
    with pytest.raises(CommandError, match="already exists"):
        call_command("tenant_create", "--slug", "acme-2", "--name", "Again")
    monkeypatch.setenv("AIBOS_NEW_USER_PASSWORD", "short")
    with pytest.raises(CommandError, match="too short"):
        call_command("user_create", "--tenant", "acme-2", "--email", "dana@acme.test")
    monkeypatch.setenv("AIBOS_NEW_USER_PASSWORD", "a-perfectly-fine-passphrase")
    assert "Created dana@acme.test" in _run(
        "user_create", "--tenant", "acme-2", "--email", "dana@acme.test", "--superuser"
    )
    with pytest.raises(CommandError, match="already exists in this tenant"):
        call_command("user_create", "--tenant", "acme-2", "--email", "DANA@acme.test")
    tenant = Tenant.objects.get(slug="acme-2")
    with tenant_context(tenant.id):
        user = User.objects.get()
    assert (user.email, user.is_superuser, user.is_staff) == ("dana@acme.test", True, True)


@pytest.mark.django_db(databases="__all__", transaction=True)
def test_issue_and_revoke_an_api_credential(
    committed: None, tenant_a: Tenant, client: Client
) -> None:
    CanonFactory(tenant=tenant_a, name="ledger-cell")
    out = _run(
        "api_credential_issue", "--tenant", tenant_a.slug, "--canon", "ledger-cell", "--name", "k"
    )
    token = out.split("token (shown once, store it now): ")[1].strip()
    key_id = out.split("key id: ")[1].split()[0]
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    _run("api_credential_revoke", "--tenant", tenant_a.slug, "--key-id", key_id)
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_issue_refuses_unknown_principal(tenant_a: Tenant) -> None:
    with pytest.raises(CommandError, match="No Cell named 'ghost'"):
        call_command(
            "api_credential_issue", "--tenant", tenant_a.slug, "--canon", "ghost", "--name", "k"
        )
    with tenant_context(tenant_a.id):
        assert ApiCredential.objects.count() == 0
