"""Finance writes, one module per subdomain: keyword-only, one transaction each on the finance
alias, ``actor`` first (an :class:`aibos.actors.Actor`: the tenant is the actor's). Each returns
what it wrote, as the database left it.

The services are the friendly path: they check what they can up front to give precise errors.
The guarantees themselves are enforced by PostgreSQL (``finance/triggers/``), so a bug here
or a raw SQL session cannot break them; a refusal from the database comes back as the same
kind of 4xx error (``finance.errors.from_database``).

- ``reference``: companies, accounts, bank accounts, FX rates
- ``journals``: drafts, lines, posting, reversal
- ``payments``: payments and their approvals
- ``matrices``: approval matrices
- ``intercompany``: settlements between two companies
- ``documents``: attachment metadata
- ``_plumbing``: the unit of work and the currency checks they share
"""

from aibos.errors import ApplicationError
from finance.services._plumbing import CREDIT, DEBIT, validate_amount, validate_currency
from finance.services.documents import document_attach
from finance.services.intercompany import intercompany_settle
from finance.services.journals import (
    LineInput,
    journal_add_line,
    journal_create_draft,
    journal_post,
    journal_reverse,
)
from finance.services.matrices import BandInput, approval_matrix_activate, approval_matrix_create
from finance.services.payments import (
    payment_approve,
    payment_cancel,
    payment_create,
    payment_mark_paid,
    payment_reject,
    payment_submit,
)
from finance.services.reference import (
    account_create,
    bank_account_create,
    company_create,
    company_set_lock_dates,
    fx_rate_set,
)

__all__ = [
    "CREDIT",
    "DEBIT",
    "ApplicationError",
    "BandInput",
    "LineInput",
    "account_create",
    "approval_matrix_activate",
    "approval_matrix_create",
    "bank_account_create",
    "company_create",
    "company_set_lock_dates",
    "document_attach",
    "fx_rate_set",
    "intercompany_settle",
    "journal_add_line",
    "journal_create_draft",
    "journal_post",
    "journal_reverse",
    "payment_approve",
    "payment_cancel",
    "payment_create",
    "payment_mark_paid",
    "payment_reject",
    "payment_submit",
    "validate_amount",
    "validate_currency",
]
