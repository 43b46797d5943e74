from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = "Kernel (control plane)"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from aibos import checks  # noqa: F401 - registers the system checks
        from kernel import signals
        from kernel.permissions import sync_permissions

        signals.connect()
        post_migrate.connect(sync_permissions, sender=self, dispatch_uid="kernel_sync_permissions")
        # After every migrate (post_migrate fires once all migrations are applied).
        post_migrate.connect(
            _hand_over_ownership, sender=self, dispatch_uid="kernel_hand_over_ownership"
        )


def _hand_over_ownership(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    if using == "default":
        from aibos.db.bootstrap import hand_over_ownership

        hand_over_ownership(using)
