"""The project's application errors: every app raises them, the API maps each to its 4xx.

The status-coded classes live here, once; ``kernel.errors`` and ``finance.errors`` re-export them
next to their own message constants.
"""

from __future__ import annotations

from dataclasses import dataclass


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class NotFound(ApplicationError):
    status = 404


class Forbidden(ApplicationError):
    status = 403


class Conflict(ApplicationError):
    status = 409


class Unprocessable(ApplicationError):
    status = 422


NOT_FOUND = "{what} {id} does not exist."
VALUE_OUT_OF_RANGE = (
    "A value in the request is outside what can be stored (too large, too precise or malformed)."
)
RULE_REFUSED = "The request breaks the rule {rule}."
DATABASE_REFUSED = "The database refused the request."
# PostgreSQL's own wording for constraint violations (as opposed to the messages our guard
# triggers raise): these name tables, columns and key values, so clients never see them.
_NATIVE_MESSAGES = (
    "duplicate key value",
    "conflicting key value",
    "new row ",
    "insert or update on table",
    "update or delete on table",
    "null value in column",
    "value too long",
    "numeric field overflow",
    "invalid input",
    "date/time field value",
    "could not ",
)


@dataclass(frozen=True)
class DatabaseRefusal:
    """What PostgreSQL said when it refused a statement (read from psycopg's diagnostics)."""

    sqlstate: str
    rule: str  # the constraint (or the rule a guard trigger names), if any
    message: str

    @classmethod
    def of(cls, exc: BaseException) -> DatabaseRefusal:
        cause = exc.__cause__
        diag = getattr(cause, "diag", None)
        return cls(
            sqlstate=getattr(cause, "sqlstate", None) or "",
            rule=getattr(diag, "constraint_name", None) or "",
            message=getattr(diag, "message_primary", None) or DATABASE_REFUSED,
        )

    def for_client(self) -> str:
        """The message a client may see: our guard triggers' own wording, never PostgreSQL's
        (which names tables, columns and values, and names no request field)."""
        if self.sqlstate.startswith("22"):
            return VALUE_OUT_OF_RANGE
        if not self.rule:
            return DATABASE_REFUSED
        if self.message.startswith(_NATIVE_MESSAGES):
            return RULE_REFUSED.format(rule=self.rule)
        return self.message
