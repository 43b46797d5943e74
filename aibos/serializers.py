"""Output serializers that cost a response what it returns, not DRF's per-request setup.

A DRF ``Serializer`` deep-copies and binds its declared fields for every instance before it
writes a single value (a journal with two lines: ~0.25 ms, more than the posting's own Python
work). :class:`FastOutput` keeps the declaration — the OpenAPI document is still generated from
it — and writes the answer with a plan compiled once per class from the same fields: each value
read from its ``source`` as DRF reads it and rendered by the declared field's own
``to_representation``, so the bytes are the same (``tests/aibos/test_serializers.py`` compares
them, for every output serializer of the API, with DRF's generic path).

For output only, and only for the fields it knows: plain fields, nested output serializers
(single, ``source="*"``, or ``many=True``) and ``SerializerMethodField``; any other field is
refused when the plan is compiled, never silently written another way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from django.db import models
from rest_framework import relations, serializers
from rest_framework.fields import is_simple_callable

UNSUPPORTED = "{cls}.{name}: FastOutput cannot write a {kind}; declare it differently."

_Read = Callable[[Any, Any], Any]


def _getter(source: str) -> Callable[[Any], Any]:
    """What DRF's ``Field.get_attribute`` reads for ``source``: dotted attributes (or keys),
    calling what is a simple callable (``bands.all``); ``*`` is the object itself."""
    if source == "*":
        return lambda obj: obj
    attrs = source.split(".")

    def get(obj: Any) -> Any:
        for attr in attrs:
            if obj is None:
                return None
            obj = obj[attr] if isinstance(obj, Mapping) else getattr(obj, attr)
            if is_simple_callable(obj):
                obj = obj()
        return obj

    return get


def _writer(cls: type, name: str, field: Any) -> _Read:
    if isinstance(field, serializers.SerializerMethodField):
        method = field.method_name or f"get_{name}"
        return lambda serializer, obj: getattr(serializer, method)(obj)
    if isinstance(field, relations.RelatedField | serializers.HiddenField):
        raise TypeError(UNSUPPORTED.format(cls=cls.__name__, name=name, kind=type(field).__name__))
    if isinstance(field, serializers.ListSerializer):
        child = field.child
        if not isinstance(child, FastOutput):
            raise TypeError(UNSUPPORTED.format(cls=cls.__name__, name=name, kind="plain list"))

        def render(rows: Any) -> list[Any]:
            rows = rows.all() if isinstance(rows, models.Manager) else rows
            return [child.to_representation(row) for row in rows]

        convert: Callable[[Any], Any] = render
    elif isinstance(field, serializers.BaseSerializer) and not isinstance(field, FastOutput):
        raise TypeError(UNSUPPORTED.format(cls=cls.__name__, name=name, kind="plain serializer"))
    else:
        convert = field.to_representation
    get = _getter(str(field.source or name))

    def write(serializer: Any, obj: Any) -> Any:
        value = get(obj)
        return None if value is None else convert(value)

    return write


class FastOutput(serializers.Serializer):
    """An output serializer written by a plan compiled once per class (see the module)."""

    _plans: ClassVar[dict[type, tuple[tuple[str, _Read], ...]]] = {}

    @classmethod
    def _plan(cls) -> tuple[tuple[str, _Read], ...]:
        plan = FastOutput._plans.get(cls)
        if plan is None:
            plan = tuple(
                (name, _writer(cls, name, field))
                for name, field in cls._declared_fields.items()
                if not field.write_only
            )
            FastOutput._plans[cls] = plan
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        return {name: write(self, instance) for name, write in self._plan()}
