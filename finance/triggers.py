"""The ledger and payment invariants PostgreSQL enforces, whoever writes the rows.

Each function body below becomes a :class:`~aibos.db.triggers.GuardTrigger` on a model's
``Meta.triggers``: no pgtrigger ignore hook, functions owned by the owner role, and a pinned
``search_path`` (so every table is schema-qualified). Every refusal raises SQLSTATE 23514 (or
23P01 for overlaps) with ``CONSTRAINT`` set to a stable rule name, which the API maps to a 4xx
(``finance/errors.py``) and the tests assert on.

One source of truth: outside the journal bodies, a body is a function rendered when pgtrigger
compiles the trigger (:class:`~aibos.db.triggers.Rendered`), once every model exists. It takes
table names from the models' ``Meta.db_table``, status and decision literals from their enums,
and the payment, approval-matrix and settlement graphs from the ``transitions`` state machine
declared next to each ``Status`` enum, the same object the services check. The models import
this module, so the functions import the models only when they run. A migration freezes the
rendered text; ``makemigrations`` writes a new one when the text changes.

Concurrency, once for all of them (READ COMMITTED; every plpgsql statement takes a new snapshot):

- lines added to a draft update its ``line_count`` (a write, not only a lock: a REPEATABLE READ
  posting racing them fails to serialise instead of posting a stale set of lines), and posting
  updates the entry row, so a line can never slip into an entry between its balance check and its
  commit; a POSTED entry takes lines only from the statement that posted it;
- posting locks the company's posting-counter row (gap-free sequence) and the FX rates it uses
  (``FOR SHARE``), then the balance rows in account-id order (no deadlocks between entries that
  touch the same accounts);
- an approval locks its payment ``FOR UPDATE``: approvers racing for the last slot serialise,
  and the loser sees the payment already APPROVED.
"""

from __future__ import annotations

import re

import pgtrigger

from aibos.db.triggers import GuardTrigger, Rendered, sql_literal, sql_values, table

CHECK = "USING ERRCODE = '23514', CONSTRAINT = "


def word(value: str) -> str:
    """A status named inside a message literal: a bare word, so it needs no quoting and is no
    ``%`` placeholder."""
    if not re.fullmatch(r"[A-Za-z_]+", value):
        raise ValueError(f"{value!r} cannot be named in a trigger message")
    return str(value)


def refuse_truncate(name: str, table_label: str) -> GuardTrigger:
    """TRUNCATE is not granted to any runtime role; this stops the owner too."""
    return GuardTrigger(
        name=name,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        operation=pgtrigger.Truncate,
        func=f"RAISE EXCEPTION '{table_label} rows are final: TRUNCATE is refused' {CHECK}'{name}';",
    )


# --- companies ----------------------------------------------------------------------------


@Rendered
def company_lock_dates() -> str:
    from finance import models as m  # rendered once the models exist (they import this module)

    posted = sql_literal(m.JournalEntry.Status.POSTED)
    return f"""
IF OLD.hard_lock_date IS NOT NULL
   AND (NEW.hard_lock_date IS NULL OR NEW.hard_lock_date < OLD.hard_lock_date) THEN
    RAISE EXCEPTION 'company %: the hard lock date can only move forward (from % to %)',
        OLD.code, OLD.hard_lock_date, NEW.hard_lock_date {CHECK}'finance_company_hard_lock_forward';
END IF;
IF NEW.base_currency IS DISTINCT FROM OLD.base_currency AND EXISTS (
    SELECT 1 FROM {table(m.JournalEntry)} e
    WHERE e.tenant_id = OLD.tenant_id AND e.company_id = OLD.id AND e.status = {posted}
) THEN
    RAISE EXCEPTION 'company %: the base currency cannot change once entries are posted', OLD.code
        {CHECK}'finance_company_currency_fixed';
END IF;
RETURN NEW;
"""


# --- accounts ------------------------------------------------------------------------------


@Rendered
def account_fixed_once_used() -> str:
    from finance import models as m

    return f"""
IF (NEW.company_id, NEW.currency, NEW.type) IS DISTINCT FROM (OLD.company_id, OLD.currency, OLD.type)
   AND EXISTS (SELECT 1 FROM {table(m.AccountBalance)} b
               WHERE b.tenant_id = OLD.tenant_id AND b.account_id = OLD.id) THEN
    RAISE EXCEPTION 'account % has posted lines: its company, currency and type are fixed', OLD.code
        {CHECK}'finance_account_fixed_once_used';
END IF;
RETURN NEW;
"""


@Rendered
def bank_account_ledger_match() -> str:
    from finance import models as m

    return f"""
IF NOT EXISTS (
    SELECT 1 FROM {table(m.Account)} a
    WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.ledger_account_id
      AND a.company_id = NEW.company_id AND a.currency = NEW.currency AND a.type = {sql_literal(m.Account.Type.ASSET)}
) THEN
    RAISE EXCEPTION 'bank account %: its ledger account must be an asset account of the same company and currency', NEW.name
        {CHECK}'finance_bankaccount_ledger_match';
END IF;
RETURN NEW;
"""


# --- FX rates ------------------------------------------------------------------------------


