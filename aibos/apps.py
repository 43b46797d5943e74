from django.apps import AppConfig, apps


class AibosConfig(AppConfig):
    """The project layer: wires the apps together (demo seeding, project-wide commands such as
    ``governance_report``, the system checks, what runs after every ``migrate``). kernel, config
    and finance never import each other's internals for this; only this layer knows all of
    them."""

    name = "aibos"
    verbose_name = "AI-BOS project"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from aibos import checks  # noqa: F401 - registers the system checks

        # post_migrate is sent once per app that has models, after every migration of the run;
        # this layer has none, so it acts once, on the kernel's (whose migration creates the
        # roles and schemas the hook re-asserts).
        post_migrate.connect(
            _after_migrate, sender=apps.get_app_config("kernel"), dispatch_uid="aibos_after_migrate"
        )


def _after_migrate(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    """Re-assert the platform roles' attributes and, when a superuser migrated, hand every
    governed object to the owner role (``aibos.db.bootstrap``)."""
    if using == "default":
        from django.db import connections

        from aibos.db.bootstrap import ensure_roles_on, hand_over_ownership

        ensure_roles_on(connections[using])
        hand_over_ownership(using)
