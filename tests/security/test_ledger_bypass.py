"""What a hostile SQL session as aibos_finance_role tries in order to get past the ledger's
guards, and why each attempt fails (DESIGN.md, "Ledger integrity")."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connections, transaction

from tests.finance.books import DAY, post_simple
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


# --- a hostile session against the guards' own reads (review of the one-statement posting) ----

LINE_INTO = (
    "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, currency, "
    "txn_amount, fx_rate, memo) VALUES (%s, %s, %s, %s, 0, 'USD', %s, 1, '')"
)
BLIND = "set_config('app.tenant_id', '', true)"


def _lines_of(books: SimpleNamespace, entry_id: Any) -> list[Any]:
    return run(
        books.tenant.id,
        (
            "SELECT id, debit, credit FROM finance.journal_lines WHERE entry_id = %s ORDER BY id",
            [entry_id],
        ),
    )


@pytest.mark.parametrize("where", ["returning", "where"])
def test_switching_the_tenant_inside_a_statement_does_not_blind_the_guards(
    books: SimpleNamespace, posted: Any, where: str
) -> None:
    """`set_config('app.tenant_id', '', true)` evaluated after RLS has checked the row and before
    the guards read its neighbours (which RLS would then hide): the guards refuse a row that is
    not of the session's tenant, instead of finding nothing to refuse."""
    tenant, accounts = books.tenant.id, books.us.accounts
    before = _lines_of(books, posted.pk)
    if where == "returning":  # a line into a POSTED entry, unbalancing it
        attack = (
            LINE_INTO + f" RETURNING {BLIND}",
            [tenant, posted.pk, accounts["5000"].pk, 1000000, 1000000],
        )
    else:  # a line taken out of a POSTED entry
        attack = (
            f"DELETE FROM finance.journal_lines WHERE id = %s AND {BLIND} IS NOT NULL",
            [before[0][0]],
        )
    refused_by_guard(tenant, attack)
    assert _lines_of(books, posted.pk) == before


def refused_by_guard(tenant: Any, attack: tuple[str, list[Any]]) -> None:
    """The attack changes nothing: refused by the session-tenant check — or, if the plan reads
    the switched variable before RLS's own, with RLS hiding the row it aimed at."""
    try:
        run(tenant, attack)
    except DatabaseError as exc:
        assert refused(pytest.ExceptionInfo.from_exception(exc)) == (
            "42501",
            "finance_session_tenant",
        )


def test_a_used_fx_rate_cannot_be_deleted_behind_a_tenant_switch(books: SimpleNamespace) -> None:
    from decimal import Decimal

    from finance import services
    from tests.factories import system

    us = books.us
    services.journal_create_draft(
        actor=system(books.tenant),
        company_id=us.company.pk,
        entry_date=DAY,
        lines=[
            services.LineInput(us.accounts["1010"].pk, "debit", Decimal("10.00")),
            services.LineInput(us.accounts["7910"].pk, "credit", Decimal("10.00")),
        ],
        post=True,
    )
    ((rate,),) = run(
        books.tenant.id,
        "SELECT DISTINCT fx_rate_id FROM finance.journal_lines WHERE fx_rate_id IS NOT NULL",
    )
    delete = "DELETE FROM finance.fx_rates WHERE id = %s"
    with pytest.raises(DatabaseError) as exc:  # the control: the rule itself
        run(books.tenant.id, (delete, [rate]))
    assert refused(exc) == ("23514", "finance_fxrate_frozen_once_used")
    refused_by_guard(books.tenant.id, (f"{delete} AND {BLIND} IS NOT NULL", [rate]))
    assert run(
        books.tenant.id, ("SELECT count(*) FROM finance.fx_rates WHERE id = %s", [rate])
    ) == [(1,)]


