"""Keyset pagination: ``?limit=`` and ``?cursor=``; pages cost the same at any depth.

The cursor is the id of the last row returned; the next page reads that row's sort key (e.g.
``created_at`` and ``id``) and continues with ``WHERE (key) < (its key)`` on an index led by
``tenant_id``, never ``OFFSET``. Being a plain UUID, every cursor the schema admits is one the
API can act on: an unknown one is a 404, never a decoding error.

``KeysetPagination`` is a DRF pagination class, so drf-spectacular documents the page
(``{results, next}``) and the two query parameters from the class itself.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
BAD_CURSOR = "The cursor is not one this API issued; start again without it."
GONE_CURSOR = "The cursor points at no row of this list (any more); start again without it."
BAD_LIMIT = f"limit must be an integer between 1 and {MAX_LIMIT}."


class KeysetPaginator:
    def __init__(self, fields: Sequence[str] = ("created_at", "id"), *, descending: bool = True):
        self.fields = tuple(fields)
        self.descending = descending

    def _limit(self, request: Request) -> int:
        raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
        # ASCII digits only: int() would also take " 5", "+5", "5_0" and full-width digits.
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
            raise ValidationError({"limit": [BAD_LIMIT]})
        return int(raw)

    def _after(self, qs: QuerySet[Any], cursor: str) -> QuerySet[Any]:
        if not CANONICAL_UUID.fullmatch(cursor):
            raise ValidationError({"cursor": [BAD_CURSOR]})
        last_id = uuid.UUID(cursor)
        # The sort key of the last row of the previous page, read from the same (tenant- and
        # filter-scoped) list: a cursor can only point into the list it came from.
        key = qs.filter(pk=last_id).values_list(*self.fields).first()
        if key is None:
            raise NotFound(GONE_CURSOR)
        op = "lt" if self.descending else "gt"
        # (a, b) < (x, y)  <=>  a < x OR (a = x AND b < y); the redundant a <= x is what the
        # index can seek to, so page n starts at the cursor instead of filtering pages 1..n-1.
        condition = Q()
        for i, field in enumerate(self.fields):
            term = Q(**{f"{field}__{op}": key[i]})
            for prior, value in zip(self.fields[:i], key[:i], strict=False):
                term &= Q(**{prior: value})
            condition |= term
        return qs.filter(Q(**{f"{self.fields[0]}__{op}e": key[0]}), condition)

    def paginate(self, qs: QuerySet[Any], request: Request) -> tuple[list[Any], str | None]:
        """Return the page's rows and the URL of the next page (None on the last one)."""
        limit = self._limit(request)
        cursor = request.query_params.get("cursor")
        if cursor is not None:
            qs = self._after(qs, cursor)
        prefix = "-" if self.descending else ""
        rows = list(qs.order_by(*(prefix + f for f in self.fields))[: limit + 1])
        if len(rows) <= limit:
            return rows, None
        rows = rows[:limit]
        return rows, replace_query_param(request.build_absolute_uri(), "cursor", str(rows[-1].pk))


class KeysetPagination(BasePagination):
    """DRF face of :class:`KeysetPaginator`. Subclass (or use :meth:`ordered_by`) to change the
    key; the default is newest first by ``(created_at, id)``."""

    fields: Sequence[str] = ("created_at", "id")
    descending = True

    @classmethod
    def ordered_by(cls, fields: Sequence[str], *, descending: bool) -> type[KeysetPagination]:
        name = "KeysetPagination_" + "_".join(fields) + ("_desc" if descending else "_asc")
        return type(name, (cls,), {"fields": tuple(fields), "descending": descending})

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: Any = None
    ) -> list[Any]:
        rows, self.next_url = KeysetPaginator(self.fields, descending=self.descending).paginate(
            queryset, request
        )
        return rows

    def get_paginated_response(self, data: Any) -> Response:
        return Response({"results": data, "next": self.next_url})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["results", "next"],
            "properties": {
                "results": schema,
                "next": {
                    "type": "string",
                    "format": "uri",
                    "nullable": True,
                    "description": "URL of the next page; null on the last page.",
                },
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "description": f"Rows per page, 1-{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                },
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "description": "The id of the last row of the previous page (as in its `next`).",
                "schema": {"type": "string", "format": "uuid"},
            },
        ]


class EstimatedCountPaginator(Paginator):
    """The admin's paginator without ``COUNT(*)`` over a large list: rows are counted only up
    to ``EXACT_UP_TO`` (``COUNT`` over a ``LIMIT``: bounded work on an index); past that the
    count is the planner's estimate (a plan, not a scan) or ``EXACT_UP_TO + 1``, whichever is
    larger. An estimate can be low (stale statistics, the RLS check costed as a filter), so the
    last pages of a large list may not be linked; a page itself costs its rows (``LIMIT`` /
    ``OFFSET`` on an index in list order). Pair with ``show_full_result_count = False``."""

    EXACT_UP_TO = 1_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet):
            return len(qs)
        seen = qs.order_by()[: self.EXACT_UP_TO + 1].count()
        if seen <= self.EXACT_UP_TO:
            return seen
        return max(seen, planner_rows(qs))


def planner_rows(qs: QuerySet[Any]) -> int:
    """The planner's estimate of the rows ``qs`` returns (EXPLAIN without ANALYZE)."""
    sql, params = qs.order_by().query.sql_with_params()
    with connections[qs.db].cursor() as cur:
        cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (plan,) = cur.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
