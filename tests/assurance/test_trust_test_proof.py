"""Proof that the proof works: each protection in turn is removed for real (committed as the
owner, so the runtime roles' connections see it), the Trust Test turns red — for the attacks
that protection stops, or, where another layer still stops every attack, for the governance
check that reads it from the catalog — and green again once it is put back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from aibos.db.governance import TENANT_PREDICATE
from assurance.trust.dataset import dataset_seed

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)


@dataclass(frozen=True)
class Protection:
    name: str
    remove: str
    restore: str
    attacks: frozenset[str] = frozenset()  # attacks that must turn red without it
    checks: frozenset[str] = frozenset()  # governance checks that must turn red without it


def _p(name: str, remove: str, restore: str, attacks: set[str], checks: set[str]) -> Protection:
    assert attacks or checks, name
    return Protection(name, remove, restore, frozenset(attacks), frozenset(checks))


JE = "finance.journal_entries"
PROTECTIONS = [
    _p(
        "rls_on_journal_entries",
        f"ALTER TABLE {JE} DISABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {JE} ENABLE ROW LEVEL SECURITY",
        {"tenancy.read_other_tenant_journal_sql", "tenancy.read_without_tenant_context"},
        {"catalog.rls"},
    ),
    # No attack can see this one: the runtime roles own no table, so RLS binds them with or
    # without FORCE; FORCE binds the owner (and the SECURITY DEFINER guards it owns). The
    # catalog check is what turns red.
    _p(
        "force_rls_on_journal_entries",
        f"ALTER TABLE {JE} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {JE} FORCE ROW LEVEL SECURITY",
        set(),
        {"catalog.rls"},
    ),
    _p(
        "tenant_policy_on_companies",
        "ALTER POLICY tenant_isolation ON finance.companies USING (true) WITH CHECK (true)",
        "ALTER POLICY tenant_isolation ON finance.companies "
        f"USING ({TENANT_PREDICATE}) WITH CHECK ({TENANT_PREDICATE})",
        {"tenancy.update_other_tenant_sql", "tenancy.insert_for_other_tenant_sql"},
        {"catalog.policies"},
    ),
    _p(
        "config_is_read_only",
        "GRANT INSERT, UPDATE, DELETE ON config.settings "
        "TO aibos_config_role, aibos_kernel_role, aibos_finance_role",
        "REVOKE INSERT, UPDATE, DELETE ON config.settings "
        "FROM aibos_config_role, aibos_kernel_role, aibos_finance_role",
        {"config.insert_setting", "config.update_setting", "config.delete_setting"},
        {"catalog.grants"},
    ),
    _p(
        "schema_boundary_grant",
        "GRANT USAGE ON SCHEMA finance TO aibos_kernel_role; "
        "GRANT SELECT ON finance.companies TO aibos_kernel_role",
        "REVOKE SELECT ON finance.companies FROM aibos_kernel_role; "
        "REVOKE USAGE ON SCHEMA finance FROM aibos_kernel_role",
        {"schema.kernel_role_reads_finance"},
        {"catalog.grants"},
    ),
    _p(
        "no_update_on_journal_lines",
        "GRANT UPDATE ON finance.journal_lines TO aibos_finance_role",
        "REVOKE UPDATE ON finance.journal_lines FROM aibos_finance_role",
        {"ledger.edit_posted_line"},  # the line guard still refuses: "unexpected outcome"
        set(),
    ),
    _p(
        "balance_trigger",
        f"ALTER TABLE {JE} DISABLE TRIGGER guard_finance_journalentry_check_insert, "
        "DISABLE TRIGGER guard_finance_journalentry_check_update",
        f"ALTER TABLE {JE} ENABLE TRIGGER guard_finance_journalentry_check_insert, "
        "ENABLE TRIGGER guard_finance_journalentry_check_update",
        {
            "ledger.post_unbalanced_journal",
            "ledger.post_unbalanced_draft",
            "api.post_unbalanced_journal",
        },
        {"catalog.triggers"},
    ),
    _p(
        "immutability_trigger",
        f"ALTER TABLE {JE} DISABLE TRIGGER guard_finance_journalentry_guard",
        f"ALTER TABLE {JE} ENABLE TRIGGER guard_finance_journalentry_guard",
        {
            "ledger.modify_posted_journal",
            "ledger.delete_posted_journal",
            "bypass.pgtrigger_ignore",
        },
        {"catalog.triggers"},
    ),
    _p(
        "audit_log_privileges",
        "GRANT UPDATE, DELETE ON kernel.audit_events TO aibos_kernel_role",
        "REVOKE UPDATE, DELETE ON kernel.audit_events FROM aibos_kernel_role",
        # The append-only trigger still refuses, with 42501 too: told apart by its message.
        {"audit.update_event", "audit.delete_events"},
        set(),
    ),
    # The runtime role is still refused by privileges: the trigger is for the owner.
    _p(
        "audit_log_append_only_trigger",
        "ALTER TABLE kernel.audit_events DISABLE TRIGGER kernel_auditevent_append_only",
        "ALTER TABLE kernel.audit_events ENABLE TRIGGER kernel_auditevent_append_only",
        set(),
        {"catalog.triggers"},
    ),
    _p(
        "maker_checker_constraint",
        "ALTER TABLE finance.payment_approvals "
        "DROP CONSTRAINT finance_paymentapproval_not_requester",
        "ALTER TABLE finance.payment_approvals ADD CONSTRAINT "
        "finance_paymentapproval_not_requester CHECK (NOT (approver::text = requester::text))",
        {"payments.self_approval_sql"},
        set(),
    ),
    _p(
        "quorum_guard",
        "ALTER TABLE finance.payments DISABLE TRIGGER guard_finance_payment_guard",
        "ALTER TABLE finance.payments ENABLE TRIGGER guard_finance_payment_guard",
        {"payments.approve_without_quorum_sql", "payments.approve_under_quorum_sql"},
        {"catalog.triggers"},
    ),
]


def _trust_test(tmp_path: Path) -> tuple[bool, dict[str, Any]]:
    out = tmp_path / "results.json"
    ok = True
    with open(tmp_path / "stdout.txt", "w") as stdout:
        try:
            call_command("trust_test", json=out, junit=tmp_path / "junit.xml", stdout=stdout)
        except CommandError:
            ok = False
    return ok, json.loads(out.read_text())


def _owner(statement: str) -> None:
    with connections["default"].cursor() as cur:
        cur.execute(statement)


@pytest.mark.parametrize("protection", PROTECTIONS, ids=lambda p: p.name)
def test_removing_a_protection_turns_the_trust_test_red_and_restoring_it_green(
    committed: None, tmp_path: Path, protection: Protection
) -> None:
    dataset_seed()  # before: seeding posts journals, which some removals would break
    _owner(protection.remove)
    try:
        ok, red = _trust_test(tmp_path)
    finally:
        _owner(protection.restore)
    failed = {a["name"] for a in red["attacks"] if a["verdict"] != "PASS"}
    failed_checks = {c["name"] for c in red["governance_checks"]["checks"] if c["status"] == "FAIL"}
    assert ok is False and red["ok"] is False
    assert protection.attacks <= failed, protection.attacks - failed
    assert protection.checks <= failed_checks, protection.checks - failed_checks

    ok, green = _trust_test(tmp_path)
    assert ok is True and green["ok"] is True, [
        a["name"] for a in green["attacks"] if a["verdict"] != "PASS"
    ]
