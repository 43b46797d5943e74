"""Admin base classes for governed models."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from aibos.errors import DatabaseRefusal
from aibos.tenancy import require_context
from kernel import selectors

FINAL_ROWS = (
    "These rows are final: they change only through the services, where every change is "
    "checked, and are never deleted. Their history is kept in the audit log."
)
OBJECT_MISSING = "That {name} does not exist. Perhaps it was deleted?"
# Changes shown per history page; older ones are in Audit events (filter by row id).
HISTORY_LIMIT = 200


class GovernedModelAdmin(admin.ModelAdmin):
    """Changes are recorded by the database audit trail (kernel.audit_events), in the same
    transaction, whoever makes them; Django's LogEntry (a table without tenant_id, which the
    runtime roles may not read) is neither written nor read: the history page shows the row's
    audit events. Querysets go through the tenant-scoped manager, so the admin shows the
    signed-in tenant only.
    """

    # A URL typed without a scheme is https (Django 6's default, chosen now).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    object_history_template = "admin/audit_history.html"
    # Why a row cannot be deleted, shown on its delete page instead of a bare 403.
    delete_refused = FINAL_ROWS

    def log_addition(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def log_change(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def log_deletions(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def log_deletion(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        opts = self.model._meta
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            # As on the change page: missing and another tenant's (hidden by RLS) look the same.
            self.message_user(
                request, OBJECT_MISSING.format(name=opts.verbose_name), messages.WARNING
            )
            return HttpResponseRedirect(reverse("admin:index", current_app=self.admin_site.name))
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        events = selectors.audit_events_for_row(
            tenant_id=require_context().tenant_id,
            db_table=opts.db_table,
            row_id=str(obj.pk),
            limit=HISTORY_LIMIT,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "module_name": str(opts.verbose_name_plural).capitalize(),
            "object": obj,
            "opts": opts,
            "events": [_describe(e) for e in events],
            "limit": HISTORY_LIMIT,
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.object_history_template, context)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        obj = self.get_object(request, unquote(object_id))
        if (
            obj is not None
            and self.has_view_permission(request, obj)
            and not self.has_delete_permission(request, obj)
        ):
            return self._delete_refused(request, obj, self.delete_refused)
        try:
            return super().delete_view(request, object_id, extra_context)
        except DatabaseError as exc:
            # The admin's own savepoint around the delete has rolled back; the request's
            # transaction is still usable. A guard trigger or key said no: show what it said.
            if obj is None:
                raise
            return self._delete_refused(request, obj, DatabaseRefusal.of(exc).message)

    def _delete_refused(self, request: HttpRequest, obj: models.Model, reason: str) -> HttpResponse:
        opts = self.model._meta
        context = {
            **self.admin_site.each_context(request),
            "title": f"Cannot delete {obj}",
            "subtitle": None,
            "object": obj,
            "opts": opts,
            "module_name": str(opts.verbose_name_plural).capitalize(),
            "reason": reason,
        }
        request.current_app = self.admin_site.name
        # A page that explains on GET; a refused POST is a 403 (and rolls back the request).
        status = 200 if request.method == "GET" else 403
        return TemplateResponse(request, "admin/delete_refused.html", context, status=status)


def _describe(event: Any) -> dict[str, Any]:
    """One audit event as the history page shows it: what changed, from what to what."""
    if event.operation == "UPDATE":
        old, new = event.old_values or {}, event.new_values or {}
        changes = [
            f"{field}: {old.get(field)!r} \u2192 {new.get(field)!r}"
            for field in event.changed_fields or ()
            if field not in ("updated_at", "version")
        ]
    else:
        changes = []
    return {
        "occurred_at": event.occurred_at,
        "operation": event.operation,
        "actor": event.actor,
        "db_role": event.db_role,
        "correlation_id": event.correlation_id,
        "changes": changes,
    }


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
