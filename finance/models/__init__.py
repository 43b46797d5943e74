"""Finance schema. Rows carry tenant_id as a plain UUID: no key may cross into kernel.

Split by aggregate: companies (and what hangs off them), the ledger, payments.
"""

from finance.models.companies import (
    Account,
    AccountBalance,
    BankAccount,
    Company,
    DocumentMetadata,
    FxRate,
    mask_account_number,
)
from finance.models.ledger import JournalEntry, JournalLine, PostingSequence
from finance.models.payments import (
    ApprovalBand,
    ApprovalMatrix,
    IntercompanySettlement,
    Payment,
    PaymentApproval,
    PaymentType,
)

__all__ = [
    "Account",
    "AccountBalance",
    "ApprovalBand",
    "ApprovalMatrix",
    "BankAccount",
    "Company",
    "DocumentMetadata",
    "FxRate",
    "IntercompanySettlement",
    "JournalEntry",
    "JournalLine",
    "Payment",
    "PaymentApproval",
    "PaymentType",
    "PostingSequence",
    "mask_account_number",
]
