from django.urls import path

from finance import apis

app_name = "finance"
urlpatterns = [
    path("companies/", apis.CompanyListApi.as_view(), name="companies"),
    path("accounts/", apis.AccountListApi.as_view(), name="accounts"),
    path(
        "accounts/<uuid:account_id>/balance/",
        apis.AccountBalanceApi.as_view(),
        name="account-balance",
    ),
    path("bank-accounts/", apis.BankAccountListApi.as_view(), name="bank-accounts"),
    path("fx-rates/", apis.FxRateListApi.as_view(), name="fx-rates"),
    path("journals/", apis.JournalListApi.as_view(), name="journals"),
    path("journals/<uuid:entry_id>/", apis.JournalDetailApi.as_view(), name="journal"),
    path("journals/<uuid:entry_id>/lines/", apis.JournalLineApi.as_view(), name="journal-lines"),
    path("journals/<uuid:entry_id>/post/", apis.JournalPostApi.as_view(), name="journal-post"),
    path(
        "journals/<uuid:entry_id>/reverse/",
        apis.JournalReverseApi.as_view(),
        name="journal-reverse",
    ),
    path("payments/", apis.PaymentListApi.as_view(), name="payments"),
    path("payments/<uuid:payment_id>/", apis.PaymentDetailApi.as_view(), name="payment"),
    path(
        "payments/<uuid:payment_id>/submit/", apis.PaymentSubmitApi.as_view(), name="payment-submit"
    ),
    path(
        "payments/<uuid:payment_id>/approve/",
        apis.PaymentApproveApi.as_view(),
        name="payment-approve",
    ),
    path(
        "payments/<uuid:payment_id>/reject/", apis.PaymentRejectApi.as_view(), name="payment-reject"
    ),
    path(
        "payments/<uuid:payment_id>/cancel/", apis.PaymentCancelApi.as_view(), name="payment-cancel"
    ),
    path(
        "payments/<uuid:payment_id>/mark-paid/",
        apis.PaymentMarkPaidApi.as_view(),
        name="payment-mark-paid",
    ),
    path("approval-matrices/", apis.ApprovalMatrixListApi.as_view(), name="approval-matrices"),
    path(
        "approval-matrices/<uuid:matrix_id>/activate/",
        apis.ApprovalMatrixActivateApi.as_view(),
        name="approval-matrix-activate",
    ),
]