# No exclusion constraint: `EXCLUDE USING gist (tenant_id WITH =, ...)` needs btree_gist, which
# the embedded PostgreSQL wheel does not ship. A per-pair advisory lock makes the check race-free.
@Rendered
def fxrate_guard() -> str:
    from finance import models as m

    return f"""
IF TG_OP IN ('UPDATE', 'DELETE') THEN
    SELECT max(e.entry_date) INTO last_used
    FROM {table(m.JournalLine)} l
    JOIN {table(m.JournalEntry)} e ON e.tenant_id = l.tenant_id AND e.id = l.entry_id
    WHERE l.tenant_id = OLD.tenant_id AND l.fx_rate_id = OLD.id AND e.status = {sql_literal(m.JournalEntry.Status.POSTED)};
    IF last_used IS NOT NULL THEN
        IF TG_OP = 'DELETE'
           OR (NEW.base, NEW.quote, NEW.rate, NEW.valid_from) IS DISTINCT FROM (OLD.base, OLD.quote, OLD.rate, OLD.valid_from)
           OR OLD.valid_to IS NOT NULL AND NEW.valid_to IS DISTINCT FROM OLD.valid_to
           OR NEW.valid_to <= last_used THEN
            RAISE EXCEPTION 'FX rate % %/% is used by posted entries (last on %): it can only be closed after that date',
                OLD.id, OLD.base, OLD.quote, last_used {CHECK}'finance_fxrate_frozen_once_used';
        END IF;
    END IF;
END IF;
IF TG_OP = 'DELETE' THEN
    RETURN OLD;
END IF;
PERFORM pg_advisory_xact_lock(hashtextextended(NEW.tenant_id::text || NEW.base || NEW.quote, 0));
IF EXISTS (
    SELECT 1 FROM {table(m.FxRate)} r
    WHERE r.tenant_id = NEW.tenant_id AND r.base = NEW.base AND r.quote = NEW.quote AND r.id <> NEW.id
      AND daterange(r.valid_from, r.valid_to, '[)') && daterange(NEW.valid_from, NEW.valid_to, '[)')
) THEN
    RAISE EXCEPTION 'FX rate %/% from % overlaps an existing rate for the pair', NEW.base, NEW.quote, NEW.valid_from
        USING ERRCODE = '23P01', CONSTRAINT = 'finance_fxrate_no_overlap';
END IF;
RETURN NEW;
"""


# --- journal entries -----------------------------------------------------------------------

# Two ways to post, one set of rules: INSERT an entry as POSTED together with its lines in the
# same statement (one round trip: finance.journal_entry_create), or UPDATE a draft to POSTED.
# Either way the guard below dates and numbers it and entry_check, once the statement's rows are
# all in, checks its lines, books the balances and (for an INSERT) writes its audit event.
# `line_count` is the number of the entry's lines, kept by the database (no statement may set it
# but the line triggers): the check compares it with the lines it finds, and once the entry is
# POSTED no line can be added (lines_added), taken away or changed (line_guard), so the lines a
# posting was checked with are its lines forever. (The SQL comments call the line trigger
# LINES_ADDED, its name when the migration froze them.)


# Runs as the owner (SECURITY DEFINER): it writes the posting counter, which the runtime role
# may only read. Still bound by FORCE RLS: it sees the active tenant's rows only.
@Rendered
def entry_guard() -> str:
    from finance import models as m  # rendered once the models exist

    companies = table(m.Company)
    sequences = table(m.PostingSequence)
    posted = sql_literal(m.JournalEntry.Status.POSTED)
    return f"""
IF TG_OP = 'DELETE' THEN
    IF OLD.status = {posted} THEN
        RAISE EXCEPTION 'journal entry % is POSTED and cannot be deleted; correct it with a reversal', OLD.id
            {CHECK}'finance_journalentry_posted_immutable';
    END IF;
    RETURN OLD;
END IF;
IF TG_OP = 'UPDATE' AND OLD.status = {posted} THEN
    RAISE EXCEPTION 'journal entry % is POSTED and cannot be changed; correct it with a reversal', OLD.id
        {CHECK}'finance_journalentry_posted_immutable';
END IF;
IF TG_OP = 'UPDATE' AND NEW.line_count IS DISTINCT FROM OLD.line_count AND pg_trigger_depth() < 2 THEN
    -- Only the line triggers (depth 2: their UPDATE fires this guard) change it.
    RAISE EXCEPTION 'the line count of journal entry % is kept by the database', OLD.id
        {CHECK}'finance_journalentry_line_count';
END IF;
IF NEW.status IS DISTINCT FROM {posted} THEN
    -- A draft carries nothing of a posting, whatever the statement said; a new one starts with
    -- no lines (lines inserted with it are counted in by LINES_ADDED).
    NEW.posting_seq := NULL;
    NEW.posted_at := NULL;
    NEW.posted_by := '';
    IF TG_OP = 'INSERT' THEN
        NEW.line_count := 0;
    END IF;
    RETURN NEW;
END IF;

SELECT GREATEST(c.soft_lock_date, c.hard_lock_date) INTO v_lock
  FROM {companies} c
 WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.company_id
   FOR SHARE;  -- a lock date cannot move under a posting in flight
IF v_lock IS NOT NULL AND NEW.entry_date <= v_lock THEN
    RAISE EXCEPTION 'journal entry %: % is on or before the lock date % of its company', NEW.id, NEW.entry_date, v_lock
        {CHECK}'finance_journalentry_lock_date';
END IF;
IF NEW.line_count < 2 THEN
    RAISE EXCEPTION 'journal entry % has % line(s); a posted entry needs at least two', NEW.id, NEW.line_count
        {CHECK}'finance_journalentry_min_lines';
END IF;
-- Gap-free: the counter row is locked until commit; a rollback gives the number back.
INSERT INTO {sequences} AS s (tenant_id, company_id, last_seq)
VALUES (NEW.tenant_id, NEW.company_id, 1)
ON CONFLICT (tenant_id, company_id) DO UPDATE SET last_seq = s.last_seq + 1, updated_at = now()
RETURNING s.last_seq INTO NEW.posting_seq;
NEW.posted_at := now();
NEW.posted_by := COALESCE(NULLIF(current_setting('app.actor', true), ''), 'db:' || session_user);
RETURN NEW;
"""


ENTRY_GUARD_DECLARE = [("v_lock", "date")]


