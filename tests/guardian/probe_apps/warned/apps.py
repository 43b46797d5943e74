from django.apps import AppConfig


class WarnedProbeConfig(AppConfig):
    name = "tests.guardian.probe_apps.warned"
    label = "guardian_probe_warned"