def test_lines_swapped_in_the_statement_that_posts_their_draft_are_refused(
    books: SimpleNamespace,
) -> None:
    """Delete a draft's two lines, insert two others and post it, in one statement: the new
    lines would be checked and booked but never audited."""
    from tests.finance.test_ledger_invariants import raw_entry, usd

    tenant, company, accounts = books.tenant.id, books.us.company.pk, books.us.accounts
    draft = raw_entry(
        tenant,
        company,
        [usd(accounts["5000"], "5.00", "0"), usd(accounts["1000"], "0", "5.00")],
        post=False,
    )
    swap = (
        "WITH d AS (DELETE FROM finance.journal_lines WHERE entry_id = %(e)s RETURNING 1), "
        "i AS (INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, "
        "currency, txn_amount, fx_rate, memo) VALUES "
        "(%(t)s, %(e)s, %(dr)s, 7, 0, 'USD', 7, 1, ''), (%(t)s, %(e)s, %(cr)s, 0, 7, 'USD', 7, 1, '') "
        "RETURNING 1) "
        "UPDATE finance.journal_entries SET status = 'POSTED' WHERE id = %(e)s "
        "AND (SELECT count(*) FROM d) = 2 AND (SELECT count(*) FROM i) = 2"
    )
    params = {"e": draft, "t": tenant, "dr": accounts["5000"].pk, "cr": accounts["1000"].pk}
    with pytest.raises(DatabaseError) as exc:
        run(tenant, (swap, params))
    assert refused(exc)[1] in (
        "finance_journalline_posted_immutable",  # lines taken from an entry it posted
        "finance_journalentry_posted_immutable",  # ... whose count may then not change
        "finance_journalentry_line_count",  # the lines it checked are not the ones it counts
    )
    assert run(tenant, ("SELECT status FROM finance.journal_entries WHERE id = %s", [draft])) == [
        ("DRAFT",)
    ]


def test_an_insert_that_writes_nothing_spends_no_posting_number(
    books: SimpleNamespace, posted: Any
) -> None:
    """BEFORE INSERT runs on a row ON CONFLICT then drops: it may not spend a number."""
    from tests.finance.test_ledger_invariants import insert_posted, usd

    tenant, company, accounts = books.tenant.id, books.us.company.pk, books.us.accounts
    lines = [usd(accounts["5000"], "5.00", "0"), usd(accounts["1000"], "0", "5.00")]
    sql, params = insert_posted(str(posted.pk), tenant, company, lines)
    entry_only = sql.split(" RETURNING id")[0].removeprefix("WITH e AS (")
    run(tenant, (entry_only + " ON CONFLICT (id) DO NOTHING", params[:6]))
    assert post_simple(books.us).posting_seq == posted.posting_seq + 1


def test_no_session_sets_a_line_count_not_even_from_a_trigger_of_its_own(
    books: SimpleNamespace,
) -> None:
    """Column privileges, not a trigger-depth test: a temporary trigger would run the UPDATE at
    depth 2."""
    from tests.finance.test_ledger_invariants import raw_entry, usd

    tenant, company = books.tenant.id, books.us.company.pk
    draft = raw_entry(tenant, company, [usd(books.us.accounts["5000"], "5.00", "0")], post=False)
    with pytest.raises(DatabaseError) as exc:
        run(
            tenant,
            "CREATE TEMP TABLE poke (x int)",
            "CREATE FUNCTION pg_temp.poke() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$BEGIN UPDATE finance.journal_entries SET line_count = 7 WHERE id = '{draft}'; "
            "RETURN NULL; END$$",
            "CREATE TRIGGER poke AFTER INSERT ON poke FOR EACH ROW EXECUTE FUNCTION pg_temp.poke()",
            "INSERT INTO poke VALUES (1)",
        )
    assert refused(exc)[0] == "42501"
    for column in ("line_count", "posting_seq", "posted_by", "created_by", "request_hash"):
        with pytest.raises(DatabaseError) as exc:
            run(
                tenant,
                (f"UPDATE finance.journal_entries SET {column} = DEFAULT WHERE id = %s", [draft]),
            )
        assert refused(exc)[0] == "42501", column
