"""Deploy-time behaviour: role creation and its clear failure when the owner may not."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from aibos.db import bootstrap

pytestmark = pytest.mark.django_db(databases="__all__")


def test_migrating_without_createrole_stops_with_the_sql_to_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The kernel runtime role cannot create roles: use it as a stand-in for a restricted owner.
    monkeypatch.setattr(
        bootstrap, "PLATFORM_ROLES", {**bootstrap.PLATFORM_ROLES, "aibos_missing_role": "UNSET_VAR"}
    )
    editor = SimpleNamespace(connection=connections["kernel"])
    with pytest.raises(CommandError) as exc:
        bootstrap.ensure_roles(None, editor)
    message = str(exc.value)
    assert "aibos_missing_role" in message
    assert (
        'CREATE ROLE "aibos_missing_role" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE '
        "NOREPLICATION PASSWORD '<password>';" in message
    )
    # Roles that exist are not in the script.
    assert '"aibos_kernel_role"' not in message


def test_ensure_roles_is_idempotent_and_narrows_widened_roles() -> None:
    with connections["default"].cursor() as cur:
        cur.execute("ALTER ROLE aibos_readonly CREATEDB")
    # What runs after every `migrate`.
    call_command("migrate", verbosity=0)
    with connections["default"].cursor() as cur:
        cur.execute("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'aibos_readonly'")
        assert cur.fetchone() == (False,)


def test_models_and_migrations_agree() -> None:
    """Governance lives on the models; a change without its migration would not be deployed."""
    from django.core.management import call_command

    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


def test_governance_report_prints_what_the_catalog_holds() -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("governance_report", stdout=out)
    text = out.getvalue()
    for title in ("Platform roles", "Tables: row-level security", "Policies", "Grants", "Triggers"):
        assert f"## {title}" in text
    kernel_role = next(
        line for line in text.splitlines() if line.split()[:1] == ["aibos_kernel_role"]
    )
    assert kernel_role.split()[1:6] == [
        "True",
        "False",
        "False",
        "False",
        "False",
    ]
    users = next(
        line for line in text.splitlines() if line.startswith("kernel.users ") and "True" in line
    )
    assert users.split()[1:4] == ["True", "True", "True"]


def test_system_checks_pass_and_catch_an_owner_connection() -> None:
    from django.conf import settings as django_settings

    from aibos.checks import check_runtime_connections

    assert check_runtime_connections(databases=["kernel", "finance", "config"]) == []
    finance = dict(django_settings.DATABASES["finance"])
    try:
        django_settings.DATABASES["finance"].update(
            USER=django_settings.DATABASES["default"]["USER"],
            OPTIONS={"assume_role": "x"},
            DISABLE_SERVER_SIDE_CURSORS=False,
        )
        ids = {e.id for e in check_runtime_connections()}
    finally:
        django_settings.DATABASES["finance"].clear()
        django_settings.DATABASES["finance"].update(finance)
    assert ids == {"aibos.E002", "aibos.E003", "aibos.E004", "aibos.E005"}
