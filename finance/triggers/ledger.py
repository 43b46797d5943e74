"""Journal entries and their lines: posting, numbering, balances, the ledger's audit events.

What every guard shares is in the package docstring and ``_common``.
"""

from __future__ import annotations

from aibos.db.triggers import Rendered, sql_literal, table
from finance.triggers._common import (
    CHECK,
    ROW_IN_SESSION_TENANT,
    rows_in_session_tenant,
)

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
{ROW_IN_SESSION_TENANT}IF TG_OP = 'DELETE' THEN
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
IF NEW.status IS DISTINCT FROM {posted} THEN
    -- A draft carries nothing of a posting, whatever the statement said; a new one starts with
    -- no lines (lines inserted with it are counted in by finance_journalline_added).
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
IF NOT FOUND THEN
    RAISE EXCEPTION 'journal entry %: its company % is not one of this tenant', NEW.id, NEW.company_id
        {CHECK}'finance_journalentry_company';
END IF;
IF v_lock IS NOT NULL AND NEW.entry_date <= v_lock THEN
    RAISE EXCEPTION 'journal entry %: % is on or before the lock date % of its company', NEW.id, NEW.entry_date, v_lock
        {CHECK}'finance_journalentry_lock_date';
END IF;
IF NEW.line_count < 2 THEN
    RAISE EXCEPTION 'journal entry % has % line(s); a posted entry needs at least two', NEW.id, NEW.line_count
        {CHECK}'finance_journalentry_min_lines';
END IF;
-- Gap-free: the company's counter row is locked until commit and the entry takes the next
-- number; entry_check moves the counter on once the row is written (an INSERT that ends up
-- writing nothing, ON CONFLICT DO NOTHING, must not spend a number). A rollback gives it back.
SELECT s.last_seq + 1 INTO NEW.posting_seq FROM {sequences} s
 WHERE s.tenant_id = NEW.tenant_id AND s.company_id = NEW.company_id FOR UPDATE;
IF NOT FOUND THEN  -- the company's first posting
    INSERT INTO {sequences} (tenant_id, company_id, last_seq)
    VALUES (NEW.tenant_id, NEW.company_id, 0) ON CONFLICT (tenant_id, company_id) DO NOTHING;
    SELECT s.last_seq + 1 INTO NEW.posting_seq FROM {sequences} s
     WHERE s.tenant_id = NEW.tenant_id AND s.company_id = NEW.company_id FOR UPDATE;
END IF;
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
    sequences = table(m.PostingSequence)
    posted = sql_literal(m.JournalEntry.Status.POSTED)
    draft = sql_literal(m.JournalEntry.Status.DRAFT)
    return f"""
{ROW_IN_SESSION_TENANT}IF NEW.status = {draft} THEN
    -- A new draft: audited here like a posted entry, its lines by finance_journalline_added.
    PERFORM "kernel".audit_record(NEW.tenant_id, TG_TABLE_SCHEMA, TG_TABLE_NAME, NEW.id::text,
        TG_OP, NULL, to_jsonb(NEW), NULL);
    RETURN NULL;
END IF;

-- The number the guard took becomes the counter's: the next one, or the statement is refused
-- (two entries of one company posted by one statement take the same number).
UPDATE {sequences} s SET last_seq = NEW.posting_seq, updated_at = now()
 WHERE s.tenant_id = NEW.tenant_id AND s.company_id = NEW.company_id
   AND s.last_seq = NEW.posting_seq - 1;
IF NOT FOUND THEN
    RAISE EXCEPTION 'journal entry %: posting number % is not the next of its company', NEW.id, NEW.posting_seq
        {CHECK}'finance_journalentry_seq_gap_free';
END IF;
SELECT c.base_currency INTO v_base FROM {companies} c
 WHERE c.tenant_id = NEW.tenant_id AND c.id = NEW.company_id;
IF NOT FOUND THEN
    RAISE EXCEPTION 'journal entry %: its company % is not one of this tenant', NEW.id, NEW.company_id
        {CHECK}'finance_journalentry_company';
END IF;
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
    draft = sql_literal(m.JournalEntry.Status.DRAFT)
    return f"""
{ROW_IN_SESSION_TENANT}SELECT e.status INTO v_status FROM {entries} e
 WHERE e.tenant_id = OLD.tenant_id AND e.id = OLD.entry_id FOR SHARE;
