"""Finance schema. Rows carry tenant_id as a plain UUID: no key may cross into kernel."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models

from aibos.db.governance import TableGovernance
from aibos.db.models import SoftDeleteMixin, TenantScopedModel, VersionedMixin
from aibos.db.roles import SCHEMA_DEFAULT_GRANTS

FINANCE_GRANTS = SCHEMA_DEFAULT_GRANTS["finance"]
currency_code = RegexValidator(r"^[A-Z]{3}$", "Use an ISO 4217 code such as USD.")


class Company(TenantScopedModel, VersionedMixin, SoftDeleteMixin):
    """A legal entity within a tenant."""

    code = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    base_currency = models.CharField(max_length=3, validators=[currency_code])

    class Meta(TenantScopedModel.Meta):
        db_table = 'finance"."companies'
        verbose_name_plural = "companies"
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant_id", "id"], name="finance_company_tenant_key"),
            models.UniqueConstraint(
                fields=["tenant_id", "code"], name="finance_company_code_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(base_currency__regex=r"^[A-Z]{3}$"),
                name="finance_company_currency_format",
            ),
            TableGovernance(name="finance_company", grants=FINANCE_GRANTS, versioned=True),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
