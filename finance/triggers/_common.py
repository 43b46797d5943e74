"""What every guard body shares: the refusal clause, the session-tenant check, TRUNCATE."""

from __future__ import annotations

import re

import pgtrigger

from aibos.db.triggers import GuardTrigger

CHECK = "USING ERRCODE = '23514', CONSTRAINT = "


def word(value: str) -> str:
    """A status named inside a message literal: a bare word, so it needs no quoting and is no
    ``%`` placeholder."""
    if not re.fullmatch(r"[A-Za-z_]+", value):
        raise ValueError(f"{value!r} cannot be named in a trigger message")
    return str(value)


# Every guard judges a row by reading its neighbours (its entry, its lines, its company), and
# those reads see only the session's tenant (FORCE RLS). A session may change `app.tenant_id`
# halfway through its own statement — `set_config` in a RETURNING list or a WHERE clause — after
# RLS has checked the row and before a guard reads the neighbours, which would then be invisible
# and look absent. So each guard first refuses a row of any tenant but the session's: it never
# judges a row it cannot see the neighbours of (and fails closed on a neighbour it cannot find).
SESSION_TENANT = "NULLIF(current_setting('app.tenant_id', true), '')::uuid"
_OTHER_TENANT = (
    "RAISE EXCEPTION 'a row of tenant % is written while the session acts for %', {row}, "
    f"{SESSION_TENANT} USING ERRCODE = '42501', CONSTRAINT = 'finance_session_tenant';"
)
ROW_IN_SESSION_TENANT = f"""IF COALESCE(NEW.tenant_id, OLD.tenant_id) IS DISTINCT FROM {SESSION_TENANT} THEN
    {_OTHER_TENANT.format(row="COALESCE(NEW.tenant_id, OLD.tenant_id)")}
END IF;
"""


def rows_in_session_tenant(transition_table: str) -> str:
    """The same check for a statement trigger, over every row of its transition table."""
    return f"""IF EXISTS (SELECT 1 FROM {transition_table} t WHERE t.tenant_id IS DISTINCT FROM {SESSION_TENANT}) THEN
    {_OTHER_TENANT.format(row=f"(SELECT min(t.tenant_id::text) FROM {transition_table} t)")}
END IF;
"""


def refuse_truncate(name: str, table_label: str) -> GuardTrigger:
    """TRUNCATE is not granted to any runtime role; this stops the owner too."""
    return GuardTrigger(
        name=name,
        level=pgtrigger.Statement,
        when=pgtrigger.Before,
        operation=pgtrigger.Truncate,
        func=f"RAISE EXCEPTION '{table_label} rows are final: TRUNCATE is refused' {CHECK}'{name}';",
    )
