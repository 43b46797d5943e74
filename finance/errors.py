"""Finance error messages, and the translation of the database's refusals into 4xx errors.

The invariants live in PostgreSQL (``finance/triggers/``, constraints on the models); when one
refuses a write, the rule name arrives as the error's constraint name. ``from_database`` turns
it into an :class:`~aibos.errors.ApplicationError` with the database's own message (which names
the row) and a stable ``code`` for clients.
"""

from __future__ import annotations

from django.db import DatabaseError

# The status-coded errors are the project's (aibos.errors); re-exported for `errors.NotFound`.
from aibos.errors import (
    NOT_FOUND,
    ApplicationError,
    Conflict,
    DatabaseRefusal,
    Forbidden,
    NotFound,
    Unprocessable,
)

UNKNOWN_CURRENCY = "{code!r} is not an active ISO 4217 currency code."
TOO_MANY_DECIMALS = "{amount} has more decimals than {currency} allows ({places})."
WRONG_COMPANY = "{what} {id} belongs to another company."
BAD_SIDE = "{field}: a line's side is debit or credit, not {side!r}."
WRONG_CURRENCY = "{what} is in {actual}; this needs {expected}."
NO_FX_RATE = "No {base}/{quote} FX rate is valid on {date}: set one first."
NO_ACTIVE_MATRIX = (
    "Company {company} has no active approval matrix for {payment_type} payments in {currency} "
    "or {base}."
)
NOT_A_USER = "Only a signed-in user can {action} a payment; a Cell credential cannot."
NOT_AN_APPROVER = "You hold none of the roles that may approve this payment: {roles}."
SELF_APPROVAL = "The requester of a payment cannot approve or reject it."
ALREADY_DECIDED = "You already decided on this payment."
ENTRY_NOT_DRAFT = "Journal entry {id} is {status}; only drafts can be changed."
ENTRY_NOT_POSTED = "Journal entry {id} is {status}; only posted entries can be reversed."
ALREADY_REVERSED = "Journal entry {id} is already reversed by entry {reversal}."
REJECTION_NEEDS_REASON = "A rejection needs a reason."
BAD_TRANSITION = "Payment {id} is {status}; it cannot be {action}."
MATRIX_NOT_DRAFT = "Approval matrix {id} is {status}; only drafts can be activated."
SAME_CURRENCY = "An FX rate needs two different currencies (base and quote must differ)."
SAME_COMPANY = "An intercompany settlement needs two different companies."
COMPANY_CODE_TAKEN = "A company with code {code!r} already exists in this tenant."
ACCOUNT_CODE_TAKEN = "Account code {code!r} already exists in this company."
RETRY = "The database detected a conflicting concurrent change; retry the request."

# Rule (constraint) name -> HTTP status. Unlisted integrity errors are 409: the request clashes
# with the current state of the data.
RULE_STATUS = {
    "finance_journalentry_balanced": 422,
    "finance_journalentry_min_lines": 422,
    "finance_journalentry_lock_date": 422,
    "finance_journalentry_reversal_exact": 422,
    "finance_journalentry_reversal_target": 422,
    "finance_journalline_account_match": 422,
    "finance_journalline_conversion": 422,
    "finance_journalline_fx_rate": 422,
    "finance_journalline_one_side": 422,
    "finance_bankaccount_ledger_match": 422,
    "finance_payment_accounts": 422,
    "finance_payment_quorum": 422,
    "finance_paymentapproval_role": 403,
    "finance_paymentapproval_not_requester": 403,
    "finance_paymentapproval_required_role": 403,
    # No proof that the named approver decided: an unknown or inactive user, a role not held,
    # or a missing, foreign, tampered or expired identity-plane grant.
    "finance_paymentapproval_approver_unknown": 403,
    "finance_paymentapproval_role_not_held": 403,
    "finance_paymentapproval_grant_missing": 403,
    "finance_paymentapproval_grant_other_payment": 403,
    "finance_paymentapproval_grant_mismatch": 403,
    "finance_paymentapproval_grant_signature": 403,
    "finance_paymentapproval_grant_expired": 403,
    "finance_approvalmatrix_coverage": 422,
    "finance_approvalband_no_overlap": 422,
    "finance_approvalband_range": 422,
    "finance_approvalband_roles": 422,
    "finance_fxrate_no_overlap": 409,
    "finance_company_hard_lock_forward": 422,
}


def from_database(exc: DatabaseError) -> ApplicationError:
    """The database refused a write: say which rule, with its message."""
    refusal = DatabaseRefusal.of(exc)
    if refusal.sqlstate in ("40001", "40P01"):
        return Conflict(RETRY, extra={"code": "retry"})
    code = refusal.rule or ("invalid_value" if refusal.sqlstate.startswith("22") else "refused")
    error = ApplicationError(refusal.for_client(), extra={"code": code})
    error.status = RULE_STATUS.get(refusal.rule, 409 if refusal.sqlstate.startswith("23") else 422)
    return error


__all__ = [
    "NOT_FOUND",
    "ApplicationError",
    "Conflict",
    "Forbidden",
    "NotFound",
    "Unprocessable",
    "from_database",
]
