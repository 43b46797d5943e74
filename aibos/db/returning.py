"""Writes that read back, in the same statement, the columns the database sets.

Guard triggers set timestamps and counters (``submitted_at``, ``activated_at``, an approval's
``level``), the touch and version triggers ``updated_at`` and ``version``. Django's ``save()``
returns only columns with a ``db_default`` on INSERT and nothing on UPDATE, so a service would
have to read its own row again to hand back what it wrote. These two helpers add a
``RETURNING`` clause instead: one statement, one round trip, no second read.

Both build their SQL with Django's own compilers (values prepared by the fields, converters
applied to what comes back) and work on one tenant row inside the active tenant context.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import DatabaseError, connections, models
from django.db.models import sql

from aibos.db.models import WRONG_TENANT
from aibos.tenancy import require_context

M = TypeVar("M", bound=models.Model)
NO_ROW = "{model} {pk} was not updated: no such row in this tenant."


def _field(meta: Any, name: str) -> models.Field[Any, Any]:
    field = meta.get_field(name)
    assert isinstance(field, models.Field), name  # a concrete column, not a relation's far end
    return field


def insert_returning(obj: M, *, returning: Sequence[str], using: str) -> M:
    """INSERT ``obj`` as ``save(force_insert=True)`` does, reading back the ``db_default``
    columns and also ``returning`` (columns a trigger sets)."""
    meta = obj._meta
    ctx = require_context()
    tenant_id = getattr(obj, "tenant_id", None)
    if tenant_id is not None and tenant_id != ctx.tenant_id:
        raise PermissionError(WRONG_TENANT.format(row=tenant_id, active=ctx.tenant_id))
    extra = [_field(meta, name) for name in returning]
    fields = [f for f in meta.local_concrete_fields if not f.generated]
    back = [*meta.db_returning_fields, *(f for f in extra if f not in meta.db_returning_fields)]
    # QuerySet._insert is what Model.save() uses for the INSERT; here with more RETURNING columns.
    manager: Any = type(obj)._base_manager
    rows = manager._insert([obj], fields=fields, returning_fields=back, using=using)
    for value, field in zip(rows[0], back, strict=True):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return obj


def update_returning(obj: M, *, fields: Sequence[str], returning: Sequence[str], using: str) -> M:
    """UPDATE ``fields`` of ``obj`` (the values it holds) and set ``returning`` on it from the
    row as the database left it (after the triggers)."""
    meta = obj._meta
    model = type(obj)
    query: Any = model._base_manager.filter(
        tenant_id=getattr(obj, "tenant_id", None), pk=obj.pk
    ).query.chain(sql.UpdateQuery)
    query.add_update_values({name: getattr(obj, _field(meta, name).attname) for name in fields})
    compiler: Any = query.get_compiler(using)
    compiler.pre_sql_setup()
    statement, params = compiler.as_sql()
    back = [_field(meta, name) for name in returning]
    qn = connections[using].ops.quote_name
    statement += " RETURNING " + ", ".join(qn(str(f.column)) for f in back)
    with connections[using].cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        raise DatabaseError(NO_ROW.format(model=meta.object_name, pk=obj.pk))
    cols = [f.get_col(meta.db_table) for f in back]
    converters = compiler.get_converters(cols)
    values = next(iter(compiler.apply_converters([list(row)], converters))) if converters else row
    for value, field in zip(values, back, strict=True):
        setattr(obj, field.attname, value)
    return obj


def attach_prefetched(obj: models.Model, name: str, rows: Sequence[models.Model]) -> None:
    """Hand ``obj`` back with the rows of its reverse relation ``name`` that the caller has
    just written, where ``prefetch_related(name)`` would have put them: ``obj.<name>.all()``
    then runs no query. The rows must be all of them, in the relation's ordering."""
    field: Any = getattr(type(obj), name).field  # the key on the rows that points at obj
    # The queryset a further .filter() on the relation starts from: the same rows (this tenant,
    # this obj). Its filter is deferred until something needs the SQL, as Django's related
    # managers do: built eagerly it would cost more than the posting's Python work around it.
    qs: Any = models.QuerySet(model=field.model)
    qs._defer_next_filter = True
    qs = qs.filter(tenant_id=getattr(obj, "tenant_id", None), **{field.name: obj})
    qs._result_cache = list(rows)
    qs._prefetch_done = True
    for row in rows:
        field.set_cached_value(row, obj)
    obj.__dict__.setdefault("_prefetched_objects_cache", {})[field.remote_field.cache_name] = qs
