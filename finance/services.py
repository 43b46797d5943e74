"""Finance writes: one transaction on the finance alias each, tenant explicit."""

from __future__ import annotations

import uuid

from django.db import IntegrityError

from aibos.tenancy import tenant_context
from finance.models import Company
from kernel import errors

COMPANY_CODE_TAKEN = "A company with code {code!r} already exists in this tenant."


def company_create(*, tenant_id: uuid.UUID, code: str, name: str, base_currency: str) -> Company:
    company = Company(
        tenant_id=tenant_id, code=code, name=name, base_currency=base_currency.upper()
    )
    try:
        with tenant_context(tenant_id, using=["finance"]):
            company.full_clean()
            company.save(force_insert=True)
    except IntegrityError as exc:
        raise errors.Conflict(COMPANY_CODE_TAKEN.format(code=code)) from exc
    return company
