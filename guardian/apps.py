from django.apps import AppConfig


class GuardianConfig(AppConfig):
    name = "guardian"
    verbose_name = "Schema Guardian (migration and catalog rules, living schema documentation)"

    def ready(self) -> None:
        from guardian import checks  # noqa: F401 - registers the configuration check
