"""The audit trail still tells every line: a posted entry's INSERT event carries the lines it
was posted with (one event per posting), lines added to or removed from drafts have their own
events, and from the events alone every line of every entry can be rebuilt exactly."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connections

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from finance import services
from tests.factories import system
from tests.finance.books import DAY, post_simple
from tests.finance.helpers import run
from tests.finance.test_ledger_invariants import INSERT_LINE, insert_posted, usd

pytestmark = pytest.mark.django_db(databases="__all__", transaction=True)

LINES_NOW = """
SELECT l.id::text, to_jsonb(l) FROM finance.journal_lines l
  JOIN finance.journal_entries e ON e.tenant_id = l.tenant_id AND e.id = l.entry_id
 WHERE l.tenant_id = %s
"""
EVENTS = """
SELECT table_name, operation, row_id, old_values, new_values FROM kernel.audit_events
 WHERE tenant_id = %s AND table_name IN ('journal_entries', 'journal_lines') ORDER BY id
"""


def _rows(alias: str, tenant_id: uuid.UUID, sql: str) -> list[Any]:
    """Rows with their JSON decoded (Django hands jsonb over as text)."""
    with tenant_context(tenant_id, using=[alias]), connections[alias].cursor() as cur:
        cur.execute(sql, [tenant_id])
        return [
            tuple(json.loads(v) if isinstance(v, str) and v[:1] in "{[" else v for v in row)
            for row in cur.fetchall()
        ]


def rebuilt_from_the_audit_log(tenant_id: uuid.UUID) -> dict[str, dict[str, Any]]:
    """Every line, from the events alone: inserted with a posted entry (inside its event) or on
    its own, minus the ones deleted. A line told twice would be an error of the log."""
    lines: dict[str, dict[str, Any]] = {}

    def add(row: dict[str, Any]) -> None:
        assert row["id"] not in lines, f"line {row['id']} is in the log twice"
        lines[row["id"]] = row

    for table, operation, row_id, old, new in _rows("kernel", tenant_id, EVENTS):
        if table == "journal_entries" and operation == "INSERT":
            for line in (new or {}).get("lines") or []:
                add(line)
        elif table == "journal_lines" and operation == "INSERT":
            add(new)
        elif table == "journal_lines" and operation == "DELETE":
            assert lines.pop(row_id) == old
    return lines


def test_the_audit_log_rebuilds_every_line_exactly(committed: None, books: SimpleNamespace) -> None:
    tenant, us = books.tenant.id, books.us
    a = us.accounts
    # Posted at once through the service, and in one raw statement as the finance role.
    posted = post_simple(us)
    raw = str(uuid.uuid4())
    run(
        tenant,
        insert_posted(
            raw,
            tenant,
            us.company.pk,
            [usd(a["5000"], "7.00", "0"), usd(a["1000"], "0", "3.00"), usd(a["1000"], "0", "4.00")],
        ),
    )
    # A draft built line by line, with a line replaced, then posted; and a reversal.
    draft, _ = services.journal_create_draft(
        actor=system(tenant),
        company_id=us.company.pk,
        entry_date=DAY,
        lines=[services.LineInput(a["5000"].pk, "debit", Decimal("9.00"))],
    )
    services.journal_add_line(
        actor=system(tenant),
        entry_id=draft.pk,
        account_id=a["1000"].pk,
        side="credit",
        amount=Decimal("8.00"),
    )
    run(
        tenant,
        ("DELETE FROM finance.journal_lines WHERE entry_id = %s AND credit = 8", [draft.pk]),
        (INSERT_LINE, [tenant, draft.pk, *usd(a["1000"], "0", "9.00")]),
    )
    services.journal_post(actor=system(tenant), entry_id=draft.pk)
    services.journal_reverse(
        actor=system(tenant), entry_id=posted.pk, entry_date=DAY + dt.timedelta(days=1)
    )

    now = {line_id: row for line_id, row in _rows("finance", tenant, LINES_NOW)}
    assert len(now) == 2 + 3 + 2 + 2
    assert rebuilt_from_the_audit_log(tenant) == now


def test_an_entry_posted_in_one_statement_is_one_event_carrying_its_lines(
    committed: None, books: SimpleNamespace
) -> None:
    tenant, us = books.tenant.id, books.us
    entry = str(uuid.uuid4())
    lines = [usd(us.accounts["5000"], "5.00", "0"), usd(us.accounts["1000"], "0", "5.00")]
    with tenant_context(
        Actor.for_command(tenant, "auditor-check"), correlation_id="corr-1", using=["finance"]
    ):
        with connections["finance"].cursor() as cur:
            cur.execute(*insert_posted(entry, tenant, us.company.pk, lines))
    events = [
        e for e in _rows("kernel", tenant, EVENTS) if e[2] == entry or e[0] == "journal_lines"
    ]
    assert [(t, op, row_id) for t, op, row_id, _, _ in events] == [
        ("journal_entries", "INSERT", entry)
    ]
    new = events[0][4]
    assert new["status"] == "POSTED" and new["posting_seq"] == 1 and new["line_count"] == 2
    assert sorted((x["debit"], x["credit"]) for x in new["lines"]) == [(0, 5.0), (5.0, 0)]
    actor, correlation = _rows(
        "kernel",
        tenant,
        "SELECT actor, correlation_id FROM kernel.audit_events WHERE tenant_id = %s "
        "AND table_name = 'journal_entries'",
    )[0]
    assert (actor, correlation) == ("command:auditor-check", "corr-1")
