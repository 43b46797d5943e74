"""Admin: open recommendations with their evidence, and the approve / apply actions.

Approving records the signed-in operator as the approver (never the requester: the service
says so and a CHECK constraint refuses it anyway). Applying builds the index with the owner
connection; outside development it refuses a recommendation without an approval. Both go
through the services, so both are audited. Platform administrators (superusers) only.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html

from aibos.actors import request_actor
from aibos.errors import ApplicationError
from optimizer import services
from optimizer.models import Recommendation

ADMINS_ONLY = "Only platform administrators approve or apply optimizer recommendations."


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    list_display = ["title", "rule", "status", "table_name", "weight", "reduction", "last_seen_at"]
    list_filter = ["status", "rule"]
    search_fields = ["title", "table_name", "message"]
    actions = ["approve", "apply"]
    readonly_fields = [f.name for f in Recommendation._meta.fields] + ["evidence_pretty"]
    exclude = ["evidence"]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The page is a work queue: open recommendations unless a filter says otherwise (applied
        # in place, not by a redirect: the page answers 200 like every other admin page).
        if not request.GET and request.method == "GET":
            default = request.GET.copy()
            default["status__exact"] = "open"
            request.GET = default  # type: ignore[assignment]
        return super().changelist_view(request, extra_context)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Recommendation]:
        return super().get_queryset(request).using(services.ALIAS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(getattr(request.user, "is_superuser", False))

    # LogEntry is a table the runtime roles may not read; the audit trigger records changes.
    def log_change(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        return None

    @admin.display(description="weight (ms)")
    def weight(self, obj: Recommendation) -> str:
        value = obj.evidence.get("workload_weight_ms")
        return "" if value is None else f"{value:,.0f}"

    @admin.display(description="cost reduction")
    def reduction(self, obj: Recommendation) -> str:
        value = obj.evidence.get("reduction_pct")
        return "" if value is None else f"{value}%"

    @admin.display(description="evidence (plans before/after, costs, weight)")
    def evidence_pretty(self, obj: Recommendation) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.evidence, indent=2, default=str))

    def _run(self, request: HttpRequest, queryset: QuerySet[Recommendation], verb: str) -> None:
        actor = request_actor(request)
        if actor is None or not getattr(request.user, "is_superuser", False):
            self.message_user(request, ADMINS_ONLY, messages.ERROR)
            return
        for rec in queryset:
            try:
                if verb == "approve":
                    services.recommendation_approve(recommendation=rec, actor=actor)
                else:
                    services.recommendation_apply(recommendation=rec, actor=actor)
                self.message_user(request, f"{verb}d: {rec.title}", messages.SUCCESS)
            except ApplicationError as exc:
                self.message_user(request, f"{rec.title}: {exc.message}", messages.ERROR)

    @admin.action(description="Approve (you must not be the requester)")
    def approve(self, request: HttpRequest, queryset: QuerySet[Recommendation]) -> None:
        self._run(request, queryset, "approve")

    @admin.action(description="Apply index (CONCURRENTLY, lock_timeout; approval outside dev)")
    def apply(self, request: HttpRequest, queryset: QuerySet[Recommendation]) -> None:
        self._run(request, queryset, "apply")
