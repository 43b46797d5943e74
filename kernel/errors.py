"""Application errors of the kernel; the API maps them to 4xx responses."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    status = 404


class Conflict(ApplicationError):
    status = 409


NOT_FOUND = "No {what} with id {id} exists."
SLUG_TAKEN = "A tenant with slug {slug!r} already exists."
EMAIL_TAKEN = "A user with email {email!r} already exists in this tenant."
ROLE_TAKEN = "A role named {name!r} already exists in this tenant."
CREDENTIAL_PRINCIPAL = "An API credential belongs to exactly one user or one Cell (canon)."
