from django.apps import AppConfig


class PlatformConfigConfig(AppConfig):
    name = "config"
    label = "config"
    verbose_name = "Platform configuration"

    def ready(self) -> None:
        from config import checks  # noqa: F401 - registers the provider profile staleness check
