"""Reads. Each takes the tenant first and filters on it explicitly; RLS enforces it too."""

from __future__ import annotations

import uuid

from django.contrib.postgres.functions import TransactionNow
from django.utils import timezone

from aibos.db.fetch import scoped_get
from kernel.models import (
    ApiCredential,
    AuditEvent,
    Session,
    Tenant,
    User,
    UserRole,
)


def tenant_get_by_slug(*, slug: str) -> Tenant | None:
    """The one read that happens before a tenant is known: the tenant registry holds no
    tenant data (name, slug, status), so it is not row-level secured."""
    return Tenant.objects.filter(slug=slug.strip().lower(), status=Tenant.Status.ACTIVE).first()


def user_get_by_email(*, tenant_id: uuid.UUID, email: str) -> User | None:
    return (
        User.objects.filter(
            tenant_id=tenant_id, email__iexact=email.strip(), deleted_at__isnull=True
        )
        .order_by()
        .first()
    )


def user_get(*, tenant_id: uuid.UUID, user_id: uuid.UUID | str) -> User | None:
    """A live user, or None (sign-in and credentials treat a missing user as no user)."""
    return scoped_get(
        User.objects.filter(deleted_at__isnull=True),
        tenant_id=tenant_id,
        pk=user_id,
        missing_ok=True,
    )


def session_is_active(
    *, tenant_id: uuid.UUID, session_id: uuid.UUID | str, user_id: uuid.UUID | str
) -> bool:
    return Session.objects.filter(
        tenant_id=tenant_id,
        pk=session_id,
        user_id=user_id,
        revoked_at__isnull=True,
        expires_at__gt=TransactionNow(),
    ).exists()


def api_credential_live(*, tenant_id: uuid.UUID, key_id: str) -> ApiCredential | None:
    now = timezone.now()
    credential = (
        ApiCredential.objects.filter(tenant_id=tenant_id, key_id=key_id, revoked_at__isnull=True)
        .select_related("user", "canon")
        .first()
    )
    if credential is None or (credential.expires_at and credential.expires_at <= now):
        return None
    # The principal behind the credential must still be live: deactivating or deleting a user
    # or a Cell silences its credentials at once.
    principal = credential.user or credential.canon
    if principal is None or not principal.is_active or principal.deleted_at is not None:
        return None
    return credential


def role_names_for_user(*, tenant_id: uuid.UUID, user_id: uuid.UUID | str) -> set[str]:
    """Live role names of an active user (empty for a missing or inactive one)."""
    return set(
        UserRole.objects.filter(
            tenant_id=tenant_id,
            user_id=user_id,
            user__is_active=True,
            user__deleted_at__isnull=True,
            role__deleted_at__isnull=True,
        ).values_list("role__name", flat=True)
    )


def audit_events_for_row(
    *, tenant_id: uuid.UUID, db_table: str, row_id: str, limit: int
) -> list[AuditEvent]:
    """The newest `limit` audit events of one row; `db_table` as in ``Meta.db_table``."""
    schema, table = db_table.split('"."')
    return list(
        AuditEvent.objects.filter(
            tenant_id=tenant_id, schema_name=schema, table_name=table, row_id=row_id
        ).order_by("-id")[:limit]
    )
