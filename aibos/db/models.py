"""Abstract models carrying the standard columns and the tenant-scoped ORM layer."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, TypeVar

from django.contrib.postgres.functions import RandomUUID, TransactionNow
from django.db import models

from aibos.tenancy import require_context

WRONG_TENANT = "Row belongs to tenant {row}, but the active tenant context is {active}."

_M = TypeVar("_M", bound=models.Model)


class GovernedModel(models.Model):
    """UUID key and database-maintained timestamps (schema template §3.2).

    Every timestamp a unit of work writes reads one clock: the database's transaction time
    (``now()``), the same one the guard triggers use for ``posted_at``, ``submitted_at`` and
    ``paid_at``. Django's ``Now()`` is the *statement* time, which made a row created later in a
    transaction look younger than the posting that happened with it.
    """

    id = models.UUIDField(
        primary_key=True, default=uuid.uuid4, db_default=RandomUUID(), editable=False
    )
    created_at = models.DateTimeField(db_default=TransactionNow(), editable=False)
    # Maintained by the kernel.touch_row() trigger on every UPDATE, whoever issues it.
    updated_at = models.DateTimeField(db_default=TransactionNow(), editable=False)

    class Meta:
        abstract = True


class VersionedMixin(models.Model):
    """Optimistic-lock counter, bumped by the kernel.bump_version() trigger."""

    version = models.PositiveIntegerField(default=1, db_default=1, editable=False)

    class Meta:
        abstract = True


class SoftDeleteMixin(models.Model):
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class TenantScopedManager(models.Manager[_M]):
    """Scopes every queryset to the active tenant; without one it raises, never returns all rows.

    Models use it as their base manager too, so FK descriptors, ``prefetch_related``,
    ``refresh_from_db`` and deletion cascades are scoped as well. RLS enforces the same predicate
    in the database; the explicit filter is defense in depth and helps the planner.
    """

    def get_queryset(self) -> models.QuerySet[_M]:
        ctx = require_context()
        return super().get_queryset().filter(tenant_id=ctx.tenant_id)


class TenantScopedModel(GovernedModel):
    tenant_id = models.UUIDField(editable=False)

    objects: ClassVar[TenantScopedManager[Any]] = TenantScopedManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"
        default_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        ctx = require_context()
        if self.tenant_id is None:
            self.tenant_id = ctx.tenant_id
        elif self.tenant_id != ctx.tenant_id:
            raise PermissionError(WRONG_TENANT.format(row=self.tenant_id, active=ctx.tenant_id))
        super().save(*args, **kwargs)


def same_tenant_fk(
    to: type[models.Model] | str,
    *,
    related_name: str,
    on_delete: Any = models.CASCADE,
    null: bool = False,
) -> models.ForeignKey[Any, Any]:
    """A key to another row of the same tenant, for the ORM only.

    The database key is the composite ``TenantForeignKey`` the model declares in ``Meta``:
    ``(tenant_id, <field>_id) -> (tenant_id, id)``. A single-column constraint here would let a
    row point at another tenant's row (and reveal that it exists), so it is not created.
    """
    return models.ForeignKey(
        to,
        on_delete=on_delete,
        db_constraint=False,
        db_index=False,  # the composite indexes lead with tenant_id
        related_name=related_name,
        null=null,
        blank=null,
    )