IF v_status IS DISTINCT FROM {draft} THEN  -- POSTED, or not to be found: nothing may change
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
    IF v_status IS DISTINCT FROM {draft} THEN
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
    draft = sql_literal(m.JournalEntry.Status.DRAFT)
    return f"""
{rows_in_session_tenant("new_lines")}FOR rec IN SELECT n.tenant_id, n.entry_id, count(*) AS added FROM new_lines n
            GROUP BY n.tenant_id, n.entry_id ORDER BY n.entry_id
LOOP
    -- By its key only (never `AND status = ...`: a generic plan may then walk the status index
    -- through every draft the tenant ever had).
    SELECT e.status, e.line_count INTO v_status, v_recorded FROM {entries} e
     WHERE e.tenant_id = rec.tenant_id AND e.id = rec.entry_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'journal entry % is not one of this tenant: no line can be added to it',
            rec.entry_id {CHECK}'finance_journalline_entry';
    END IF;
    IF v_status = {draft} THEN
        -- Locked, and read again: a posting waits for this insert, or this waits for it.
        SELECT e.status, e.line_count INTO v_status, v_recorded FROM {entries} e
         WHERE e.tenant_id = rec.tenant_id AND e.id = rec.entry_id FOR NO KEY UPDATE;
    END IF;
    IF v_status = {draft} THEN
        UPDATE {entries} e SET line_count = e.line_count + rec.added
         WHERE e.tenant_id = rec.tenant_id AND e.id = rec.entry_id;
        PERFORM "kernel".audit_record(n.tenant_id, TG_TABLE_SCHEMA, TG_TABLE_NAME, n.id::text,
                TG_OP, NULL, to_jsonb(n), NULL)
           FROM new_lines n
          WHERE n.tenant_id = rec.tenant_id AND n.entry_id = rec.entry_id;
        CONTINUE;
    END IF;
    SELECT count(*) INTO v_lines FROM {lines} l
     WHERE l.tenant_id = rec.tenant_id AND l.entry_id = rec.entry_id;
    IF v_lines <> v_recorded THEN
        RAISE EXCEPTION 'journal entry % is POSTED with % line(s): no line can be added to it',
            rec.entry_id, v_recorded {CHECK}'finance_journalline_posted_immutable';
    END IF;
    -- POSTED with lines of this statement and the count it records: inserted as POSTED by this
    -- very statement (a draft updated to POSTED in it would record only the lines of earlier
    -- statements, and no statement may set the count), so the entry's event carries them.
END LOOP;
RETURN NULL;
"""


LINES_ADDED_DECLARE = [
    ("rec", "record"),
    ("v_status", "text"),
    ("v_recorded", "integer"),
    ("v_lines", "integer"),
]


# Draft lines are replaced by DELETE + INSERT: the drafts' counts go down. line_guard has refused
# the rows of entries POSTED before the statement; this refuses one POSTED by the statement itself.
@Rendered
def lines_removed() -> str:
    from finance import models as m  # rendered once the models exist

    entries = table(m.JournalEntry)
    return f"""
{rows_in_session_tenant("old_lines")}-- By key; an entry POSTED by the same statement is refused by its own guard (a POSTED entry
-- cannot change), so lines come off drafts only.
UPDATE {entries} e SET line_count = e.line_count - o.removed
  FROM (SELECT tenant_id, entry_id, count(*) AS removed FROM old_lines GROUP BY tenant_id, entry_id) o
 WHERE e.tenant_id = o.tenant_id AND e.id = o.entry_id;
GET DIAGNOSTICS v_updated = ROW_COUNT;
IF v_updated <> (SELECT count(DISTINCT (o.tenant_id, o.entry_id)) FROM old_lines o) THEN
    RAISE EXCEPTION 'lines were deleted from a journal entry that is POSTED'
        {CHECK}'finance_journalline_posted_immutable';
END IF;
RETURN NULL;
"""
