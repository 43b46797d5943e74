"""Every index the migrations left in a governed schema is one a model declares.

Django names an index only by its bare name when it drops one, so ``RemoveIndex`` on a table in
the ``finance`` schema silently dropped nothing (``DROP INDEX IF EXISTS`` resolves through
``search_path``): the stale index stayed, costing every write, and reversing the migration
failed on it. This compares the catalog with the models.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connections

GOVERNED_APPS = ("kernel", "finance", "config")
# Apps whose models live in those schemas: assurance keeps its tables in the kernel schema.
MODEL_APPS = (*GOVERNED_APPS, "assurance")
pytestmark = pytest.mark.django_db(databases="__all__")


def _declared() -> set[str]:
    names: set[str] = set()
    for label in MODEL_APPS:
        for model in apps.get_app_config(label).get_models():
            names |= {index.name for index in model._meta.indexes}
            names |= {c.name for c in model._meta.constraints if getattr(c, "name", None)}
    return names


def test_every_named_index_in_a_governed_schema_is_declared_by_a_model() -> None:
    with connections["default"].cursor() as cur:
        cur.execute(
            "SELECT schemaname || '.' || indexname, indexname FROM pg_indexes "
            "WHERE schemaname = ANY(%s) AND indexname ~ ('^(' || array_to_string(%s::text[], '|') || ')_')",
            [list(GOVERNED_APPS), list(GOVERNED_APPS)],
        )
        deployed = dict(cur.fetchall())
    assert len(deployed) > 20
    declared = _declared()
    assert sorted(q for q, name in deployed.items() if name not in declared) == []
