"""Fetch one tenant row by id: the one helper kernel and finance use for it.

The tenant is an explicit predicate even though RLS (and the tenant-scoped manager) apply it
too: defense in depth, and it lets the planner use the tenant-leading key. A row of another
tenant is indistinguishable from a missing one: the same ``None`` or the same 404, whose
message names only the id the caller sent.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, TypeVar, overload

from django.db import models
from django.utils.text import capfirst

from aibos.errors import NOT_FOUND, NotFound

M = TypeVar("M", bound=models.Model)


@overload
def scoped_get(
    source: type[M] | models.QuerySet[M],
    *,
    tenant_id: uuid.UUID,
    pk: Any,
    what: str | None = ...,
    lock: bool = ...,
    missing_ok: Literal[False] = ...,
) -> M: ...


@overload
def scoped_get(
    source: type[M] | models.QuerySet[M],
    *,
    tenant_id: uuid.UUID,
    pk: Any,
    what: str | None = ...,
    lock: bool = ...,
    missing_ok: Literal[True],
) -> M | None: ...


def scoped_get(
    source: type[M] | models.QuerySet[M],
    *,
    tenant_id: uuid.UUID,
    pk: Any,
    what: str | None = None,
    lock: bool = False,
    missing_ok: bool = False,
) -> M | None:
    """Row ``pk`` of ``tenant_id`` from a model or a queryset (for ``select_related``,
    ``prefetch_related`` or extra filters); NotFound (404) when there is none, or None with
    ``missing_ok``. ``lock`` selects it FOR UPDATE (services only). ``what`` names the row in
    the message (default: the model's verbose name)."""
    qs = source if isinstance(source, models.QuerySet) else source._default_manager.all()
    qs = qs.filter(tenant_id=tenant_id, pk=pk)
    if lock:
        qs = qs.select_for_update()
    obj = qs.first()
    if obj is None and not missing_ok:
        name = what or capfirst(str(qs.model._meta.verbose_name))
        raise NotFound(NOT_FOUND.format(what=name, id=pk))
    return obj
