"""A test-only view that writes and then answers 400: the middleware must roll it back."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from kernel.models import Role


def write_then_reject(request: HttpRequest) -> JsonResponse:
    Role.objects.create(name="half-written")
    return JsonResponse({"detail": "rejected"}, status=400)


def write_then_accept(request: HttpRequest) -> JsonResponse:
    Role.objects.create(name="fully-written")
    return JsonResponse({"ok": True}, status=201)


urlpatterns = [
    path("reject/", write_then_reject),
    path("accept/", write_then_accept),
    path("", include("aibos.urls")),
]
