"""Messages of the kernel's application errors."""

from __future__ import annotations

from aibos.errors import ApplicationError, Conflict

SLUG_TAKEN = "A tenant with slug {slug!r} already exists."
EMAIL_TAKEN = "A user with email {email!r} already exists in this tenant."
ROLE_TAKEN = "A role named {name!r} already exists in this tenant."
UNKNOWN_PERMISSIONS = "Unknown permission codes: {codes}."
CREDENTIAL_PRINCIPAL = "An API credential belongs to exactly one user or one Cell (canon)."


class Forbidden(ApplicationError):
    status = 403


__all__ = ["ApplicationError", "Conflict", "Forbidden"]
