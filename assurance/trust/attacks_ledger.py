"""Ledger attacks: raw SQL as aibos_finance_role against posted journals and their guards."""

from __future__ import annotations

import uuid
from decimal import Decimal

from .base import (
    CONSTRAINT,
    GUARD,
    PRIVILEGE,
    Expect,
    Got,
    Registry,
    expect_rows,
    sql,
)
from .dataset import POSTED_AMOUNT, Dataset

LINE = (
    "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, currency, "
    "txn_amount, fx_rate, memo) VALUES (%s, %s, %s, %s, %s, 'USD', %s, 1, 'trust test')"
)
ENTRY_AS_POSTED = (
    "WITH e AS (INSERT INTO finance.journal_entries (id, tenant_id, company_id, entry_date, status, "
    "reference, memo, posted_by, created_by, request_hash, line_count) "
    "VALUES (%s, %s, %s, %s, 'POSTED', 'trust-unbalanced', '', '', 'sql', '', 2) RETURNING id) "
    "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, currency, "
    "txn_amount, fx_rate, memo) VALUES "
    "(%s, %s, %s, 1000, 0, 'USD', 1000, 1, ''), (%s, %s, %s, 0, 900, 'USD', 900, 1, '')"
)
GUARDS = (
    "{guard_finance_journalentry_guard,guard_finance_journalline_guard,"
    "guard_finance_journalline_added,guard_finance_journalentry_check_update}"
)
LEDGER = ("CC8.1", "PI1.5")
INTEGRITY = ("PI1.3", "PI1.5")
SWITCH_OFF = ("CC6.1", "CC8.1")


def posted_unchanged(ds: Dataset) -> str | None:
    """A's posted entry: still POSTED, same memo, its two lines, balanced at the seeded amount."""
    e = ds.a.posted
    return expect_rows(
        "finance",
        ds.a.id,
        "SELECT e.status, e.memo, e.line_count, count(l.id), sum(l.debit), sum(l.credit) "
        "FROM finance.journal_entries e LEFT JOIN finance.journal_lines l "
        "ON l.tenant_id = e.tenant_id AND l.entry_id = e.id WHERE e.id = %s "
        "GROUP BY e.status, e.memo, e.line_count",
        [e.pk],
        [("POSTED", e.memo, 2, 2, POSTED_AMOUNT, POSTED_AMOUNT)],
    )


def draft_unchanged(ds: Dataset) -> str | None:
    d = ds.a.draft
    return expect_rows(
        "finance",
        ds.a.id,
        "SELECT status, line_count, (SELECT count(*) FROM finance.journal_lines l "
        "WHERE l.tenant_id = e.tenant_id AND l.entry_id = e.id) "
        "FROM finance.journal_entries e WHERE id = %s",
        [d.pk],
        [("DRAFT", 2, 2)],
    )


def balances_unchanged(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.a.id,
        "SELECT debit_total, credit_total FROM finance.account_balances WHERE account_id = %s",
        [ds.a.accounts["5000"].pk],
        [(POSTED_AMOUNT, Decimal("0"))],
    )


def _unbalanced(ds: Dataset) -> Got:
    a, entry = ds.a, uuid.uuid4()
    return sql(
        "finance",
        a.id,
        (
            ENTRY_AS_POSTED,
            [
                *(entry, a.id, a.company.pk, "2026-01-15"),
                *(a.id, entry, a.accounts["5000"].pk, a.id, entry, a.accounts["1000"].pk),
            ],
        ),
    )


def no_unbalanced_entry(ds: Dataset) -> str | None:
    return expect_rows(
        "finance",
        ds.a.id,
        "SELECT count(*) FROM finance.journal_entries WHERE reference = 'trust-unbalanced'",
        [],
        [(0,)],
    )


