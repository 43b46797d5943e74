"""Admin base class for governed models."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest


class GovernedModelAdmin(admin.ModelAdmin):
    """Changes are recorded by the database audit trail (kernel.audit_events), in the same
    transaction, whoever makes them; Django's LogEntry (a table without tenant_id) is not used.
    Querysets go through the tenant-scoped manager, so the admin shows the signed-in tenant only.
    """

    # A URL typed without a scheme is https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def log_addition(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def log_change(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def log_deletions(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def log_deletion(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None


class ReadOnlyModelAdmin(GovernedModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    """Rows shown beside their parent, never added or deleted from it; every field read-only."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
