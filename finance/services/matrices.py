"""Approval matrices: versioned drafts of bands, activated atomically."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from aibos.actors import Actor
from aibos.db.fetch import scoped_get
from aibos.db.returning import attach_prefetched, update_returning
from aibos.errors import Conflict
from finance import errors
from finance.models import ApprovalBand, ApprovalMatrix, Company
from finance.models.fields import MONEY
from finance.services._plumbing import ALIAS, unit, validate_currency


@dataclass(frozen=True)
class BandInput:
    min_amount: Decimal
    max_amount: Decimal | None
    required_approvals: int
    approver_roles: Sequence[str]
    required_roles: Sequence[str] = ()


def approval_matrix_create(
    *,
    actor: Actor,
    company_id: uuid.UUID,
    payment_type: str,
    currency: str,
    bands: Sequence[BandInput],
) -> ApprovalMatrix:
    """A new DRAFT version of the matrix, with its bands; activate it with
    ``approval_matrix_activate``."""
    validate_currency(currency)
    tenant_id = actor.tenant_id
    with unit(actor):
        company = scoped_get(Company, tenant_id=tenant_id, pk=company_id)
        latest = (
            ApprovalMatrix.objects.filter(
                tenant_id=tenant_id, company=company, payment_type=payment_type, currency=currency
            )
            .order_by("-version")
            .values_list("version", flat=True)
            .first()
        )
        matrix = ApprovalMatrix(
            tenant_id=tenant_id,
            company=company,
            payment_type=payment_type,
            currency=currency,
            version=(latest or 0) + 1,
            created_by=actor.label,
        )
        matrix.full_clean(exclude=["company"])
        matrix.save(force_insert=True)
        written: list[ApprovalBand] = []
        for band in bands:
            row = ApprovalBand(
                tenant_id=tenant_id,
                matrix=matrix,
                min_amount=_as_stored(band.min_amount),
                max_amount=None if band.max_amount is None else _as_stored(band.max_amount),
                required_approvals=band.required_approvals,
                approver_roles=list(band.approver_roles),
                required_roles=list(band.required_roles),
            )
            row.save(force_insert=True)
            written.append(row)
        # In the relation's order (min_amount): what a read of the bands would return.
        bands_in_order = sorted(written, key=lambda b: b.min_amount)
        attach_prefetched(matrix, "bands", bands_in_order)
    return matrix


def _as_stored(amount: Decimal) -> Decimal:
    """A bound at the column's scale, as the database stores and returns it (the same value:
    the handed-back bands then read exactly as a later GET does, "10000.0000")."""
    return amount.quantize(Decimal(1).scaleb(-MONEY["decimal_places"]))


def approval_matrix_activate(*, actor: Actor, matrix_id: uuid.UUID) -> ApprovalMatrix:
    """Retire the active version (if any) and activate this one, atomically; the database
    refuses bands that do not cover [0, infinity) without gaps or overlaps."""
    tenant_id = actor.tenant_id
    with unit(actor):
        matrix = scoped_get(
            ApprovalMatrix.objects.prefetch_related("bands"),
            tenant_id=tenant_id,
            pk=matrix_id,
            lock=True,
        )
        if matrix.status not in ApprovalMatrix.transitions.sources(ApprovalMatrix.Status.ACTIVE):
            raise Conflict(errors.MATRIX_NOT_DRAFT.format(id=matrix.pk, status=matrix.status))
        ApprovalMatrix.objects.filter(
            tenant_id=tenant_id,
            company_id=matrix.company_id,
            payment_type=matrix.payment_type,
            currency=matrix.currency,
            status=ApprovalMatrix.Status.ACTIVE,
        ).update(status=ApprovalMatrix.Status.RETIRED)
        matrix.status = ApprovalMatrix.Status.ACTIVE
        update_returning(
            matrix, fields=["status"], returning=["activated_at", "updated_at"], using=ALIAS
        )
    return matrix
