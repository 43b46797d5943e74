"""The Cells API for finance (DRF, under /api/v1/), one module per subdomain: one view per
resource or operation, nested Input/Output serializers, services for writes and selectors for
reads. A write answers with the object its service returned, never a second read of it.

The tenant comes from the credential only (the middleware attaches the actor and sets the
context); a ``tenant_id`` in a body is never read. Amounts travel as decimal strings, never JSON
numbers.

- ``reference``: companies, accounts and balances, bank accounts, FX rates
- ``journals``: journal entries and their lines, posting, reversal
- ``payments``: payments and the actions of their approval
- ``matrices``: approval matrices
- ``_fields`` / ``_plumbing``: serializer fields and what the views share
"""

from finance.apis._fields import (
    AMOUNT_PATTERN,
    BOUND_PATTERN,
    RATE_PATTERN,
    REQUIRED_TEXT_PATTERN,
    TEXT_PATTERN,
)
from finance.apis.journals import (
    JournalDetailApi,
    JournalLineApi,
    JournalListApi,
    JournalPostApi,
    JournalReverseApi,
)
from finance.apis.matrices import ApprovalMatrixActivateApi, ApprovalMatrixListApi
from finance.apis.payments import (
    PaymentApproveApi,
    PaymentCancelApi,
    PaymentDetailApi,
    PaymentListApi,
    PaymentMarkPaidApi,
    PaymentRejectApi,
    PaymentSubmitApi,
)
from finance.apis.reference import (
    AccountBalanceApi,
    AccountListApi,
    BankAccountListApi,
    CompanyListApi,
    FxRateListApi,
)

__all__ = [
    "AMOUNT_PATTERN",
    "BOUND_PATTERN",
    "RATE_PATTERN",
    "REQUIRED_TEXT_PATTERN",
    "TEXT_PATTERN",
    "AccountBalanceApi",
    "AccountListApi",
    "ApprovalMatrixActivateApi",
    "ApprovalMatrixListApi",
    "BankAccountListApi",
    "CompanyListApi",
    "FxRateListApi",
    "JournalDetailApi",
    "JournalLineApi",
    "JournalListApi",
    "JournalPostApi",
    "JournalReverseApi",
    "PaymentApproveApi",
    "PaymentCancelApi",
    "PaymentDetailApi",
    "PaymentListApi",
    "PaymentMarkPaidApi",
    "PaymentRejectApi",
    "PaymentSubmitApi",
]