# AFTER the statement's rows are in (so an entry inserted as POSTED sees the lines inserted with
# it), as the owner: the balances are read-only for the runtime role, and the audit event of an
# entry's INSERT is written here so that a posted entry's event carries its lines.
@Rendered
def entry_check() -> str:
    from finance import models as m  # rendered once the models exist

    entries = table(m.JournalEntry)
    lines = table(m.JournalLine)
    companies = table(m.Company)
    accounts = table(m.Account)
    fx_rates = table(m.FxRate)
    balances = table(m.AccountBalance)
    posted = sql_literal(m.JournalEntry.Status.POSTED)
    draft = sql_literal(m.JournalEntry.Status.DRAFT)
    return f"""
IF NEW.status = {draft} THEN
    -- A new draft: audited here like a posted entry, its lines by LINES_ADDED.
    PERFORM "kernel".audit_record(NEW.tenant_id, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.id::text,
        TG_OP, NULL, to_jsonb(NEW), NULL);
    RETURN NULL;
END IF;

SELECT c.base_currency INTO v_base FROM {companies} c
 WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.company_id;
v_lines := 0; v_debit := 0; v_credit := 0; v_foreign := 0;
FOR rec IN
    -- Lines first, by their entry (MATERIALIZED: the plan must not start from accounts and
    -- filter every line of each account, whatever the statistics say).
    WITH l AS MATERIALIZED (
        SELECT * FROM {lines} jl
         WHERE jl.tenant_id = NEW.tenant_id AND jl.entry_id = NEW.id
    )
    SELECT l.currency,
           count(*) AS n,
           sum(l.debit) AS debit,
           sum(l.credit) AS credit,
           sum(CASE WHEN l.debit > 0 THEN l.txn_amount ELSE -l.txn_amount END) AS txn_net,
           count(*) FILTER (WHERE a.company_id <> NEW.company_id OR a.currency <> l.currency OR NOT a.is_active) AS bad_account,
           count(*) FILTER (WHERE NOT CASE WHEN l.currency = v_base
                THEN l.fx_rate_id IS NULL AND l.fx_rate = 1 AND l.debit + l.credit = l.txn_amount
                ELSE l.fx_rate_id IS NOT NULL AND l.debit + l.credit = round(l.txn_amount * l.fx_rate, "finance".currency_exponent(v_base))
           END) AS bad_amount
      FROM l
      JOIN {accounts} a ON a.tenant_id = l.tenant_id AND a.id = l.account_id
     GROUP BY l.currency
LOOP
    IF rec.bad_account > 0 THEN
        RAISE EXCEPTION 'journal entry %: % line(s) in % use an account of another company, of another currency or inactive',
            NEW.id, rec.bad_account, rec.currency {CHECK}'finance_journalline_account_match';
    END IF;
    IF rec.bad_amount > 0 THEN
        RAISE EXCEPTION 'journal entry %: % line(s) in % do not convert to % at their stored rate (rounded to % decimals)',
            NEW.id, rec.bad_amount, rec.currency, v_base, "finance".currency_exponent(v_base)
            {CHECK}'finance_journalline_conversion';
    END IF;
    IF rec.txn_net <> 0 THEN
        RAISE EXCEPTION 'journal entry % does not balance in %: debits exceed credits by %', NEW.id, rec.currency, rec.txn_net
            {CHECK}'finance_journalentry_balanced';
    END IF;
    v_lines := v_lines + rec.n;
    v_debit := v_debit + rec.debit;
    v_credit := v_credit + rec.credit;
    IF rec.currency <> v_base THEN
        v_foreign := v_foreign + rec.n;
    END IF;
END LOOP;
IF v_lines <> NEW.line_count THEN
    RAISE EXCEPTION 'journal entry % has % line(s), not the % it records', NEW.id, v_lines, NEW.line_count
        {CHECK}'finance_journalentry_line_count';
END IF;
IF v_debit <> v_credit THEN
    RAISE EXCEPTION 'journal entry % does not balance in %: debits % <> credits %', NEW.id, v_base, v_debit, v_credit
        {CHECK}'finance_journalentry_balanced';
END IF;

IF NEW.reversal_of_id IS NOT NULL THEN
    SELECT e.status, e.company_id, e.entry_date INTO v_target_status, v_target_company, v_target_date
      FROM {entries} e
     WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.reversal_of_id;
    IF v_target_status IS DISTINCT FROM {posted} OR v_target_company <> NEW.company_id
       OR NEW.entry_date < v_target_date THEN
        RAISE EXCEPTION 'journal entry % can only reverse a POSTED entry of its company dated on or before it', NEW.id
            {CHECK}'finance_journalentry_reversal_target';
    END IF;
    IF EXISTS (
        (SELECT account_id, credit, debit, currency, txn_amount, fx_rate_id, fx_rate
           FROM {lines} WHERE tenant_id = NEW.tenant_id AND entry_id = NEW.reversal_of_id
         EXCEPT ALL
         SELECT account_id, debit, credit, currency, txn_amount, fx_rate_id, fx_rate
           FROM {lines} WHERE tenant_id = NEW.tenant_id AND entry_id = NEW.id)
        UNION ALL
        (SELECT account_id, debit, credit, currency, txn_amount, fx_rate_id, fx_rate
           FROM {lines} WHERE tenant_id = NEW.tenant_id AND entry_id = NEW.id
         EXCEPT ALL
         SELECT account_id, credit, debit, currency, txn_amount, fx_rate_id, fx_rate
           FROM {lines} WHERE tenant_id = NEW.tenant_id AND entry_id = NEW.reversal_of_id)
    ) THEN
        RAISE EXCEPTION 'journal entry % is not the exact negation of entry %', NEW.id, NEW.reversal_of_id
            {CHECK}'finance_journalentry_reversal_exact';
    END IF;
ELSIF v_foreign > 0 THEN
    -- Lock the rates used: none can change between this check and our commit.
    PERFORM 1 FROM {fx_rates} r
     WHERE r.tenant_id = NEW.tenant_id AND r.id IN (
        SELECT l.fx_rate_id FROM {lines} l
         WHERE l.tenant_id = NEW.tenant_id AND l.entry_id = NEW.id AND l.fx_rate_id IS NOT NULL)
     ORDER BY r.id
     FOR SHARE;
    SELECT count(*) INTO v_bad_rates
      FROM {lines} l
      JOIN {fx_rates} r ON r.tenant_id = l.tenant_id AND r.id = l.fx_rate_id
     WHERE l.tenant_id = NEW.tenant_id AND l.entry_id = NEW.id
       AND NOT (r.base = l.currency AND r.quote = v_base AND r.rate = l.fx_rate
                AND r.valid_from <= NEW.entry_date AND (r.valid_to IS NULL OR NEW.entry_date < r.valid_to));
    IF v_bad_rates > 0 THEN
        RAISE EXCEPTION 'journal entry %: % line(s) use an FX rate that is not the rate into % valid on %',
            NEW.id, v_bad_rates, v_base, NEW.entry_date {CHECK}'finance_journalline_fx_rate';
    END IF;
END IF;

-- Book the balances, in account-id order so that concurrent postings lock them in the same
-- order (no deadlock).
INSERT INTO {balances} AS b
       (tenant_id, account_id, company_id, debit_total, credit_total, txn_balance, line_count)
SELECT NEW.tenant_id, l.account_id, NEW.company_id, sum(l.debit), sum(l.credit),
       sum(CASE WHEN l.debit > 0 THEN l.txn_amount ELSE -l.txn_amount END), count(*)
  FROM {lines} l
 WHERE l.tenant_id = NEW.tenant_id AND l.entry_id = NEW.id
 GROUP BY l.account_id
 ORDER BY l.account_id
ON CONFLICT (tenant_id, account_id) DO UPDATE SET
    debit_total = b.debit_total + EXCLUDED.debit_total,
    credit_total = b.credit_total + EXCLUDED.credit_total,
    txn_balance = b.txn_balance + EXCLUDED.txn_balance,
    line_count = b.line_count + EXCLUDED.line_count,
    version = b.version + 1,
    updated_at = now();

IF TG_OP = 'INSERT' THEN
    -- One event for the entry and every line it was posted with (docs/security.md).
    PERFORM "kernel".audit_record(NEW.tenant_id, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.id::text, TG_OP,
        NULL,
        to_jsonb(NEW) || jsonb_build_object('lines', (
            SELECT jsonb_agg(to_jsonb(l) ORDER BY l.line_no, l.id) FROM {lines} l
             WHERE l.tenant_id = NEW.tenant_id AND l.entry_id = NEW.id)),
        NULL);
END IF;
RETURN NULL;
"""


