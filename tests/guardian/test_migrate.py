"""`manage.py migrate` runs the guardian on its plan first and obeys the levels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import override_settings

PROBES = [
    "tests.guardian.probe_apps.blocked",
    "tests.guardian.probe_apps.warned",
    "tests.guardian.probe_apps.unrenderable",
]


@pytest.fixture
def probe_apps(transactional_db: None, settings) -> Iterator[None]:  # type: ignore[no-untyped-def]
    with override_settings(INSTALLED_APPS=[*settings.INSTALLED_APPS, *PROBES]):
        try:
            yield
        finally:
            for label in (
                "guardian_probe_blocked",
                "guardian_probe_warned",
                "guardian_probe_unrenderable",
            ):
                call_command("migrate", label, "zero", verbosity=0)


def _exists(table: str) -> bool:
    with connections["default"].cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return bool(cur.fetchone()[0])


def _applied(app: str) -> list[str]:
    with connections["default"].cursor() as cur:
        cur.execute("SELECT name FROM django_migrations WHERE app = %s", [app])
        return [r[0] for r in cur.fetchall()]


def test_a_migration_without_tenant_id_is_blocked_shown_and_not_applied(probe_apps: None) -> None:
    out = StringIO()
    with pytest.raises(CommandError, match="Schema Guardian stopped the migration: 1 finding"):
        call_command("migrate", "guardian_probe_blocked", stdout=out)
    report = out.getvalue()
    assert "STOP block  tenant-id-missing" in report
    assert (
        "guardian_probe_blocked.0001_invoices_without_tenant operation 1 (Create model ProbeInvoice)"
        in report
    )
    assert (
        "tests/guardian/probe_apps/blocked/migrations/0001_invoices_without_tenant.py:9" in report
    )
    assert not _exists("finance.guardian_probe_invoices")
    assert _applied("guardian_probe_blocked") == []


def test_a_warning_stops_migrate_until_acknowledged_by_its_id(probe_apps: None) -> None:
    out = StringIO()
    with pytest.raises(CommandError, match="stopped the migration"):
        call_command("migrate", "guardian_probe_warned", stdout=out)
    assert "STOP warn   timestamp-without-time-zone" in out.getvalue()
    assert not _exists("finance.guardian_probe_notes")
    ack = next(
        line.split("--guardian-ack ", 1)[1].split()
        for line in out.getvalue().splitlines()
        if line.startswith("Acknowledge the warnings")
    )
    assert ack and all(a.startswith("timestamp-without-time-zone:") for a in ack)

    call_command("migrate", "guardian_probe_warned", guardian_ack=ack, stdout=StringIO())
    assert _exists("finance.guardian_probe_notes")
    assert _applied("guardian_probe_warned") == ["0001_notes_with_naive_timestamp"]


def test_shadow_level_records_and_lets_the_migration_run(probe_apps: None, tmp_path) -> None:  # type: ignore[no-untyped-def]
    config = tmp_path / "guardian.toml"
    config.write_text('[levels.default]\n"timestamp-without-time-zone" = "shadow"\n')
    out = StringIO()
    with override_settings(GUARDIAN_CONFIG=config):
        call_command("migrate", "guardian_probe_warned", stdout=out, verbosity=2)
    assert "shadow timestamp-without-time-zone" in out.getvalue()
    assert _exists("finance.guardian_probe_notes")


def test_an_operation_django_cannot_render_does_not_hide_the_rest_of_the_migration(
    probe_apps: None,
) -> None:
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command("guardian", format="json", stdout=out)
    found = [
        f
        for f in json.loads(out.getvalue())["findings"]
        if (f["location"]["migration"] or "").startswith("guardian_probe_unrenderable.0002")
    ]
    by_rule = {f["rule"]: f for f in found}
    # AlterUniqueTogether needs the constraint's name from a database where 0001 has run: it
    # cannot be rendered before, and is harmless on a table this plan creates -> info.
    assert by_rule["render-error"]["level"] == "info"
    assert by_rule["render-error"]["level_reason"] == "table created in this plan"
    # The operation after it is still rendered and judged.
    assert by_rule["tenant-id-missing"]["object"] == "finance.guardian_probe_untenanted"
    assert by_rule["tenant-id-missing"]["stops"] is True
