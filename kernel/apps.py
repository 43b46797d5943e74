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