ENTRY_CHECK_DECLARE = [
    ("v_base", "text"),
    ("rec", "record"),
    ("v_lines", "bigint"),
    ("v_foreign", "bigint"),
    ("v_bad_rates", "bigint"),
    ("v_debit", "numeric"),
    ("v_credit", "numeric"),
    ("v_target_status", "text"),
    ("v_target_company", "uuid"),
    ("v_target_date", "date"),
]

# --- journal lines -------------------------------------------------------------------------


@Rendered
def line_guard() -> str:
    from finance import models as m  # rendered once the models exist

    entries = table(m.JournalEntry)
    posted = sql_literal(m.JournalEntry.Status.POSTED)
    return f"""
SELECT e.status INTO v_status FROM {entries} e
 WHERE e.tenant_id = OLD.tenant_id AND e.id = OLD.entry_id FOR SHARE;
IF v_status = {posted} THEN
    RAISE EXCEPTION 'journal line % belongs to POSTED entry % and cannot be %', OLD.id, OLD.entry_id,
        CASE TG_OP WHEN 'DELETE' THEN 'deleted' ELSE 'changed' END
        {CHECK}'finance_journalline_posted_immutable';
END IF;
IF TG_OP = 'DELETE' THEN
    RETURN OLD;
END IF;
IF NEW.entry_id IS DISTINCT FROM OLD.entry_id THEN
    SELECT e.status INTO v_status FROM {entries} e
     WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.entry_id FOR SHARE;
    IF v_status = {posted} THEN
        RAISE EXCEPTION 'journal entry % is POSTED: no line can be added to it', NEW.entry_id
            {CHECK}'finance_journalline_posted_immutable';
    END IF;
END IF;
RETURN NEW;
"""


# Once per INSERT statement, over its rows (transition table `new_lines`), as the owner (it keeps
# `line_count` and writes audit events). A POSTED entry takes lines only from the statement that
# posted it, and then their number is the one it records; any later line changes that number and
# is refused. A draft's count goes up by the lines added — an UPDATE, which also locks it: a
# posting waits for this insert, or this insert waits for the posting and then sees it POSTED —
# and each new line is audited.
@Rendered
def lines_added() -> str:
    from finance import models as m  # rendered once the models exist

    entries = table(m.JournalEntry)
    lines = table(m.JournalLine)
    posted = sql_literal(m.JournalEntry.Status.POSTED)
    draft = sql_literal(m.JournalEntry.Status.DRAFT)
    return f"""
FOR rec IN SELECT n.tenant_id, n.entry_id, count(*) AS added FROM new_lines n
            GROUP BY n.tenant_id, n.entry_id ORDER BY n.entry_id
LOOP
    UPDATE {entries} e SET line_count = e.line_count + rec.added
     WHERE e.tenant_id = rec.tenant_id AND e.id = rec.entry_id AND e.status = {draft};
    IF FOUND THEN
        PERFORM "kernel".audit_record(n.tenant_id, TG_TABLE_SCHEMA, TG_TABLE_NAME, n.id::text,
                TG_OP, NULL, to_jsonb(n), NULL)
           FROM new_lines n
          WHERE n.tenant_id = rec.tenant_id AND n.entry_id = rec.entry_id;
        CONTINUE;
    END IF;
    SELECT e.line_count INTO v_recorded FROM {entries} e
     WHERE e.tenant_id = rec.tenant_id AND e.id = rec.entry_id AND e.status = {posted};
    CONTINUE WHEN NOT FOUND;  -- no such entry: its foreign key refuses the statement
    SELECT count(*) INTO v_lines FROM {lines} l
     WHERE l.tenant_id = rec.tenant_id AND l.entry_id = rec.entry_id;
    IF v_lines <> v_recorded THEN
        RAISE EXCEPTION 'journal entry % is POSTED with % line(s): no line can be added to it',
            rec.entry_id, v_recorded {CHECK}'finance_journalline_posted_immutable';
    END IF;
    -- Posted by this very statement: the entry's audit event carries these lines.
END LOOP;
RETURN NULL;
"""


