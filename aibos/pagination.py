"""Keyset pagination: ``?limit=`` and an opaque ``?cursor=``; pages cost the same at any depth.

The cursor encodes the sort key of the last row returned (e.g. ``created_at`` and ``id``);
the next page is ``WHERE (key) < (cursor)`` on an index led by ``tenant_id``, never ``OFFSET``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.utils.urls import replace_query_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
BAD_CURSOR = "The cursor is not one this API issued; start again without it."
BAD_LIMIT = f"limit must be an integer between 1 and {MAX_LIMIT}."


class KeysetPaginator:
    def __init__(self, fields: Sequence[str] = ("created_at", "id"), *, descending: bool = True):
        self.fields = tuple(fields)
        self.descending = descending

    def _limit(self, request: Request) -> int:
        raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
        try:
            limit = int(raw)
        except ValueError:
            raise ValidationError({"limit": BAD_LIMIT}) from None
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError({"limit": BAD_LIMIT})
        return limit

    def _after(self, qs: QuerySet[Any], cursor: str) -> QuerySet[Any]:
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))
            if not isinstance(values, list) or len(values) != len(self.fields):
                raise ValueError
            typed = [
                qs.model._meta.get_field(f).to_python(v)
                for f, v in zip(self.fields, values, strict=True)
            ]
        except (ValueError, TypeError, binascii.Error, DjangoValidationError) as exc:
            raise ValidationError({"cursor": BAD_CURSOR}) from exc
        op = "lt" if self.descending else "gt"
        # (a, b) < (x, y)  <=>  a < x OR (a = x AND b < y)
        condition = Q()
        for i, field in enumerate(self.fields):
            term = Q(**{f"{field}__{op}": typed[i]})
            for prior, value in zip(self.fields[:i], typed[:i], strict=False):
                term &= Q(**{prior: value})
            condition |= term
        return qs.filter(condition)

    def paginate(self, qs: QuerySet[Any], request: Request) -> tuple[list[Any], str | None]:
        """Return the page's rows and the URL of the next page (None on the last one)."""
        limit = self._limit(request)
        cursor = request.query_params.get("cursor")
        if cursor:
            qs = self._after(qs, cursor)
        prefix = "-" if self.descending else ""
        rows = list(qs.order_by(*(prefix + f for f in self.fields))[: limit + 1])
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, replace_query_param(
            request.build_absolute_uri(), "cursor", self._encode(rows[-1])
        )

    def _encode(self, row: Model) -> str:
        values = [getattr(row, f) for f in self.fields]
        raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values])
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
