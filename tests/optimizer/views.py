"""Fixture views for the N+1 and OFFSET tests: one with the loop, one without, one paginated
with OFFSET (Django's Paginator). Line numbers matter: the tests name them."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, JsonResponse

from kernel.models import Role, UserRole


def roles_of_user(request: HttpRequest, user_id: str) -> JsonResponse:
    links = UserRole.objects.filter(user_id=user_id).order_by("created_at")
    names = [link.role.name for link in links]  # N+1: one roles query per link
    return JsonResponse({"roles": names})


def roles_of_user_fixed(request: HttpRequest, user_id: str) -> JsonResponse:
    links = UserRole.objects.filter(user_id=user_id).select_related("role").order_by("created_at")
    names = [link.role.name for link in links]
    return JsonResponse({"roles": names})


def roles_page(request: HttpRequest) -> JsonResponse:
    paginator = Paginator(Role.objects.order_by("-created_at", "id"), 2)
    page = paginator.page(int(request.GET.get("page", "1")))
    return JsonResponse({"roles": [r.name for r in page.object_list]})
