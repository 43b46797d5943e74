"""The project's application error: every app raises it, the API maps it to a 4xx."""

from __future__ import annotations

from dataclasses import dataclass


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class Conflict(ApplicationError):
    status = 409


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
            message=getattr(diag, "message_primary", None) or "The database refused the request.",
        )
