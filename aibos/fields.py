"""Serializer fields that accept exactly what the OpenAPI document says, and nothing else.

DRF's own fields are lenient: ``CharField`` turns 123 into "123", ``BooleanField`` takes 0,
"yes" and "on", ``IntegerField`` takes "5" and 5.0, ``UUIDField`` takes 32 bare hex digits or
"urn:uuid:..." — all of which the document calls invalid. A JSON API means one thing per input.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from rest_framework import serializers

CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


class StrictCharField(serializers.CharField):
    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        # The document's maxLength counts what was sent, before DRF trims whitespace.
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be true or false (a JSON boolean)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictUUIDField(serializers.UUIDField):
    """Canonical 8-4-4-4-12 form only (query strings too)."""

    def to_internal_value(self, data: Any) -> uuid.UUID:
        if not isinstance(data, str) or not CANONICAL_UUID.fullmatch(data):
            self.fail("invalid", value=data)
        return uuid.UUID(data)
