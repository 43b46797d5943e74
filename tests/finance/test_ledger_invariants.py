"""Section 2 of the ledger issue, proven with raw SQL as aibos_finance_role: the database
refuses, whatever the application does. Each test names the rule it proves."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError

from finance import services
from tests.factories import system
from tests.finance.books import DAY, post_simple
from tests.finance.helpers import message, refused, run

pytestmark = pytest.mark.django_db(databases="__all__")

INSERT_ENTRY = (
    "INSERT INTO finance.journal_entries (tenant_id, company_id, entry_date, status, reference, "
    "memo, posted_by, created_by, request_hash, reversal_of_id) "
    "VALUES (%s, %s, %s, %s, 'raw', '', '', 'sql', '', %s) RETURNING id"
)
INSERT_LINE = (
    "INSERT INTO finance.journal_lines (tenant_id, entry_id, account_id, debit, credit, currency, "
    "txn_amount, fx_rate_id, fx_rate, memo) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '') "
    "RETURNING id"
)
POST = "UPDATE finance.journal_entries SET status = 'POSTED' WHERE id = %s RETURNING posting_seq"


# The two ways to post: a draft UPDATEd to POSTED, or an entry INSERTed as POSTED together with
# its lines in one statement (what finance.journal_entry_create does). The rules are the same;
# tests marked with the `posting` fixture run both ways.
_PATH: ContextVar[str] = ContextVar("posting_path", default="update")


@pytest.fixture(params=["update", "insert"])
def posting(request: pytest.FixtureRequest) -> Iterator[str]:
    token = _PATH.set(request.param)
    yield request.param
    _PATH.reset(token)


def raw_entry(
    tenant_id: uuid.UUID,
    company_id: Any,
    lines: list[tuple[Any, str, str, str, str, Any, str]],
    *,
    day: dt.date = DAY,
    post: bool = True,
    reversal_of: Any = None,
) -> str:
    """lines: (account_id, debit, credit, currency, txn_amount, fx_rate_id, fx_rate)."""
    entry_id = str(uuid.uuid4())
    if post and _PATH.get() == "insert":
        run(tenant_id, insert_posted(entry_id, tenant_id, company_id, lines, day, reversal_of))
        return entry_id
    statements: list[Any] = [
        (
            INSERT_ENTRY.replace("(tenant_id,", "(id, tenant_id,").replace(
                "VALUES (%s,", "VALUES (%s, %s,"
            ),
            [entry_id, tenant_id, company_id, day, "DRAFT", reversal_of],
        )
    ]
    statements += [(INSERT_LINE, [tenant_id, entry_id, *line]) for line in lines]
    if post:
        statements.append((POST, [entry_id]))
    run(tenant_id, *statements)
    return entry_id


def insert_posted(
    entry_id: str,
    tenant_id: uuid.UUID,
    company_id: Any,
    lines: list[tuple[Any, str, str, str, str, Any, str]],
    day: dt.date = DAY,
    reversal_of: Any = None,
    *,
    line_count: int | None = None,
) -> tuple[str, list[Any]]:
    """One statement: the entry as POSTED (claiming ``line_count`` lines, by default as many as
    it brings) and its lines."""
    entry = (
        "INSERT INTO finance.journal_entries (id, tenant_id, company_id, entry_date, status, "
        "reference, memo, posted_by, created_by, request_hash, reversal_of_id, line_count) "
        "VALUES (%s, %s, %s, %s, 'POSTED', 'raw', '', '', 'sql', '', %s, %s)"
    )
    params: list[Any] = [entry_id, tenant_id, company_id, day, reversal_of]
    params.append(len(lines) if line_count is None else line_count)
    if not lines:
        return entry, params
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, '')"] * len(lines))
    for line in lines:
        params += [tenant_id, entry_id, *line]
    return (
        f"WITH e AS ({entry} RETURNING id) INSERT INTO finance.journal_lines (tenant_id, "
        "entry_id, account_id, debit, credit, currency, txn_amount, fx_rate_id, fx_rate, memo) "
        f"VALUES {values}",
        params,
    )


def insert_lines(
    tenant_id: uuid.UUID, entry_id: Any, lines: list[tuple[Any, str, str, str, str, Any, str]]
) -> tuple[str, list[Any]]:
    """One statement inserting all ``lines`` into ``entry_id``."""
    values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s, %s, '')"] * len(lines))
    sql = INSERT_LINE.replace(" RETURNING id", "").replace(
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '')", f"VALUES {values}"
    )
    return sql, [v for line in lines for v in (tenant_id, entry_id, *line)]


def usd(account: Any, debit: str, credit: str) -> tuple[Any, str, str, str, str, None, str]:
    return (account.pk, debit, credit, "USD", debit if debit != "0" else credit, None, "1")


@pytest.fixture
def us(books: SimpleNamespace) -> Any:
    return books.us


def ids(books: SimpleNamespace) -> tuple[uuid.UUID, Any]:
    return books.tenant.id, books.us.company.pk


# --- balance -------------------------------------------------------------------------------


def test_posting_an_unbalanced_entry_is_refused_with_its_id(
    books: SimpleNamespace, us: Any
) -> None:
    tenant, company = ids(books)
    entry = str(uuid.uuid4())
    with pytest.raises(DatabaseError) as exc:
        run(
            tenant,
            (
                INSERT_ENTRY.replace("(tenant_id,", "(id, tenant_id,").replace(
                    "VALUES (%s,", "VALUES (%s, %s,"
                ),
                [entry, tenant, company, DAY, "DRAFT", None],
            ),
            (INSERT_LINE, [tenant, entry, *usd(us.accounts["5000"], "100.00", "0")]),
            (INSERT_LINE, [tenant, entry, *usd(us.accounts["1000"], "0", "99.99")]),
            (POST, [entry]),
        )
    assert refused(exc) == ("23514", "finance_journalentry_balanced")
    assert entry in message(exc)


def test_unbalanced_drafts_are_allowed(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    entry = raw_entry(tenant, company, [usd(us.accounts["5000"], "100.00", "0")], post=False)
    assert run(tenant, ("SELECT status FROM finance.journal_entries WHERE id = %s", [entry])) == [
        ("DRAFT",)
    ]


@pytest.mark.usefixtures("posting")
def test_each_transaction_currency_must_balance_too(books: SimpleNamespace, us: Any) -> None:
    """110 USD = 110 USD in company currency, but 100 EUR are debited and none credited."""
    tenant, company = ids(books)
    fx = run(tenant, "SELECT id FROM finance.fx_rates WHERE base = 'EUR'")[0][0]
    with pytest.raises(DatabaseError) as exc:
        raw_entry(
            tenant,
            company,
            [
                (us.accounts["1010"].pk, "110.00", "0", "EUR", "100.00", fx, "1.1"),
                usd(us.accounts["4000"], "0", "110.00"),
            ],
        )
    assert refused(exc) == ("23514", "finance_journalentry_balanced")
    assert "EUR" in message(exc)


@pytest.mark.usefixtures("posting")
def test_a_foreign_line_balanced_through_fx_trading_posts(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    fx = run(tenant, "SELECT id FROM finance.fx_rates WHERE base = 'EUR'")[0][0]
    raw_entry(
        tenant,
        company,
        [
            (us.accounts["1010"].pk, "110.00", "0", "EUR", "100.00", fx, "1.1"),
            (us.accounts["7910"].pk, "0", "110.00", "EUR", "100.00", fx, "1.1"),
        ],
    )


@pytest.mark.usefixtures("posting")
def test_a_line_must_convert_at_its_stored_rate(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    fx = run(tenant, "SELECT id FROM finance.fx_rates WHERE base = 'EUR'")[0][0]
    with pytest.raises(DatabaseError) as exc:
        raw_entry(
            tenant,
            company,
            [
                (us.accounts["1010"].pk, "120.00", "0", "EUR", "100.00", fx, "1.1"),
                (us.accounts["7910"].pk, "0", "120.00", "EUR", "100.00", fx, "1.1"),
            ],
        )
    assert refused(exc) == ("23514", "finance_journalline_conversion")


@pytest.mark.usefixtures("posting")
def test_a_line_must_use_the_rate_valid_on_the_entry_date(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    fx = run(tenant, "SELECT id FROM finance.fx_rates WHERE base = 'EUR'")[0][0]
    with pytest.raises(DatabaseError) as exc:
        raw_entry(
            tenant,
            company,
            [
                (us.accounts["1010"].pk, "120.00", "0", "EUR", "100.00", fx, "1.2"),
                (us.accounts["7910"].pk, "0", "120.00", "EUR", "100.00", fx, "1.2"),
            ],
        )
    assert refused(exc) == ("23514", "finance_journalline_fx_rate")


@pytest.mark.usefixtures("posting")
def test_a_line_cannot_use_another_companys_account(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    with pytest.raises(DatabaseError) as exc:
        raw_entry(
            tenant,
            company,
            [
                usd(us.accounts["5000"], "10.00", "0"),
                (books.eu.accounts["1000"].pk, "0", "10.00", "EUR", "10.00", None, "1"),
            ],
        )
    assert refused(exc)[1] in (
        "finance_journalline_account_match",
        "finance_journalline_conversion",
    )


@pytest.mark.usefixtures("posting")
def test_a_posted_entry_needs_two_lines(books: SimpleNamespace) -> None:
    tenant, company = ids(books)
    with pytest.raises(DatabaseError) as exc:
        raw_entry(tenant, company, [])
    assert refused(exc) == ("23514", "finance_journalentry_min_lines")


def test_a_line_has_exactly_one_positive_side(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    for debit, credit in (("10.00", "10.00"), ("0", "0"), ("-5.00", "0")):
        with pytest.raises(DatabaseError) as exc:
            raw_entry(tenant, company, [usd(us.accounts["5000"], debit, credit)], post=False)
        assert refused(exc)[1] == "finance_journalline_one_side"


# --- posted entries are final --------------------------------------------------------------


@pytest.fixture
def posted(us: Any) -> Any:
    return post_simple(us)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE finance.journal_entries SET memo = 'edited' WHERE id = %s",
        "UPDATE finance.journal_entries SET status = 'DRAFT' WHERE id = %s",
        "UPDATE finance.journal_entries SET entry_date = entry_date + 1 WHERE id = %s",
        "DELETE FROM finance.journal_entries WHERE id = %s",
        "DELETE FROM finance.journal_lines WHERE entry_id = %s",
    ],
)
def test_posted_entries_and_lines_cannot_change(
    books: SimpleNamespace, posted: Any, sql: str
) -> None:
    with pytest.raises(DatabaseError) as exc:
        run(books.tenant.id, (sql, [posted.pk]))
    assert refused(exc)[0] == "23514"
    assert refused(exc)[1] in (
        "finance_journalentry_posted_immutable",
        "finance_journalline_posted_immutable",
    )


def test_no_line_can_be_added_to_a_posted_entry(
    books: SimpleNamespace, us: Any, posted: Any
) -> None:
    with pytest.raises(DatabaseError) as exc:
        run(
            books.tenant.id,
            (INSERT_LINE, [books.tenant.id, posted.pk, *usd(us.accounts["5000"], "1.00", "0")]),
        )
    assert refused(exc) == ("23514", "finance_journalline_posted_immutable")


def test_lines_cannot_be_updated_at_all_by_the_runtime_role(
    books: SimpleNamespace, us: Any, posted: Any
) -> None:
    """Moving a draft line into a posted entry: no UPDATE privilege on lines (42501); the owner
    would still meet the trigger (next test)."""
    tenant, company = ids(books)
    draft = raw_entry(tenant, company, [usd(us.accounts["5000"], "5.00", "0")], post=False)
    with pytest.raises(DatabaseError) as exc:
        run(
            tenant,
            (
                "UPDATE finance.journal_lines SET entry_id = %s WHERE entry_id = %s",
                [posted.pk, draft],
            ),
        )
    assert refused(exc)[0] == "42501"


def test_even_the_owner_cannot_move_a_line_into_a_posted_entry(
    committed: None, books: SimpleNamespace, us: Any, posted: Any
) -> None:
    from django.db import connections, transaction

    tenant, company = ids(books)
    draft = raw_entry(tenant, company, [usd(us.accounts["5000"], "5.00", "0")], post=False)
    with pytest.raises(DatabaseError) as exc, transaction.atomic(using="default"):
        with connections["default"].cursor() as cur:
            cur.execute("SELECT set_config('app.tenant_id', %s, true)", [str(tenant)])
            cur.execute(
                "UPDATE finance.journal_lines SET entry_id = %s WHERE entry_id = %s",
                [posted.pk, draft],
            )
    assert refused(exc) == ("23514", "finance_journalline_posted_immutable")


def test_no_line_without_an_entry(books: SimpleNamespace, us: Any) -> None:
    tenant = books.tenant.id
    with pytest.raises(DatabaseError) as exc:
        run(tenant, (INSERT_LINE, [tenant, None, *usd(us.accounts["5000"], "1.00", "0")]))
    assert refused(exc)[0] == "23502"
    with pytest.raises(DatabaseError) as exc:
        run(tenant, (INSERT_LINE, [tenant, uuid.uuid4(), *usd(us.accounts["5000"], "1.00", "0")]))
    assert refused(exc) == ("23503", "finance_journalline_entry_fk")


def test_an_entry_inserted_as_posted_is_numbered_and_stamped_by_the_database(
    books: SimpleNamespace, us: Any
) -> None:
    """Whatever an INSERT says about the posting, the database numbers and stamps it."""
    tenant, company = ids(books)
    first = post_simple(us)
    entry = str(uuid.uuid4())
    sql, params = insert_posted(
        entry,
        tenant,
        company,
        [usd(us.accounts["5000"], "5.00", "0"), usd(us.accounts["1000"], "0", "5.00")],
    )
    forged = sql.replace("(id, tenant_id,", "(posting_seq, posted_at, id, tenant_id,").replace(
        "VALUES (%s, %s, %s, %s, 'POSTED', 'raw', '', ''",
        "VALUES (999, '2001-01-01', %s, %s, %s, %s, 'POSTED', 'raw', '', 'forger'",
    )
    assert forged.count("999") == 1 and "forger" in forged
    run(tenant, (forged, params))
    seq, posted_at, posted_by, count = run(
        tenant,
        (
            "SELECT posting_seq, posted_at, posted_by, line_count FROM finance.journal_entries "
            "WHERE id = %s",
            [entry],
        ),
    )[0]
    assert (seq, posted_by, count) == (first.posting_seq + 1, "command:sql-test", 2)
    assert posted_at.year >= 2026


def test_a_posted_entry_brings_exactly_the_lines_it_records(
    books: SimpleNamespace, us: Any
) -> None:
    """Too few or too many lines for the count it claims, or lines sent in a later statement:
    refused; the lines a posting is checked with are the ones it records."""
    tenant, company = ids(books)
    two = [usd(us.accounts["5000"], "5.00", "0"), usd(us.accounts["1000"], "0", "5.00")]
    three = [*two, usd(us.accounts["1000"], "0", "0.01")]
    for lines, claimed in ((two, 3), ([*three[:2], usd(us.accounts["5000"], "0.01", "0")], 2)):
        with pytest.raises(DatabaseError) as exc:
            run(
                tenant, insert_posted(str(uuid.uuid4()), tenant, company, lines, line_count=claimed)
            )
        # Whichever check sees it first: the entry's (its lines) or the lines' (their entry).
        assert refused(exc) in (
            ("23514", "finance_journalentry_line_count"),
            ("23514", "finance_journalline_posted_immutable"),
        )
    entry = str(uuid.uuid4())
    with pytest.raises(DatabaseError) as exc:
        run(
            tenant,
            insert_posted(entry, tenant, company, [], line_count=2),
            insert_lines(tenant, entry, two),
        )
    assert refused(exc) == ("23514", "finance_journalentry_line_count")


def test_an_unbalanced_entry_inserted_as_posted_is_refused(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    lines = [usd(us.accounts["5000"], "100.00", "0"), usd(us.accounts["1000"], "0", "99.99")]
    entry = str(uuid.uuid4())
    with pytest.raises(DatabaseError) as exc:
        run(tenant, insert_posted(entry, tenant, company, lines))
    assert refused(exc) == ("23514", "finance_journalentry_balanced")
    assert entry in message(exc)
    assert run(tenant, ("SELECT count(*) FROM finance.journal_entries WHERE id = %s", [entry])) == [
        (0,)
    ]


def test_two_lines_that_balance_each_other_cannot_join_a_posted_entry(
    books: SimpleNamespace, us: Any, posted: Any
) -> None:
    """Balanced or not, a line added after the posting changes the entry: refused."""
    tenant = books.tenant.id
    pair = [usd(us.accounts["5000"], "1.00", "0"), usd(us.accounts["1000"], "0", "1.00")]
    with pytest.raises(DatabaseError) as exc:
        run(tenant, insert_lines(tenant, posted.pk, pair))
    assert refused(exc) == ("23514", "finance_journalline_posted_immutable")


def test_a_drafts_line_count_follows_its_lines(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    draft = raw_entry(tenant, company, [usd(us.accounts["5000"], "5.00", "0")], post=False)
    count = ("SELECT line_count FROM finance.journal_entries WHERE id = %s", [draft])
    assert run(tenant, count) == [(1,)]
    run(tenant, (INSERT_LINE, [tenant, draft, *usd(us.accounts["1000"], "0", "5.00")]))
    run(tenant, (INSERT_LINE, [tenant, draft, *usd(us.accounts["1000"], "0", "1.00")]))
    assert run(tenant, count) == [(3,)]
    run(
        tenant,
        (
            "DELETE FROM finance.journal_lines WHERE entry_id = %s AND debit = 0 AND credit = 1",
            [draft],
        ),
    )
    assert run(tenant, count) == [(2,)]
    # No statement sets it by hand (here, to claim the lines a posting should check): the finance
    # role has no UPDATE on the column (tests/security/test_ledger_bypass.py for the rest).
    for statement in (
        "UPDATE finance.journal_entries SET line_count = 5 WHERE id = %s",
        "UPDATE finance.journal_entries SET line_count = 5, status = 'POSTED' WHERE id = %s",
    ):
        with pytest.raises(DatabaseError) as exc:
            run(tenant, (statement, [draft]))
        assert refused(exc)[0] == "42501"
    assert run(tenant, (POST, [draft]))[0][0] is not None


# --- reversals -----------------------------------------------------------------------------


def test_a_reversal_is_the_exact_negation_and_only_one_is_allowed(
    books: SimpleNamespace, posted: Any
) -> None:
    tenant = books.tenant.id
    reversal = services.journal_reverse(actor=system(tenant), entry_id=posted.pk, entry_date=DAY)
    assert reversal.status == "POSTED" and reversal.posting_seq == posted.posting_seq + 1
    with pytest.raises(DatabaseError) as exc:
        run(tenant, (INSERT_ENTRY, [tenant, posted.company_id, DAY, "DRAFT", posted.pk]))
    assert refused(exc) == ("23505", "finance_journalentry_one_reversal")


@pytest.mark.usefixtures("posting")
def test_a_partial_reversal_is_refused(books: SimpleNamespace, us: Any, posted: Any) -> None:
    tenant, company = ids(books)
    with pytest.raises(DatabaseError) as exc:
        raw_entry(
            tenant,
            company,
            [usd(us.accounts["1000"], "50.00", "0"), usd(us.accounts["5000"], "0", "50.00")],
            reversal_of=posted.pk,
        )
    assert refused(exc) == ("23514", "finance_journalentry_reversal_exact")


@pytest.mark.usefixtures("posting")
def test_a_reversal_of_a_draft_is_refused(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    draft = raw_entry(tenant, company, [usd(us.accounts["5000"], "5.00", "0")], post=False)
    with pytest.raises(DatabaseError) as exc:
        raw_entry(
            tenant,
            company,
            [usd(us.accounts["1000"], "5.00", "0"), usd(us.accounts["5000"], "0", "5.00")],
            reversal_of=draft,
        )
    assert refused(exc) == ("23514", "finance_journalentry_reversal_target")


def test_a_reversal_must_be_dated_in_an_open_period(
    books: SimpleNamespace, us: Any, posted: Any
) -> None:
    tenant = books.tenant.id
    services.company_set_lock_dates(
        actor=system(tenant),
        company_id=us.company.pk,
        soft_lock_date=DAY,
        hard_lock_date=None,
    )
    with pytest.raises(services.ApplicationError) as exc:
        services.journal_reverse(actor=system(tenant), entry_id=posted.pk, entry_date=DAY)
    assert exc.value.extra["code"] == "finance_journalentry_lock_date"
    services.journal_reverse(
        actor=system(tenant), entry_id=posted.pk, entry_date=DAY + dt.timedelta(days=1)
    )


# --- lock dates ----------------------------------------------------------------------------


@pytest.mark.usefixtures("posting")
def test_nothing_posts_on_or_before_the_lock_date(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    run(tenant, ("UPDATE finance.companies SET hard_lock_date = %s WHERE id = %s", [DAY, company]))
    lines = [usd(us.accounts["5000"], "5.00", "0"), usd(us.accounts["1000"], "0", "5.00")]
    for day in (DAY, DAY - dt.timedelta(days=30)):
        with pytest.raises(DatabaseError) as exc:
            raw_entry(tenant, company, lines, day=day)
        assert refused(exc) == ("23514", "finance_journalentry_lock_date")
    raw_entry(tenant, company, lines, day=DAY + dt.timedelta(days=1))


@pytest.mark.usefixtures("posting")
def test_the_soft_lock_binds_too_but_can_move_back(books: SimpleNamespace, us: Any) -> None:
    tenant, company = ids(books)
    lines = [usd(us.accounts["5000"], "5.00", "0"), usd(us.accounts["1000"], "0", "5.00")]
    run(tenant, ("UPDATE finance.companies SET soft_lock_date = %s WHERE id = %s", [DAY, company]))
    with pytest.raises(DatabaseError):
        raw_entry(tenant, company, lines)
    run(tenant, ("UPDATE finance.companies SET soft_lock_date = NULL WHERE id = %s", [company]))
    raw_entry(tenant, company, lines)


@pytest.mark.parametrize("new", ["2026-03-09", None])
def test_the_hard_lock_only_moves_forward(books: SimpleNamespace, new: str | None) -> None:
    tenant, company = ids(books)
    run(tenant, ("UPDATE finance.companies SET hard_lock_date = %s WHERE id = %s", [DAY, company]))
    with pytest.raises(DatabaseError) as exc:
        run(
            tenant,
            ("UPDATE finance.companies SET hard_lock_date = %s WHERE id = %s", [new, company]),
        )
    assert refused(exc) == ("23514", "finance_company_hard_lock_forward")
    run(
        tenant,
        (
            "UPDATE finance.companies SET hard_lock_date = %s WHERE id = %s",
            [DAY + dt.timedelta(days=1), company],
        ),
    )


# --- gap-free numbering and balances --------------------------------------------------------


@pytest.mark.usefixtures("posting")
def test_posting_numbers_are_gap_free_even_after_a_refused_posting(
    books: SimpleNamespace, us: Any
) -> None:
    tenant, company = ids(books)
    first = post_simple(us)
    with pytest.raises(DatabaseError):
        raw_entry(tenant, company, [usd(us.accounts["5000"], "5.00", "0")])
    second = post_simple(us)
    assert (first.posting_seq, second.posting_seq) == (1, 2)
    # Numbers are per company.
    assert post_simple(books.eu).posting_seq == 1


def test_balances_are_read_only_for_the_runtime_role(books: SimpleNamespace, us: Any) -> None:
    post_simple(us)
    for sql in (
        "UPDATE finance.account_balances SET debit_total = 0",
        "DELETE FROM finance.account_balances",
        "UPDATE finance.posting_sequences SET last_seq = 0",
    ):
        with pytest.raises(DatabaseError) as exc:
            run(books.tenant.id, sql)
        assert refused(exc)[0] == "42501", sql


@pytest.mark.usefixtures("posting")
def test_balances_follow_postings_exactly(books: SimpleNamespace, us: Any) -> None:
    for amount in ("100.00", "0.01", "2500.50"):
        post_simple(us, amount)
    rows = run(
        books.tenant.id,
        (
            "SELECT debit_total, credit_total, line_count FROM finance.account_balances WHERE account_id = %s",
            [us.accounts["5000"].pk],
        ),
    )
    assert rows == [(Decimal("2600.51"), Decimal("0"), 3)]
