from django.apps import AppConfig


class BlockedProbeConfig(AppConfig):
    name = "tests.guardian.probe_apps.blocked"
    label = "guardian_probe_blocked"
