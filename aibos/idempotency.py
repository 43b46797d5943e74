"""Idempotent creation, once for every app.

A client sends an ``Idempotency-Key`` header with a create; the row stores the key, the
SHA-256 of the canonical request (``request_hash``) and the request itself
(``request_payload``), under a unique ``(tenant_id, idempotency_key)`` key named
``<app>_<model>_idempotency_unique``. A retry with the same key and request gets the original
row (200, ``Idempotent-Replay: true``); the same key with another request is a 409 naming the
fields that differ. Two identical requests racing both reach the unique key: the loser's
savepoint rolls back and it returns the winner's row.

The services call :func:`fingerprint`, :func:`create_once` and :func:`replay`; the APIs call
:func:`key_from` and :func:`respond`, and document the header with :data:`HEADER`.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from django.db import DatabaseError, IntegrityError, models, transaction
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from aibos.errors import ApplicationError, Conflict

KEY_REQUIRED = "An Idempotency-Key header is required for this request."
KEY_FORMAT = "The Idempotency-Key header is 1 to 128 visible ASCII characters."
MISMATCH = (
    "Idempotency key {key!r} was already used with a different request; differing fields: {fields}."
)
REPLAY_HEADER = "Idempotent-Replay"
_KEY = re.compile(r"[!-~]{1,128}")  # visible ASCII, as HTTP headers carry it
_UNIQUE_SUFFIX = "_idempotency_unique"

HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": "^[!-~]{1,128}$"},
    OpenApiParameter.HEADER,
    required=True,
    description="Unique per request; a retry with the same key and body returns the original "
    "result (200), the same key with another body is a 409 naming the differing fields.",
)

M = TypeVar("M", bound=models.Model)


class Recorded(Protocol):
    """A row created idempotently: what it was created from."""

    @property
    def request_hash(self) -> str: ...

    @property
    def request_payload(self) -> Any: ...


R = TypeVar("R", bound=Recorded)


def fingerprint(payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """SHA-256 of the canonical JSON of a request (sorted keys, amounts as strings), and that
    canonical form (what ``request_payload`` stores)."""
    canonical = json.loads(json.dumps(payload, sort_keys=True, default=str))
    digest = hashlib.sha256(
        json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return digest, canonical


def replay(existing: R, *, key: str, digest: str, payload: dict[str, Any]) -> R:
    """Same key, same request: the original row. Same key, other request: 409 naming fields."""
    if existing.request_hash == digest:
        return existing
    before = existing.request_payload or {}
    fields = sorted(k for k in set(before) | set(payload) if before.get(k) != payload.get(k))
    raise Conflict(
        MISMATCH.format(key=key, fields=", ".join(fields)),
        extra={"code": "idempotency_mismatch", "differing_fields": fields},
    )


def is_race(exc: DatabaseError) -> bool:
    """Whether ``exc`` is the unique idempotency key refusing a concurrent twin."""
    rule = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", "") or ""
    return rule.endswith(_UNIQUE_SUFFIX)


def create_once(
    source: type[M] | models.QuerySet[M],
    *,
    tenant_id: uuid.UUID,
    key: str,
    build: Callable[[], M],
    using: str,
) -> tuple[M, bool]:
    """``(row, created)``: the row already stored under ``key``, else the one ``build()``
    inserts. ``source`` may be a queryset, so an existing row comes back with what the caller
    serializes (``prefetch_related``). Concurrent twins block on the unique key; the loser's
    savepoint on ``using`` rolls back and it returns the winner's row."""
    qs = source if isinstance(source, models.QuerySet) else source._default_manager.all()
    existing = qs.filter(tenant_id=tenant_id, idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic(using=using):
            return build(), True
    except IntegrityError as exc:
        if not is_race(exc):
            raise
    return qs.get(tenant_id=tenant_id, idempotency_key=key), False


def key_from(request: Request) -> str:
    """The request's Idempotency-Key header: required, 1 to 128 visible ASCII characters."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        raise ApplicationError(KEY_REQUIRED, extra={"code": "idempotency_key_required"})
    if not _KEY.fullmatch(key):
        raise ApplicationError(KEY_FORMAT, extra={"code": "invalid"})
    return key


def respond(data: Any, created: bool) -> Response:
    """201 for a new row; 200 with ``Idempotent-Replay: true`` for a replay."""
    response = Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
    if not created:
        response[REPLAY_HEADER] = "true"
    return response
