"""Intercompany settlements.

What every guard shares is in the package docstring and ``_common``.
"""

from __future__ import annotations

from aibos.db.triggers import Rendered, sql_literal, sql_values, table
from finance.triggers._common import (
    CHECK,
    ROW_IN_SESSION_TENANT,
    word,
)

# --- intercompany --------------------------------------------------------------------------


@Rendered
def settlement_guard() -> str:
    from finance import models as m

    graph = m.IntercompanySettlement.transitions
    return f"""
{ROW_IN_SESSION_TENANT}IF TG_OP = 'INSERT' THEN
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
# No session-tenant check: at COMMIT the tenant context that wrote the row may be over, and the
# check fails closed by itself (entries RLS hides count as missing).
@Rendered
def settlement_posted() -> str:
    from finance import models as m

    return f"""
IF NEW.status = {sql_literal(m.IntercompanySettlement.Status.SETTLED)} AND (
    NEW.from_entry_id IS NULL OR NEW.to_entry_id IS NULL OR NEW.from_entry_id = NEW.to_entry_id
    -- Each entry by its key (a status in the WHERE could send a generic plan down the status
    -- index through the tenant's entries).
    OR (SELECT (e.status, e.company_id) FROM {table(m.JournalEntry)} e
         WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.from_entry_id)
       IS DISTINCT FROM ({sql_literal(m.JournalEntry.Status.POSTED)}::varchar, NEW.from_company_id)
    OR (SELECT (e.status, e.company_id) FROM {table(m.JournalEntry)} e
         WHERE e.tenant_id = NEW.tenant_id AND e.id = NEW.to_entry_id)
       IS DISTINCT FROM ({sql_literal(m.JournalEntry.Status.POSTED)}::varchar, NEW.to_company_id)
) THEN
    RAISE EXCEPTION 'settlement % is {word(m.IntercompanySettlement.Status.SETTLED)} without a {word(m.JournalEntry.Status.POSTED)} entry in each of its two companies', NEW.id
        {CHECK}'finance_settlement_posted';
END IF;
RETURN NULL;
"""