LINES_ADDED_DECLARE = [
    ("rec", "record"),
    ("v_recorded", "integer"),
    ("v_lines", "integer"),
]


# Draft lines are replaced by DELETE + INSERT: the drafts' counts go down (line_guard has already
# refused the rows of POSTED entries).
@Rendered
def lines_removed() -> str:
    from finance import models as m  # rendered once the models exist

    entries = table(m.JournalEntry)
    draft = sql_literal(m.JournalEntry.Status.DRAFT)
    return f"""
UPDATE {entries} e SET line_count = e.line_count - o.removed
  FROM (SELECT tenant_id, entry_id, count(*) AS removed FROM old_lines GROUP BY tenant_id, entry_id) o
 WHERE e.tenant_id = o.tenant_id AND e.id = o.entry_id AND e.status = {draft};
RETURN NULL;
"""


# --- approval matrices ---------------------------------------------------------------------


@Rendered
def matrix_guard() -> str:
    from finance import models as m

    status, graph = m.ApprovalMatrix.Status, m.ApprovalMatrix.transitions
    draft = sql_literal(status.DRAFT)
    return f"""
IF TG_OP = 'INSERT' THEN
    IF NEW.status <> {sql_literal(graph.initial)} THEN
        RAISE EXCEPTION 'approval matrix % must be inserted as {word(graph.initial)} and activated by an UPDATE', NEW.id
            {CHECK}'finance_approvalmatrix_insert_draft';
    END IF;
    RETURN NEW;
END IF;
IF TG_OP = 'DELETE' THEN
    IF OLD.status <> {draft} THEN
        RAISE EXCEPTION 'approval matrix % is %: only drafts can be deleted', OLD.id, OLD.status
            {CHECK}'finance_approvalmatrix_frozen';
    END IF;
    RETURN OLD;
END IF;
IF (to_jsonb(NEW) - ARRAY['status', 'activated_at', 'retired_at', 'updated_at'])
   IS DISTINCT FROM (to_jsonb(OLD) - ARRAY['status', 'activated_at', 'retired_at', 'updated_at'])
   AND OLD.status <> {draft} THEN
    RAISE EXCEPTION 'approval matrix % is %: it cannot be edited; create a new version', OLD.id, OLD.status
        {CHECK}'finance_approvalmatrix_frozen';
END IF;
IF NEW.status IS DISTINCT FROM OLD.status THEN
    -- The graph is ApprovalMatrix.transitions (finance/models/payments.py).
    IF (OLD.status, NEW.status) NOT IN {sql_values(graph.pairs)} THEN
        RAISE EXCEPTION 'approval matrix %: % -> % is not an allowed transition', OLD.id, OLD.status, NEW.status
            {CHECK}'finance_approvalmatrix_transition';
    END IF;
    IF NEW.status = {sql_literal(status.ACTIVE)} THEN
        -- The bands must tile [0, infinity): start at 0, each begins where the previous ends,
        -- and only the last is open-ended.
        SELECT count(*),
               bool_and(CASE WHEN prev_max IS NULL THEN rn = 1 AND min_amount = 0 ELSE min_amount = prev_max END),
               bool_and((max_amount IS NULL) = (rn = total))
          INTO v_count, v_contiguous, v_open_last
          FROM (SELECT min_amount, max_amount,
                       lag(max_amount) OVER w AS prev_max,
                       row_number() OVER w AS rn,
                       count(*) OVER () AS total
                  FROM {table(m.ApprovalBand)}
                 WHERE tenant_id = NEW.tenant_id AND matrix_id = NEW.id
                WINDOW w AS (ORDER BY min_amount)) bands;
        IF v_count = 0 OR NOT v_contiguous OR NOT v_open_last THEN
            RAISE EXCEPTION 'approval matrix %: its bands must cover [0, infinity) without gaps or overlaps', NEW.id
                {CHECK}'finance_approvalmatrix_coverage';
        END IF;
        NEW.activated_at := now();
    ELSIF NEW.status = {sql_literal(status.RETIRED)} THEN
        NEW.retired_at := now();
    END IF;
END IF;
RETURN NEW;
"""


MATRIX_GUARD_DECLARE = [
    ("v_count", "bigint"),
    ("v_contiguous", "boolean"),
    ("v_open_last", "boolean"),
]


@Rendered
def band_guard() -> str:
    from finance import models as m

    return f"""
SELECT m.status INTO v_status FROM {table(m.ApprovalMatrix)} m
 WHERE m.tenant_id = COALESCE(NEW.tenant_id, OLD.tenant_id) AND m.id = COALESCE(NEW.matrix_id, OLD.matrix_id)
   FOR UPDATE;  -- serialises band edits of one matrix, so the overlap check below is race-free
IF v_status IS DISTINCT FROM {sql_literal(m.ApprovalMatrix.Status.DRAFT)} THEN
    RAISE EXCEPTION 'approval matrix % is %: its bands cannot change', COALESCE(NEW.matrix_id, OLD.matrix_id), v_status
        {CHECK}'finance_approvalmatrix_frozen';
END IF;
IF TG_OP = 'DELETE' THEN
    RETURN OLD;
END IF;
IF EXISTS (
    SELECT 1 FROM {table(m.ApprovalBand)} b
     WHERE b.tenant_id = NEW.tenant_id AND b.matrix_id = NEW.matrix_id AND b.id <> NEW.id
       AND numrange(b.min_amount, b.max_amount, '[)') && numrange(NEW.min_amount, NEW.max_amount, '[)')
) THEN
    RAISE EXCEPTION 'approval band [%, %) overlaps another band of matrix %', NEW.min_amount,
        COALESCE(NEW.max_amount::text, 'infinity'), NEW.matrix_id
        USING ERRCODE = '23P01', CONSTRAINT = 'finance_approvalband_no_overlap';
END IF;
RETURN NEW;
"""


