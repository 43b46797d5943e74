"""Admin: the tenant page gains "Export evidence pack" (the same pack as `evidence_export`)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from django.contrib import admin, messages
from django.core.management.base import CommandError
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest
from django.http.response import HttpResponseBase

from assurance.evidence import export_pack
from kernel.admin import TenantAdmin
from kernel.models import Tenant

ONE_TENANT = "Select exactly one tenant to export."
ADMINS_ONLY = "Only the tenant's administrators export evidence."


class AssuredTenantAdmin(TenantAdmin):
    actions = ["export_evidence"]

    @admin.action(description="Export evidence pack (signed ZIP)")
    def export_evidence(
        self, request: HttpRequest, queryset: QuerySet[Tenant]
    ) -> HttpResponseBase | None:
        if not getattr(request.user, "is_superuser", False):
            self.message_user(request, ADMINS_ONLY, messages.ERROR)
            return None
        tenants = list(queryset[:2])
        if len(tenants) != 1:
            self.message_user(request, ONE_TENANT, messages.ERROR)
            return None
        (tenant,) = tenants
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{tenant.slug}-evidence.zip"
            try:
                # No worker processes inside a web server's process (threads, pools).
                export_pack(tenant.id, tenant.slug, path, parallel=False)
            except CommandError as exc:  # no signing key configured: say so, change nothing
                self.message_user(request, str(exc), messages.ERROR)
                return None
            handle = path.open("rb")  # stays readable after the folder is removed (POSIX)
        return FileResponse(handle, as_attachment=True, filename=path.name)


admin.site.unregister(Tenant)
admin.site.register(Tenant, AssuredTenantAdmin)
