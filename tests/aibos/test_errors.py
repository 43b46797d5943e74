"""The status-coded errors are defined once (aibos.errors); the apps re-export them."""

from __future__ import annotations

import pytest

from aibos import errors
from finance import errors as finance_errors
from kernel import errors as kernel_errors


@pytest.mark.parametrize(
    ("name", "status"),
    [("NotFound", 404), ("Forbidden", 403), ("Conflict", 409), ("Unprocessable", 422)],
)
def test_each_status_coded_error_is_the_projects(name: str, status: int) -> None:
    error = getattr(errors, name)
    assert issubclass(error, errors.ApplicationError)
    assert error("x").status == status
    assert getattr(finance_errors, name) is error


def test_the_kernel_re_exports_the_same_classes() -> None:
    assert kernel_errors.Forbidden is errors.Forbidden
    assert kernel_errors.Conflict is errors.Conflict
    assert kernel_errors.ApplicationError is errors.ApplicationError


def test_the_apps_keep_their_message_constants() -> None:
    assert finance_errors.NOT_FOUND.format(what="Payment", id=1) == "Payment 1 does not exist."
    assert "{slug!r}" in kernel_errors.SLUG_TAKEN
