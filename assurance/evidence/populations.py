"""What a pack holds besides the audit chain: the populations, their SQL and the period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from assurance.evidence.files import value_text


@dataclass(frozen=True)
class Population:
    name: str
    columns: tuple[str, ...]
    sql: str  # selects `columns`, keyset-paged on the first column: %(after)s, %(page)s
    params: Callable[[Period], dict[str, Any]]


@dataclass(frozen=True)
class Period:
    start: dt.date | None
    end: dt.date | None  # inclusive

    def as_json(self) -> dict[str, str | None]:
        return {"from": value_text(self.start), "to": value_text(self.end)}


def period_params(period: Period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end}


ENTRY_IN_PERIOD = (
    "(%(start)s::date IS NULL OR e.entry_date >= %(start)s) "
    "AND (%(end)s::date IS NULL OR e.entry_date <= %(end)s)"
)
PAYMENT_IN_PERIOD = (
    "(%(start)s::date IS NULL OR p.created_at >= %(start)s::date) "
    "AND (%(end)s::date IS NULL OR p.created_at < %(end)s::date + 1)"
)

POPULATIONS = (
    Population(
        "journal_entries",
        (
            "id",
            "company_id",
            "entry_date",
            "reference",
            "memo",
            "status",
            "posting_seq",
            "posted_at",
            "posted_by",
            "created_by",
            "reversal_of_id",
            "line_count",
            "created_at",
        ),
        "SELECT e.id, e.company_id, e.entry_date, e.reference, e.memo, e.status, e.posting_seq, "
        "e.posted_at, e.posted_by, e.created_by, e.reversal_of_id, e.line_count, e.created_at "
        f"FROM finance.journal_entries e WHERE e.id > %(after)s AND {ENTRY_IN_PERIOD} "
        "ORDER BY e.id LIMIT %(page)s",
        period_params,
    ),
    Population(
        "journal_lines",
        (
            "id",
            "entry_id",
            "line_no",
            "account_id",
            "debit",
            "credit",
            "currency",
            "txn_amount",
            "fx_rate",
            "fx_rate_id",
            "memo",
        ),
        "SELECT l.id, l.entry_id, l.line_no, l.account_id, l.debit, l.credit, l.currency, "
        "l.txn_amount, l.fx_rate, l.fx_rate_id, l.memo FROM finance.journal_lines l "
        "JOIN finance.journal_entries e ON e.id = l.entry_id AND e.tenant_id = l.tenant_id "
        f"WHERE l.id > %(after)s AND {ENTRY_IN_PERIOD} ORDER BY l.id LIMIT %(page)s",
        period_params,
    ),
    Population(
        "payments",
        (
            "id",
            "company_id",
            "payment_type",
            "amount",
            "currency",
            "beneficiary_name",
            "reference",
            "status",
            "requested_by",
            "required_approvals",
            "required_roles",
            "policy_matrix_id",
            "policy_band_id",
            "journal_entry_id",
            "created_at",
            "submitted_at",
            "decided_at",
            "paid_at",
            "cancelled_at",
        ),
        "SELECT p.id, p.company_id, p.payment_type, p.amount, p.currency, p.beneficiary_name, "
        "p.reference, p.status, p.requested_by, p.required_approvals, p.required_roles, "
        "p.policy_matrix_id, p.policy_band_id, p.journal_entry_id, p.created_at, "
        "p.submitted_at, p.decided_at, p.paid_at, p.cancelled_at FROM finance.payments p "
        f"WHERE p.id > %(after)s AND {PAYMENT_IN_PERIOD} ORDER BY p.id LIMIT %(page)s",
        period_params,
    ),
    Population(
        "payment_approvals",
        (
            "id",
            "payment_id",
            "level",
            "approver",
            "approver_role",
            "requester",
            "decision",
            "reason",
            "decided_at",
        ),
        "SELECT a.id, a.payment_id, a.level, a.approver, a.approver_role, a.requester, "
        "a.decision, a.reason, a.decided_at FROM finance.payment_approvals a "
        "JOIN finance.payments p ON p.id = a.payment_id AND p.tenant_id = a.tenant_id "
        f"WHERE a.id > %(after)s AND {PAYMENT_IN_PERIOD} ORDER BY a.id LIMIT %(page)s",
        period_params,
    ),
)
