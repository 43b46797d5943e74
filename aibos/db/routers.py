"""Pins each app to the database alias (and so the login role) that owns its schema."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

# Django's contrib apps keep their tables in `public`; at runtime they are read through the
# kernel alias (content types, auth permission names), never through the owner.
APP_ALIASES = {
    "kernel": "kernel",
    "finance": "finance",
    "config": "config",
    "auth": "kernel",
    "contenttypes": "kernel",
    "admin": "kernel",
    "sessions": "kernel",
    "pgtrigger": "kernel",
    "assurance": "kernel",
}


def alias_for(app_label: str) -> str:
    return APP_ALIASES.get(app_label, "kernel")


class SchemaRouter:
    """Reads and writes go to the app's runtime alias; only `default` (the owner) migrates.

    Relations are allowed only inside one alias, so a cross-schema foreign key cannot be
    declared: finance rows carry ``tenant_id`` as a plain UUID.
    """

    def db_for_read(self, model: type[Model], **hints: Any) -> str:
        return alias_for(model._meta.app_label)

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return alias_for(model._meta.app_label)

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return alias_for(obj1._meta.app_label) == alias_for(obj2._meta.app_label)

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == "default"
