"""The project's application error: every app raises it, the API maps it to a 4xx."""

from __future__ import annotations


class ApplicationError(Exception):
    """A request that cannot be carried out as asked; ``status`` is the HTTP status to answer."""

    status = 400

    def __init__(self, message: str, *, extra: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class Conflict(ApplicationError):
    status = 409
