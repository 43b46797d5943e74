from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from kernel.auth import TenantAdminAuthenticationForm

admin.site.login_form = TenantAdminAuthenticationForm
admin.site.site_url = None  # the admin is the only UI so far
# Django's Group model lives in `public` without tenant_id; roles (kernel.roles) replace it.
admin.site.unregister(Group)
admin.site.site_header = "AI-BOS Data Fabric"
admin.site.site_title = "AI-BOS Data Fabric"


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("kernel.urls")),
    path("api/v1/", include("finance.urls")),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="openapi-schema"),
    path(
        "api/v1/docs/",
        SpectacularSwaggerView.as_view(url_name="openapi-schema"),
        name="openapi-docs",
    ),
    path("healthz", health, name="health"),
]
