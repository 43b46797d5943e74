from django.apps import AppConfig


class PlatformConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Platform configuration"
