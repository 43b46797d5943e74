"""`governance_report`: a readable catalog, a verdict per check, exit 1 when one fails."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from aibos.db.governance_checks import CHECKS
from aibos.management.commands import governance_report
from assurance.governance_views import read_governance_summary

pytestmark = pytest.mark.django_db(databases="__all__")


def _report(*args: str) -> str:
    out = StringIO()
    call_command("governance_report", *args, stdout=out, no_color=True)
    return out.getvalue()


def test_every_check_passes_on_the_deployed_schema_with_a_verdict_each() -> None:
    out = _report()
    for section in ("Platform roles", "Tables: row-level security", "Policies", "Grants", "Checks"):
        assert f"## {section}" in out
    for name, _, _ in CHECKS:
        assert f"PASS  {name} " in out
    assert "FAIL" not in out
    assert f"All {len(CHECKS)} governance checks passed." in out
    # The governance views, read as the monitor: one verdict per check of the summary view.
    assert "## Governance views (as aibos_monitor_role)" in out
    for name in (
        "tenant_isolation",
        "schema_boundary_grant",
        "immutability_trigger",
        "double_entry",
    ):
        assert f"PASS  {name} " in out
    too_long = [line for line in out.splitlines() if len(line) > 100]
    assert too_long == []


def _views_in_this_transaction(alias: str = "monitor") -> list[dict[str, Any]]:
    """The summary view with the monitor's privileges, read on the owner's connection: the
    monitor's own connection would wait for the uncommitted ALTER TABLE's lock."""
    with connections["default"].cursor() as cur:
        cur.execute("SET ROLE aibos_monitor_role")
        try:
            return read_governance_summary("default")
        finally:
            cur.execute("RESET ROLE")


def test_a_failing_check_is_reported_and_exits_non_zero(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(governance_report, "read_governance_summary", _views_in_this_transaction)
    # As the owner, inside the test's transaction (rolled back at the end; restored below too).
    with connections["default"].cursor() as cur:
        cur.execute('ALTER TABLE "finance"."companies" NO FORCE ROW LEVEL SECURITY')
        cur.execute('ALTER TABLE "kernel"."roles" DISABLE ROW LEVEL SECURITY')
    out = StringIO()
    try:
        with pytest.raises(
            CommandError,
            match=r"1 of \d+ governance checks failed: rls; governance views failed: tenant_isolation",
        ) as exc:
            call_command("governance_report", "--checks-only", stdout=out, no_color=True)
    finally:
        with connections["default"].cursor() as cur:
            cur.execute('ALTER TABLE "finance"."companies" FORCE ROW LEVEL SECURITY')
            cur.execute('ALTER TABLE "kernel"."roles" ENABLE ROW LEVEL SECURITY')
    assert exc.value.returncode == 1
    text = out.getvalue()
    assert "FAIL  rls " in text
    assert "finance.companies: RLS not forced" in text
    assert "FAIL  tenant_isolation " in text
    assert "- finance.companies: RLS not forced" in text
    assert "- kernel.roles: RLS not enabled" in text
    assert "kernel.roles: RLS not enabled" in text
    assert "PASS  roles " in text and "## Platform roles" not in text
    _report("--checks-only")  # restored: passes again
