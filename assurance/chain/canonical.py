"""The canonical form of an audit event, and the chain's link hash.

An event's canonical form is UTF-8 JSON with sorted keys and no whitespace, in which every
number (amounts, ids, transaction ids) is a string holding its exact decimal text as stored:
no float ever touches a value that is hashed. Timestamps are UTC, ISO 8601, microseconds, ``Z``.

``link = SHA-256(TAG || previous link || canonical event)``; the first event of a chain follows
32 zero bytes. The evidence pack's ``audit_events.jsonl`` holds these canonical lines byte for
byte, so its ``verify.py`` recomputes the chain by hashing lines, without re-serialising.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from typing import Any
from uuid import UUID

TAG = b"aibos.audit.v1\n"
GENESIS = bytes(32)
# The chain of platform-wide events (tenant_id NULL: tenants, permissions, global settings).
PLATFORM_CHAIN = UUID(int=0)

# kernel.audit_events columns in the order every reader selects them (event_columns()); jsonb
# columns as text, so their numbers reach Python as the exact text PostgreSQL stores, and the
# time already in its canonical form (UTC, microseconds, Z): no datetime parsed and re-printed.
_COLUMNS = (
    "id",
    "tenant_id",
    "to_char({p}occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
    "schema_name",
    "table_name",
    "row_id",
    "operation",
    "old_values::text",
    "new_values::text",
    "changed_fields::text",
    "actor",
    "actor_user_id",
    "db_role",
    "correlation_id",
    "txid",
)


def event_columns(alias: str = "") -> str:
    """The select list of an event, its columns qualified by ``alias`` (``"e"``) if given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(c.format(p=prefix) if "{p}" in c else prefix + c for c in _COLUMNS)


EVENT_COLUMNS = event_columns()


def _json_values(text: str | None) -> Any:
    if text is None:
        return None
    return json.loads(text, parse_int=str, parse_float=str)


def utc_text(moment: dt.datetime | str) -> str:
    """A time as every hashed or exported value states it: UTC, microseconds, ``Z``."""
    if isinstance(moment, str):  # selected through event_columns(): already canonical
        return moment
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def canonical_event(row: tuple[Any, ...]) -> bytes:
    """A row selected with :data:`EVENT_COLUMNS` -> its canonical bytes."""
    return canonical_bytes(event_fields(row))


def canonical_bytes(event: Mapping[str, Any]) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    """A row selected with :data:`EVENT_COLUMNS` -> the event as it is hashed (exact strings)."""
    (
        event_id,
        tenant_id,
        occurred_at,
        schema_name,
        table_name,
        row_id,
        operation,
        old_values,
        new_values,
        changed_fields,
        actor,
        actor_user_id,
        db_role,
        correlation_id,
        txid,
    ) = row
    return {
        "actor": actor,
        "actor_user_id": _text(actor_user_id),
        "changed_fields": _json_values(changed_fields),
        "correlation_id": correlation_id,
        "db_role": db_role,
        "id": str(event_id),
        "new_values": _json_values(new_values),
        "occurred_at": utc_text(occurred_at),
        "old_values": _json_values(old_values),
        "operation": operation,
        "row_id": row_id,
        "schema_name": schema_name,
        "table_name": table_name,
        "tenant_id": _text(tenant_id),
        "txid": str(txid),
    }


def link(previous: bytes, canonical: bytes) -> bytes:
    return hashlib.sha256(TAG + previous + canonical).digest()
