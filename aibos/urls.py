from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from kernel.auth import TenantAdminAuthenticationForm

admin.site.login_form = TenantAdminAuthenticationForm
admin.site.site_header = "AI-BOS Data Fabric"
admin.site.site_title = "AI-BOS Data Fabric"


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("kernel.urls")),
    path("healthz", health, name="health"),
]
