from django.urls import path

from kernel.apis.views import MeApi

app_name = "kernel"
urlpatterns = [
    path("me/", MeApi.as_view(), name="me"),
]