# --- payments ------------------------------------------------------------------------------

# Columns that may change after DRAFT; everything else (amount, accounts, the policy snapshot)
# is frozen from submission on.
PAYMENT_MUTABLE = (
    "ARRAY['status', 'submitted_at', 'decided_at', 'paid_at', 'cancelled_at', "
    "'journal_entry_id', 'updated_at', 'version']"
)


@Rendered
def payment_guard() -> str:
    from finance import models as m

    status, graph = m.Payment.Status, m.Payment.transitions
    draft = sql_literal(status.DRAFT)
    approve = sql_literal(m.PaymentApproval.Decision.APPROVE)
    reject = sql_literal(m.PaymentApproval.Decision.REJECT)
    return f"""
IF TG_OP = 'INSERT' THEN
    IF NEW.status <> {sql_literal(graph.initial)} THEN
        RAISE EXCEPTION 'payment % must be inserted as {word(graph.initial)}', NEW.id {CHECK}'finance_payment_insert_draft';
    END IF;
ELSE
    IF OLD.status <> {draft}
       AND (to_jsonb(NEW) - {PAYMENT_MUTABLE}) IS DISTINCT FROM (to_jsonb(OLD) - {PAYMENT_MUTABLE}) THEN
        RAISE EXCEPTION 'payment % is %: its amount, accounts and approval policy are frozen', OLD.id, OLD.status
            {CHECK}'finance_payment_frozen';
    END IF;
    -- The graph is Payment.transitions (finance/models/payments.py), which the services check.
    IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN {sql_values(graph.pairs)} THEN
        RAISE EXCEPTION 'payment %: % -> % is not an allowed transition', OLD.id, OLD.status, NEW.status
            {CHECK}'finance_payment_transition';
    END IF;
    IF OLD.status <> {draft} AND NEW.status IS NOT DISTINCT FROM OLD.status
       AND NEW.journal_entry_id IS DISTINCT FROM OLD.journal_entry_id THEN
        RAISE EXCEPTION 'payment %: its journal entry is set only when it is marked {word(status.PAID)}', OLD.id
            {CHECK}'finance_payment_frozen';
    END IF;
END IF;

IF NEW.status = {draft} THEN
    IF NOT EXISTS (
        SELECT 1 FROM {table(m.BankAccount)} ba
         WHERE ba.tenant_id = NEW.tenant_id AND ba.id = NEW.bank_account_id
           AND ba.company_id = NEW.company_id AND ba.currency = NEW.currency AND ba.is_active
    ) OR NOT EXISTS (
        SELECT 1 FROM {table(m.Account)} a
         WHERE a.tenant_id = NEW.tenant_id AND a.id = NEW.debit_account_id
           AND a.company_id = NEW.company_id AND a.currency = NEW.currency AND a.is_active
    ) THEN
        RAISE EXCEPTION 'payment %: its bank account and debit account must be active, of company % and in %',
            NEW.id, NEW.company_id, NEW.currency {CHECK}'finance_payment_accounts';
    END IF;
    RETURN NEW;
END IF;
IF TG_OP = 'INSERT' OR NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NEW;
END IF;

IF NEW.status = {sql_literal(status.SUBMITTED)} THEN
    -- The snapshot must be exactly the band of the company's ACTIVE matrix that holds the amount.
    IF NOT EXISTS (
        SELECT 1 FROM {table(m.ApprovalBand)} b
          JOIN {table(m.ApprovalMatrix)} m ON m.tenant_id = b.tenant_id AND m.id = b.matrix_id
         WHERE b.tenant_id = NEW.tenant_id AND b.id = NEW.policy_band_id AND m.id = NEW.policy_matrix_id
           AND m.status = {sql_literal(m.ApprovalMatrix.Status.ACTIVE)} AND m.company_id = NEW.company_id AND m.payment_type = NEW.payment_type
           AND m.currency = NEW.policy_currency
           AND b.min_amount <= NEW.policy_amount AND (b.max_amount IS NULL OR NEW.policy_amount < b.max_amount)
           AND b.required_approvals = NEW.required_approvals
           AND b.approver_roles = NEW.approver_roles AND b.required_roles = NEW.required_roles
    ) OR NOT (CASE WHEN NEW.policy_currency = NEW.currency
            THEN NEW.policy_amount = NEW.amount AND NEW.policy_fx_rate_id IS NULL
            ELSE NEW.policy_amount = round(NEW.amount * NEW.policy_fx_rate, "finance".currency_exponent(NEW.policy_currency))
                 AND EXISTS (SELECT 1 FROM {table(m.FxRate)} r
                              WHERE r.tenant_id = NEW.tenant_id AND r.id = NEW.policy_fx_rate_id
                                AND r.base = NEW.currency AND r.quote = NEW.policy_currency
                                AND r.rate = NEW.policy_fx_rate)
         END) THEN
        RAISE EXCEPTION 'payment %: the approval policy snapshot does not match the active approval matrix', NEW.id
            {CHECK}'finance_payment_policy_snapshot';
    END IF;
    NEW.submitted_at := now();
ELSIF NEW.status = {sql_literal(status.APPROVED)} THEN
    SELECT count(*) FILTER (WHERE decision = {approve}),
           count(*) FILTER (WHERE decision = {reject}),
           array_agg(approver_role) FILTER (WHERE decision = {approve})
      INTO v_approvals, v_rejections, v_roles
      FROM {table(m.PaymentApproval)}
     WHERE tenant_id = NEW.tenant_id AND payment_id = NEW.id
       AND approval_grant IS NOT NULL;  -- only decisions proven by an identity-plane grant count
    IF v_rejections > 0 OR v_approvals < NEW.required_approvals
       OR NOT (NEW.required_roles::text[] <@ COALESCE(v_roles, ARRAY[]::text[])) THEN
        RAISE EXCEPTION 'payment % has % of % approvals (required roles %, present %, rejections %)',
            NEW.id, v_approvals, NEW.required_approvals, NEW.required_roles, COALESCE(v_roles, ARRAY[]::text[]), v_rejections
            {CHECK}'finance_payment_quorum';
    END IF;
    NEW.decided_at := now();
ELSIF NEW.status = {sql_literal(status.REJECTED)} THEN
    IF NOT EXISTS (SELECT 1 FROM {table(m.PaymentApproval)}
                    WHERE tenant_id = NEW.tenant_id AND payment_id = NEW.id AND decision = {reject}
                      AND approval_grant IS NOT NULL) THEN
        RAISE EXCEPTION 'payment % can only be {word(status.REJECTED)} by a recorded rejection', NEW.id
            {CHECK}'finance_payment_quorum';
    END IF;
    NEW.decided_at := now();
ELSIF NEW.status = {sql_literal(status.PAID)} THEN
    IF NOT EXISTS (
        SELECT 1 FROM {table(m.JournalEntry)} e
         WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.journal_entry_id
           AND e.company_id = NEW.company_id AND e.status = {sql_literal(m.JournalEntry.Status.POSTED)}
    ) THEN
        RAISE EXCEPTION 'payment % can only be {word(status.PAID)} with a {word(m.JournalEntry.Status.POSTED)} journal entry of its company', NEW.id
            {CHECK}'finance_payment_paid_entry';
    END IF;
    NEW.paid_at := now();
ELSIF NEW.status = {sql_literal(status.CANCELLED)} THEN
    NEW.cancelled_at := now();
END IF;
RETURN NEW;
"""