def register(r: Registry) -> None:
    a = "finance"
    r.add(
        name="ledger.post_unbalanced_journal",
        title="Insert a journal as POSTED whose lines do not balance (1000 Dr / 900 Cr)",
        layer=GUARD,
        tsc=INTEGRITY,
        expect=Expect(sqlstate="23514", rule="finance_journalentry_balanced"),
        attempt=_unbalanced,
        unchanged=no_unbalanced_entry,
    )
    r.add(
        name="ledger.post_unbalanced_draft",
        title="UPDATE a draft whose lines do not balance (1500 Dr / 1400 Cr) to POSTED",
        layer=GUARD,
        tsc=INTEGRITY,
        expect=Expect(sqlstate="23514", rule="finance_journalentry_balanced"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            ("UPDATE finance.journal_entries SET status = 'POSTED' WHERE id = %s", [ds.a.draft.pk]),
        ),
        unchanged=draft_unchanged,
    )
    r.add(
        name="ledger.modify_posted_journal",
        title="UPDATE the memo of a POSTED journal",
        layer=GUARD,
        tsc=LEDGER,
        expect=Expect(sqlstate="23514", rule="finance_journalentry_posted_immutable"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (
                "UPDATE finance.journal_entries SET memo = 'tampered' WHERE id = %s",
                [ds.a.posted.pk],
            ),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.unpost_journal",
        title="UPDATE a POSTED journal back to DRAFT",
        layer=GUARD,
        tsc=LEDGER,
        expect=Expect(sqlstate="23514", rule="finance_journalentry_posted_immutable"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (
                "UPDATE finance.journal_entries SET status = 'DRAFT' WHERE id = %s",
                [ds.a.posted.pk],
            ),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.delete_posted_journal",
        title="DELETE a POSTED journal",
        layer=GUARD,
        tsc=LEDGER,
        expect=Expect(sqlstate="23514", rule="finance_journalentry_posted_immutable"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            ("DELETE FROM finance.journal_entries WHERE id = %s", [ds.a.posted.pk]),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.orphan_journal_line",
        title="INSERT a journal line for an entry that does not exist",
        layer=CONSTRAINT,
        tsc=INTEGRITY,
        expect=Expect(sqlstate="23503", rule="finance_journalline_entry_fk"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (LINE, [ds.a.id, uuid.uuid4(), ds.a.accounts["5000"].pk, 10, 0, 10]),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.journal_line_without_entry",
        title="INSERT a journal line with no entry at all (entry_id NULL)",
        layer=CONSTRAINT,
        tsc=INTEGRITY,
        expect=Expect(sqlstate="23502"),
        attempt=lambda ds: sql(
            a, ds.a.id, (LINE, [ds.a.id, None, ds.a.accounts["5000"].pk, 10, 0, 10])
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.add_line_to_posted_journal",
        title="INSERT a line into a POSTED journal",
        layer=GUARD,
        tsc=LEDGER,
        expect=Expect(sqlstate="23514", rule="finance_journalline_posted_immutable"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (LINE, [ds.a.id, ds.a.posted.pk, ds.a.accounts["5000"].pk, 10, 0, 10]),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.edit_posted_line",
        title="UPDATE the amount of a POSTED journal's line",
        layer=PRIVILEGE,
        tsc=LEDGER,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (
                "UPDATE finance.journal_lines SET debit = debit + 1 WHERE entry_id = %s",
                [ds.a.posted.pk],
            ),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.delete_posted_line",
        title="DELETE the lines of a POSTED journal",
        layer=GUARD,
        tsc=LEDGER,
        expect=Expect(sqlstate="23514", rule="finance_journalline_posted_immutable"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            ("DELETE FROM finance.journal_lines WHERE entry_id = %s", [ds.a.posted.pk]),
        ),
        unchanged=posted_unchanged,
    )
    r.add(
        name="ledger.forge_account_balance",
        title="UPDATE a running account balance directly",
        layer=PRIVILEGE,
        tsc=INTEGRITY,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (
                "UPDATE finance.account_balances SET debit_total = 0 WHERE account_id = %s",
                [ds.a.accounts["5000"].pk],
            ),
        ),
        unchanged=balances_unchanged,
    )
    r.add(
        name="ledger.set_line_count",
        title="Set a draft's line_count by hand (so a posting would check fewer lines)",
        layer=PRIVILEGE,
        tsc=INTEGRITY,
        expect=Expect(sqlstate="42501"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (
                "UPDATE finance.journal_entries SET line_count = 1 WHERE id = %s",
                [ds.a.draft.pk],
            ),
        ),
        unchanged=draft_unchanged,
    )
    # --- switching the guards off ----------------------------------------------------------
    edit = ("UPDATE finance.journal_entries SET memo = 'tampered' WHERE id = %s",)
    r.add(
        name="bypass.pgtrigger_ignore",
        title="set_config('pgtrigger.ignore', <the ledger guards>) then edit a POSTED journal",
        layer=GUARD,
        tsc=SWITCH_OFF,
        expect=Expect(sqlstate="23514", rule="finance_journalentry_posted_immutable"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            ("SELECT set_config('pgtrigger.ignore', %s, true)", [GUARDS]),
            (edit[0], [ds.a.posted.pk]),
        ),
        unchanged=posted_unchanged,
    )
    for name, title, statement in (
        ("bypass.truncate_journal_lines", "TRUNCATE finance.journal_lines", None),
        (
            "bypass.truncate_journal_entries",
            "TRUNCATE finance.journal_entries CASCADE",
            None,
        ),
        (
            "bypass.disable_ledger_triggers",
            "ALTER TABLE finance.journal_entries DISABLE TRIGGER ALL",
            None,
        ),
        (
            "bypass.drop_ledger_guard",
            "DROP TRIGGER guard_finance_journalentry_guard ON finance.journal_entries",
            None,
        ),
        (
            "bypass.replace_guard_function",
            "CREATE OR REPLACE FUNCTION finance.guard_finance_journalentry_guard() "
            "RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
            None,
        ),
        (
            "bypass.session_replication_role",
            "SET LOCAL session_replication_role = replica",
            None,
        ),
        (
            "bypass.no_force_rls_journals",
            "ALTER TABLE finance.journal_entries NO FORCE ROW LEVEL SECURITY",
            None,
        ),
    ):
        text = statement or title

        def attempt(ds: Dataset, text: str = text) -> Got:
            # The switch-off, then the edit it would allow: the first statement must fail.
            return sql(a, ds.a.id, text, (edit[0], [ds.a.posted.pk]))

        r.add(
            name=name,
            title=f"{title}, then edit a POSTED journal",
            layer=PRIVILEGE,
            tsc=SWITCH_OFF if "TRUNCATE" not in title else (*SWITCH_OFF, "A1.2"),
            expect=Expect(sqlstate="42501"),
            attempt=attempt,
            unchanged=posted_unchanged,
        )
    r.add(
        name="bypass.tenant_switch_inside_statement",
        title="Blind the guards: set app.tenant_id to '' inside the INSERT of a line into a "
        "POSTED journal (RETURNING set_config)",
        layer=GUARD,
        tsc=("CC6.1", "PI1.5"),
        expect=Expect(sqlstate="42501", rule="finance_session_tenant"),
        attempt=lambda ds: sql(
            a,
            ds.a.id,
            (
                LINE + " RETURNING set_config('app.tenant_id', '', true)",
                [ds.a.id, ds.a.posted.pk, ds.a.accounts["5000"].pk, 10, 0, 10],
            ),
        ),
        unchanged=posted_unchanged,
    )
