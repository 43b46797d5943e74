"""What a hostile SQL session as aibos_finance_role tries in order to get past the ledger's
guards, and why each attempt fails (DESIGN.md, "Ledger integrity")."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction

from tests.finance.books import post_simple
from tests.finance.helpers import refused, run
from tests.security.helpers import fetchall

pytestmark = pytest.mark.django_db(databases="__all__")

GUARDS = "{guard_finance_journalentry_guard,guard_finance_journalline_guard,guard_finance_journalentry_post}"
EDIT_POSTED = "UPDATE finance.journal_entries SET memo = 'tampered' WHERE id = %s"


@pytest.fixture
def posted(books: SimpleNamespace) -> Any:
    return post_simple(books.us)


def test_pgtrigger_ignore_does_not_switch_the_guards_off(
    books: SimpleNamespace, posted: Any
) -> None:
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id,
            ("SELECT set_config('pgtrigger.ignore', %s, true)", [GUARDS]),
            (EDIT_POSTED, [posted.pk]),
        )
    assert refused(exc) == ("23514", "finance_journalentry_posted_immutable")


def test_no_guard_function_has_the_ignore_hook_and_none_is_owned_by_a_runtime_role() -> None:
    rows = fetchall(
        "default",
        "SELECT p.proname, pg_get_userbyid(p.proowner), p.prosrc FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'finance' AND p.proname LIKE 'guard_%%'",
    )
    assert len(rows) >= 12
    for name, owner, source in rows:
        assert "pgtrigger" not in source, name
        assert not owner.startswith("aibos_") or owner == "aibos_migration", (name, owner)
    assert (
        fetchall("default", "SELECT 1 FROM pg_proc WHERE proname = '_pgtrigger_should_ignore'")
        == []
    )


@pytest.mark.parametrize(
    ("attempt", "sqlstate"),
    [
        ("TRUNCATE finance.journal_entries CASCADE", "42501"),
        ("TRUNCATE finance.journal_lines", "42501"),
        ("TRUNCATE finance.payment_approvals", "42501"),
        ("ALTER TABLE finance.journal_entries DISABLE TRIGGER ALL", "42501"),
        (
            "ALTER TABLE finance.journal_entries DISABLE TRIGGER guard_finance_journalentry_guard",
            "42501",
        ),
        ("DROP TRIGGER guard_finance_journalentry_guard ON finance.journal_entries", "42501"),
        ("SET session_replication_role = replica", "42501"),
        ("SET LOCAL session_replication_role = replica", "42501"),
        (
            "CREATE OR REPLACE FUNCTION finance.guard_finance_journalentry_guard() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            "42501",
        ),
        ("ALTER TABLE finance.journal_entries NO FORCE ROW LEVEL SECURITY", "42501"),
    ],
)
def test_switch_off_attempts_are_refused(
    books: SimpleNamespace, posted: Any, attempt: str, sqlstate: str
) -> None:
    with pytest.raises(DatabaseError) as exc:
        run(books.tenant.id, attempt, (EDIT_POSTED, [posted.pk]))
    assert refused(exc)[0] == sqlstate


def test_the_owner_cannot_truncate_ledger_tables_either(
    committed: None, books: SimpleNamespace, posted: Any
) -> None:
    """TRUNCATE skips row triggers; a statement trigger refuses it for everyone (a superuser
    can still skip triggers with replica mode: superusers are outside the model)."""
    with pytest.raises(DatabaseError) as exc, transaction.atomic(using="default"):
        with connections["default"].cursor() as cur:
            cur.execute("SET LOCAL lock_timeout = '5s'")
            cur.execute("TRUNCATE finance.journal_lines")
    assert refused(exc) == ("23514", "finance_journalline_truncate")


def test_final_rows_are_backed_by_privileges_not_only_triggers() -> None:
    """Where rows are final the runtime role lacks the privilege outright."""
    rows = fetchall(
        "default",
        "SELECT table_name, string_agg(privilege_type, ',' ORDER BY privilege_type) "
        "FROM information_schema.role_table_grants "
        "WHERE table_schema = 'finance' AND grantee = 'aibos_finance_role' GROUP BY 1",
    )
    grants = dict(rows)
    assert grants["payment_approvals"] == "INSERT,SELECT"
    assert grants["document_metadata"] == "INSERT,SELECT"
    assert grants["account_balances"] == "SELECT"
    assert grants["posting_sequences"] == "SELECT"
    assert grants["journal_lines"] == "DELETE,INSERT,SELECT"  # drafts' lines are replaced
    assert grants["payments"] == "INSERT,SELECT,UPDATE"  # cancelled, never deleted
    assert all("TRUNCATE" not in privs for privs in grants.values())


def test_every_declared_guard_is_installed_current_and_enabled(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What the models declare is what the database runs (pgtrigger compares each trigger's
    hash with the one installed): nothing outdated, missing or disabled."""
    import re

    from django.core.management import call_command

    call_command("pgtrigger", "ls")
    text = re.sub(r"\x1b\[[0-9;]*m", "", capsys.readouterr().out)
    rows = [line.split() for line in text.splitlines() if line.strip()]
    assert len(rows) >= 18
    assert all(row[:2] == ["INSTALLED", "ENABLED"] for row in rows), rows