PAYMENT_GUARD_DECLARE = [
    ("v_approvals", "bigint"),
    ("v_rejections", "bigint"),
    ("v_roles", "text[]"),
]


def approval_proof() -> str:
    """The proof an approval carries: the approver is an active user of the tenant who holds the
    role, and the identity plane signed a grant for exactly this (tenant, payment, approver,
    role, decision) that has not expired.

    Runs inside the approval guard, which is SECURITY DEFINER: the owner may read kernel users
    and roles and execute kernel.approval_grant_signature (which reads the key); the finance
    role may do none of it. Still under FORCE RLS, and filtered explicitly on the row's tenant.
    Each refusal has its own rule name.
    """
    from kernel import models as k

    return f"""
IF NEW.approver ~ '^user:[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$' THEN
    v_user := substr(NEW.approver, 6)::uuid;
END IF;
IF v_user IS NULL OR NOT EXISTS (
    SELECT 1 FROM {table(k.User)} u
     WHERE u.tenant_id = NEW.tenant_id AND u.id = v_user AND u.is_active AND u.deleted_at IS NULL
) THEN
    RAISE EXCEPTION 'approver % is not an active user of this tenant', NEW.approver
        {CHECK}'finance_paymentapproval_approver_unknown';
END IF;
IF NOT EXISTS (
    SELECT 1 FROM {table(k.UserRole)} ur
      JOIN {table(k.Role)} r ON r.tenant_id = ur.tenant_id AND r.id = ur.role_id
     WHERE ur.tenant_id = NEW.tenant_id AND ur.user_id = v_user
       AND r.name = NEW.approver_role AND r.deleted_at IS NULL
) THEN
    RAISE EXCEPTION 'approver % does not hold role %', NEW.approver, NEW.approver_role
        {CHECK}'finance_paymentapproval_role_not_held';
END IF;
IF NEW.approval_grant IS NULL OR jsonb_typeof(NEW.approval_grant) <> 'object' THEN
    RAISE EXCEPTION 'the decision of % on payment % carries no approval grant from the identity plane',
        NEW.approver, NEW.payment_id {CHECK}'finance_paymentapproval_grant_missing';
END IF;
IF NEW.approval_grant ->> 'payment' IS DISTINCT FROM NEW.payment_id::text THEN
    RAISE EXCEPTION 'the approval grant was issued for payment %, not for payment %',
        COALESCE(NEW.approval_grant ->> 'payment', 'none'), NEW.payment_id
        {CHECK}'finance_paymentapproval_grant_other_payment';
END IF;
IF (NEW.approval_grant ->> 'tenant', NEW.approval_grant ->> 'approver', NEW.approval_grant ->> 'role',
    NEW.approval_grant ->> 'decision')
   IS DISTINCT FROM (NEW.tenant_id::text, NEW.approver, NEW.approver_role, NEW.decision) THEN
    RAISE EXCEPTION 'the approval grant was issued for another tenant, approver, role or decision (%, %, %)',
        NEW.approval_grant ->> 'approver', NEW.approval_grant ->> 'role', NEW.approval_grant ->> 'decision'
        {CHECK}'finance_paymentapproval_grant_mismatch';
END IF;
IF COALESCE(NEW.approval_grant ->> 'expires', '') ~ '^[0-9]{{1,12}}$' THEN
    v_expires := (NEW.approval_grant ->> 'expires')::bigint;
END IF;
IF v_expires IS NULL OR NEW.approval_grant ->> 'signature' IS DISTINCT FROM "kernel".approval_grant_signature(
        NEW.tenant_id, NEW.payment_id, NEW.approver, NEW.approver_role, NEW.decision, v_expires) THEN
    RAISE EXCEPTION 'the approval grant for % on payment % has no valid signature', NEW.approver, NEW.payment_id
        {CHECK}'finance_paymentapproval_grant_signature';
END IF;
IF v_expires <= extract(epoch FROM clock_timestamp()) THEN
    RAISE EXCEPTION 'the approval grant for % on payment % expired at %', NEW.approver, NEW.payment_id,
        to_timestamp(v_expires) {CHECK}'finance_paymentapproval_grant_expired';
END IF;
"""


