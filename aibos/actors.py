"""Who acts: one typed actor from the request (or the command) to every service of every app.

The middleware builds an :class:`Actor` from the credential or session, attaches it to the
request (:func:`attach_actor` / :func:`request_actor`) and opens the tenant context with it; the
services take it as ``actor`` and find the tenant in it. The database sees the actor as the
``label`` string (``user:<uuid>``, ``cell:<uuid>``, ``command:<name>``): the ``app.actor``
variable the audit trigger records and the ``created_by`` / ``requested_by`` / ``approver``
columns.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import dataclass, field

from django.http import HttpRequest
from rest_framework.request import Request

BAD_NAME = "An actor name is 1 to 64 letters, digits, '.', '_' or '-'; got {name!r}."
# The request's WSGI environ: per request, a dict (so no attribute is added to the request
# object), reachable from Django's and DRF's request alike.
_REQUEST_KEY = "aibos.actor"
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class ActorKind(enum.StrEnum):
    USER = "user"  # a person: signed in, or a user's API credential
    CELL = "cell"  # another service, with its own API credential (kernel.canons)
    COMMAND = "command"  # a management command or other back-office job, named
    # Someone not yet known, e.g. a sign-in attempt (its event is recorded before anyone is).
    ANONYMOUS = "anonymous"
    # Room for OPERATOR (platform staff acting inside a tenant through a tenant switcher).


@dataclass(frozen=True)
class Actor:
    """Who acts, for which tenant: a user or a Cell (by id), or a command (by name)."""

    tenant_id: uuid.UUID
    kind: ActorKind
    id: uuid.UUID | str  # a UUID for users and Cells, a name for commands
    # How the actor authenticated, if through an API credential; not part of who it is.
    credential_id: uuid.UUID | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Validated once here, so every label that reaches the database is well-formed.
        object.__setattr__(self, "tenant_id", _uuid(self.tenant_id))
        object.__setattr__(self, "kind", ActorKind(self.kind))
        if self.kind in (ActorKind.USER, ActorKind.CELL):
            object.__setattr__(self, "id", _uuid(self.id))
        elif not isinstance(self.id, str) or not _NAME.fullmatch(self.id):
            raise ValueError(BAD_NAME.format(name=self.id))

    @classmethod
    def for_user(
        cls,
        tenant_id: uuid.UUID | str,
        user_id: uuid.UUID | str,
        *,
        credential_id: uuid.UUID | None = None,
    ) -> Actor:
        return cls(_uuid(tenant_id), ActorKind.USER, _uuid(user_id), credential_id)

    @classmethod
    def for_cell(
        cls,
        tenant_id: uuid.UUID | str,
        canon_id: uuid.UUID | str,
        *,
        credential_id: uuid.UUID | None = None,
    ) -> Actor:
        return cls(_uuid(tenant_id), ActorKind.CELL, _uuid(canon_id), credential_id)

    @classmethod
    def for_command(cls, tenant_id: uuid.UUID | str, name: str) -> Actor:
        return cls(_uuid(tenant_id), ActorKind.COMMAND, name)

    @classmethod
    def anonymous(cls, tenant_id: uuid.UUID | str, purpose: str) -> Actor:
        return cls(_uuid(tenant_id), ActorKind.ANONYMOUS, purpose)

    @property
    def user_id(self) -> uuid.UUID | None:
        return self.id if self.kind is ActorKind.USER and isinstance(self.id, uuid.UUID) else None

    @property
    def canon_id(self) -> uuid.UUID | None:
        return self.id if self.kind is ActorKind.CELL and isinstance(self.id, uuid.UUID) else None

    @property
    def label(self) -> str:
        """The database's spelling: ``user:<uuid>``, ``cell:<uuid>``, ``command:<name>``."""
        return f"{self.kind.value}:{self.id}"

    def __str__(self) -> str:
        return self.label


def _uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def attach_actor(request: HttpRequest, actor: Actor | None) -> None:
    """Record who the request acts as (the middleware does, once it has checked the claim)."""
    request.META[_REQUEST_KEY] = actor


def request_actor(request: HttpRequest | Request) -> Actor | None:
    """The actor the middleware attached to ``request`` (Django's or DRF's), if any."""
    http = request._request if isinstance(request, Request) else request
    value = http.META.get(_REQUEST_KEY)
    return value if isinstance(value, Actor) else None
