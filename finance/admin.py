from django.contrib import admin

from aibos.admin import GovernedModelAdmin
from finance.models import Company


@admin.register(Company)
class CompanyAdmin(GovernedModelAdmin):
    list_display = ("code", "name", "base_currency")
