"""Companies, accounts, bank accounts and FX rates.

What every guard shares is in the package docstring and ``_common``.
"""

from __future__ import annotations

from aibos.db.triggers import Rendered, sql_literal, table
from finance.triggers._common import (
    CHECK,
    ROW_IN_SESSION_TENANT,
)

# --- companies ----------------------------------------------------------------------------


@Rendered
def company_lock_dates() -> str:
    from finance import models as m  # rendered once the models exist (they import this module)

    posted = sql_literal(m.JournalEntry.Status.POSTED)
    return f"""
{ROW_IN_SESSION_TENANT}IF OLD.hard_lock_date IS NOT NULL
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
{ROW_IN_SESSION_TENANT}IF (NEW.company_id, NEW.currency, NEW.type) IS DISTINCT FROM (OLD.company_id, OLD.currency, OLD.type)
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
{ROW_IN_SESSION_TENANT}IF NOT EXISTS (
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
{ROW_IN_SESSION_TENANT}IF TG_OP IN ('UPDATE', 'DELETE') THEN
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
