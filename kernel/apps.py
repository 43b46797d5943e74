from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = "Kernel (control plane)"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from kernel import signals
        from kernel.permissions import sync_permissions

        signals.connect()
        post_migrate.connect(sync_permissions, sender=self, dispatch_uid="kernel_sync_permissions")
        # After every migrate (post_migrate fires once all migrations are applied).
        post_migrate.connect(_after_migrate, sender=self, dispatch_uid="kernel_after_migrate")


def _after_migrate(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    if using == "default":
        from django.db import connections

        from aibos.db.bootstrap import ensure_roles_on, hand_over_ownership

        ensure_roles_on(connections[using])
        hand_over_ownership(using)
