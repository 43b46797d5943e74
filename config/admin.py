from django.contrib import admin

from aibos.admin import ReadOnlyModelAdmin
from config.models import Feature, Policy, ProviderProfile, SelectionRule, Setting

# The config schema is read-only for every runtime role: these pages show, never edit.
for model in (ProviderProfile, Setting, Policy, Feature, SelectionRule):
    admin.site.register(model, ReadOnlyModelAdmin)
