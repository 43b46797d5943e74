from django.apps import AppConfig


class UnrenderableProbeConfig(AppConfig):
    name = "tests.guardian.probe_apps.unrenderable"
    label = "guardian_probe_unrenderable"
