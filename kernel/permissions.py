"""The permission catalogue: one code per (app, action, model), like Django's own.

Synced after every ``migrate`` by the owner; the runtime roles can only read it.
"""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps

GOVERNED_APPS = ("kernel", "config", "finance")
ACTIONS = ("view", "add", "change", "delete")


def catalogue() -> dict[str, str]:
    codes: dict[str, str] = {}
    for label in GOVERNED_APPS:
        for model in apps.get_app_config(label).get_models():
            for action in ACTIONS:
                code = f"{label}.{action}_{model._meta.model_name}"
                codes[code] = f"Can {action} {model._meta.verbose_name}"
    return codes


def sync_permissions(sender: AppConfig, using: str = "default", **kwargs: Any) -> None:
    if using != "default":
        return
    from kernel.models import Permission

    Permission.objects.using(using).bulk_create(
        [Permission(code=code, description=text) for code, text in sorted(catalogue().items())],
        ignore_conflicts=True,
    )
