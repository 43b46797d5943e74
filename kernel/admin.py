from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from aibos.admin import GovernedModelAdmin, ReadOnlyModelAdmin
from aibos.pagination import EstimatedCountPaginator
from aibos.tenancy import require_context
from kernel.models import (
    ApiCredential,
    AuditEvent,
    Canon,
    Event,
    Permission,
    Role,
    Route,
    Session,
    Tenant,
    User,
)


@admin.register(Tenant)
class TenantAdmin(ReadOnlyModelAdmin):
    """Tenants are created by deployers (`seed_demo`, services); a tenant's staff see their own."""

    list_display = ("slug", "name", "status", "plan", "created_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tenant]:
        return super().get_queryset(request).filter(pk=require_context().tenant_id)


@admin.register(User)
class UserAdmin(GovernedModelAdmin):
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "last_login")
    search_fields = ("email", "full_name")
    fields = ("email", "full_name", "is_active", "is_staff", "is_superuser", "last_login")
    readonly_fields = ("last_login",)
    delete_refused = (
        "A user is never deleted: the audit log, sessions and approvals name them. "
        'Untick "Active" to stop them signing in.'
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Users are created through kernel.services.user_create (password validation, roles).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Role)
class RoleAdmin(GovernedModelAdmin):
    list_display = ("name", "description", "version")
    search_fields = ("name",)


@admin.register(Permission)
class PermissionAdmin(ReadOnlyModelAdmin):
    list_display = ("code", "description")
    search_fields = ("code",)


@admin.register(Session)
class SessionAdmin(ReadOnlyModelAdmin):
    list_display = ("user", "created_at", "expires_at", "revoked_at", "ip_address")
    list_select_related = ("user",)


@admin.register(Canon)
class CanonAdmin(GovernedModelAdmin):
    list_display = ("name", "service_url", "is_active")


@admin.register(Route)
class RouteAdmin(GovernedModelAdmin):
    list_display = ("canon", "method", "path", "is_active")
    list_select_related = ("canon",)


@admin.register(Event)
class EventAdmin(ReadOnlyModelAdmin):
    list_display = ("type", "correlation_id", "created_at")
    list_filter = ("type",)


@admin.register(ApiCredential)
class ApiCredentialAdmin(ReadOnlyModelAdmin):
    list_display = ("name", "key_id", "user", "canon", "expires_at", "revoked_at")
    exclude = ("secret_hash",)


class AuditedTableFilter(admin.SimpleListFilter):
    """The governed tables, from the code: a filter over the log's own values would read every
    audit row of the tenant (SELECT DISTINCT) to draw the sidebar."""

    title = "table"
    parameter_name = "table"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        tables = sorted(
            m._meta.db_table.replace('"."', ".")
            for m in apps.get_models()
            if '"."' in m._meta.db_table and m is not AuditEvent
        )
        return [(t, t) for t in tables]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or "." not in value:
            return queryset
        schema, table = value.split(".", 1)
        return queryset.filter(table_name=table, schema_name=schema)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyModelAdmin):
    list_display = (
        "id",
        "occurred_at",
        "operation",
        "schema_name",
        "table_name",
        "row_id",
        "actor",
    )
    # Newest first on kernel_auditevent_recent_idx (or _table_idx when filtered); no COUNT.
    ordering = ("-occurred_at", "-id")
    list_filter = (AuditedTableFilter,)
    # Ids are matched exactly (an index probe per table), not as substrings of every row.
    search_fields = ("=row_id", "=correlation_id")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
