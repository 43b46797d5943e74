"""Messages of the kernel's application errors."""

from __future__ import annotations

# The status-coded errors are the project's (aibos.errors); re-exported for `errors.Forbidden`.
from aibos.errors import ApplicationError, Conflict, Forbidden

SLUG_TAKEN = "A tenant with slug {slug!r} already exists."
EMAIL_TAKEN = "A user with email {email!r} already exists in this tenant."
ROLE_TAKEN = "A role named {name!r} already exists in this tenant."
UNKNOWN_PERMISSIONS = "Unknown permission codes: {codes}."
CREDENTIAL_PRINCIPAL = "An API credential belongs to exactly one user or one Cell (canon)."
GRANT_NEEDS_USER = "Approval grants are issued to users only."


__all__ = ["ApplicationError", "Conflict", "Forbidden"]
