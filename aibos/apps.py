from django.apps import AppConfig


class AibosConfig(AppConfig):
    """The project layer: wires the apps together (demo seeding, project-wide commands such as
    ``governance_report``, the system checks). kernel, config and finance never import each
    other's internals for this; only this layer knows all of them."""

    name = "aibos"
    verbose_name = "AI-BOS project"

    def ready(self) -> None:
        from aibos import checks  # noqa: F401 - registers the system checks