@Rendered
def approval_guard() -> str:
    from finance import models as m

    submitted = sql_literal(m.Payment.Status.SUBMITTED)
    approve = sql_literal(m.PaymentApproval.Decision.APPROVE)
    return f"""
-- FOR UPDATE: approvers racing for the last slot queue here; the loser sees the outcome.
SELECT p.status, p.required_approvals, p.approver_roles, p.required_roles
  INTO v_status, v_required, v_eligible, v_required_roles
  FROM {table(m.Payment)} p
 WHERE p.tenant_id = NEW.tenant_id AND p.id = NEW.payment_id
   FOR UPDATE;
IF v_status IS DISTINCT FROM {submitted} THEN
    RAISE EXCEPTION 'payment % is % and no longer awaits approval', NEW.payment_id, COALESCE(v_status, 'missing')
        {CHECK}'finance_paymentapproval_open';
END IF;
{approval_proof()}IF NOT (NEW.approver_role = ANY(v_eligible)) THEN
    RAISE EXCEPTION 'role % may not approve payment % (eligible: %)', NEW.approver_role, NEW.payment_id, v_eligible
        {CHECK}'finance_paymentapproval_role';
END IF;
SELECT count(*), COALESCE(array_agg(approver_role), ARRAY[]::text[]) INTO v_count, v_present
  FROM {table(m.PaymentApproval)}
 WHERE tenant_id = NEW.tenant_id AND payment_id = NEW.payment_id AND decision = {approve}
   AND approval_grant IS NOT NULL;
IF NEW.decision = {approve} AND v_count >= v_required THEN
    RAISE EXCEPTION 'payment % already has its % approvals', NEW.payment_id, v_required
        {CHECK}'finance_paymentapproval_open';
END IF;
-- Slots left must still fit every required role that has not approved yet.
IF NEW.decision = {approve} AND NOT (NEW.approver_role = ANY(v_required_roles)) AND
   v_required - v_count <= (SELECT count(*) FROM unnest(v_required_roles) r WHERE NOT (r = ANY(v_present))) THEN
    RAISE EXCEPTION 'payment %: the remaining approval must come from %', NEW.payment_id,
        (SELECT array_agg(r) FROM unnest(v_required_roles) r WHERE NOT (r = ANY(v_present)))
        {CHECK}'finance_paymentapproval_required_role';
END IF;
NEW.level := v_count + 1;
NEW.decided_at := now();
RETURN NEW;
"""


APPROVAL_GUARD_DECLARE = [
    ("v_status", "text"),
    ("v_required", "integer"),
    ("v_eligible", "text[]"),
    ("v_required_roles", "text[]"),
    ("v_count", "integer"),
    ("v_present", "text[]"),
    ("v_user", "uuid"),
    ("v_expires", "bigint"),
]

# --- intercompany --------------------------------------------------------------------------


@Rendered
def settlement_guard() -> str:
    from finance import models as m

    graph = m.IntercompanySettlement.transitions
    return f"""
IF TG_OP = 'INSERT' THEN
    IF NEW.status <> {sql_literal(graph.initial)} THEN
        RAISE EXCEPTION 'settlement % must be inserted as {word(graph.initial)}', NEW.id {CHECK}'finance_settlement_insert_pending';
    END IF;
    RETURN NEW;
END IF;
-- The graph is IntercompanySettlement.transitions (finance/models/payments.py); a settlement
-- that reached a terminal state does not change at all.
IF OLD.status IN {sql_values(graph.terminal)} THEN
    RAISE EXCEPTION 'settlement % is % and final', OLD.id, OLD.status {CHECK}'finance_settlement_final';
END IF;
IF NEW.status IS DISTINCT FROM OLD.status AND (OLD.status, NEW.status) NOT IN {sql_values(graph.pairs)} THEN
    RAISE EXCEPTION 'settlement %: % -> % is not an allowed transition', OLD.id, OLD.status, NEW.status
        {CHECK}'finance_settlement_transition';
END IF;
IF NEW.status = {sql_literal(m.IntercompanySettlement.Status.SETTLED)} THEN
    NEW.settled_at := now();
END IF;
RETURN NEW;
"""


# Deferred to COMMIT: the service may mark the settlement and post its two entries in any order.
@Rendered
def settlement_posted() -> str:
    from finance import models as m

    return f"""
IF NEW.status = {sql_literal(m.IntercompanySettlement.Status.SETTLED)} AND (
    NEW.from_entry_id IS NULL OR NEW.to_entry_id IS NULL OR NEW.from_entry_id = NEW.to_entry_id
    OR (SELECT count(*) FROM {table(m.JournalEntry)} e
         WHERE e.tenant_id = NEW.tenant_id AND e.status = {sql_literal(m.JournalEntry.Status.POSTED)}
           AND ((e.id = NEW.from_entry_id AND e.company_id = NEW.from_company_id)
             OR (e.id = NEW.to_entry_id AND e.company_id = NEW.to_company_id))) <> 2
) THEN
    RAISE EXCEPTION 'settlement % is {word(m.IntercompanySettlement.Status.SETTLED)} without a {word(m.JournalEntry.Status.POSTED)} entry in each of its two companies', NEW.id
        {CHECK}'finance_settlement_posted';
END IF;
RETURN NULL;
"""
