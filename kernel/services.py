"""Writes. Keyword-only, one transaction each on the kernel alias, ``actor`` first (an
:class:`aibos.actors.Actor`: the tenant is the actor's). Creating a tenant and opening or
revoking a session come before anyone acts in a tenant, and take what they need instead."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from contextlib import AbstractContextManager

from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.password_validation import validate_password
from django.contrib.postgres.functions import TransactionNow
from django.db import IntegrityError, connections, transaction

from aibos.actors import Actor
from aibos.errors import DatabaseRefusal
from aibos.tenancy import TenantContext, tenant_context
from kernel import credentials, errors
from kernel.models import (
    ApiCredential,
    Canon,
    Event,
    Permission,
    Role,
    RolePermission,
    Session,
    Tenant,
    User,
    UserRole,
)

ALIAS = "kernel"


def _kernel_context(actor: Actor) -> AbstractContextManager[TenantContext]:
    return tenant_context(actor, using=[ALIAS])


def tenant_create(*, name: str, slug: str, plan: str = Tenant.Plan.STANDARD) -> Tenant:
    slug = slug.strip().lower()
    try:
        with transaction.atomic(using=ALIAS):
            return Tenant.objects.create(name=name, slug=slug, plan=plan)
    except IntegrityError as exc:
        raise errors.Conflict(errors.SLUG_TAKEN.format(slug=slug)) from exc


def user_create(
    *,
    actor: Actor,
    email: str,
    password: str | None,
    full_name: str = "",
    is_staff: bool = False,
    is_superuser: bool = False,
) -> User:
    email = BaseUserManager.normalize_email(email.strip())
    user = User(
        tenant_id=actor.tenant_id,
        email=email,
        full_name=full_name,
        is_staff=is_staff,
        is_superuser=is_superuser,
    )
    if password is None:
        user.set_unusable_password()
    else:
        validate_password(password, user)
        user.set_password(password)
    try:
        with _kernel_context(actor):
            user.save(force_insert=True)
    except IntegrityError as exc:
        raise errors.Conflict(errors.EMAIL_TAKEN.format(email=email)) from exc
    return user


def role_create(
    *,
    actor: Actor,
    name: str,
    description: str = "",
    permissions: Iterable[str] = (),
) -> Role:
    try:
        with _kernel_context(actor):
            role = Role.objects.create(
                tenant_id=actor.tenant_id, name=name, description=description
            )
            _grant(role, permissions)
    except IntegrityError as exc:
        raise errors.Conflict(errors.ROLE_TAKEN.format(name=name)) from exc
    return role


def _grant(role: Role, codes: Iterable[str]) -> None:
    wanted = set(codes)
    found = {p.code: p for p in Permission.objects.filter(code__in=wanted)}
    unknown = wanted - found.keys()
    if unknown:
        raise errors.ApplicationError(
            errors.UNKNOWN_PERMISSIONS.format(codes=", ".join(sorted(unknown)))
        )
    RolePermission.objects.bulk_create(
        [RolePermission(tenant_id=role.tenant_id, role=role, permission=p) for p in found.values()]
    )


def user_assign_role(*, actor: Actor, user: User, role: Role) -> UserRole:
    with _kernel_context(actor):
        link, _ = UserRole.objects.get_or_create(tenant_id=actor.tenant_id, user=user, role=role)
    return link


def canon_register(*, actor: Actor, name: str, service_url: str = "") -> Canon:
    with _kernel_context(actor):
        return Canon.objects.create(tenant_id=actor.tenant_id, name=name, service_url=service_url)


def api_credential_issue(
    *,
    actor: Actor,
    name: str,
    user: User | None = None,
    canon: Canon | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[ApiCredential, str]:
    """Returns the credential and the token; the token is shown once and never stored."""
    if (user is None) == (canon is None):
        raise errors.ApplicationError(errors.CREDENTIAL_PRINCIPAL)
    secret = credentials.new_secret()
    with _kernel_context(actor):
        credential = ApiCredential.objects.create(
            tenant_id=actor.tenant_id,
            name=name,
            key_id=credentials.new_key_id(),
            secret_hash=credentials.hash_secret(secret),
            user=user,
            canon=canon,
            expires_at=expires_at,
        )
    return credential, credentials.format_token(actor.tenant_id, credential.key_id, secret)


def api_credential_revoke(*, actor: Actor, credential: ApiCredential) -> None:
    with _kernel_context(actor):
        ApiCredential.objects.filter(pk=credential.pk, revoked_at__isnull=True).update(
            revoked_at=TransactionNow()
        )


def session_open(
    *, user: User, ip_address: str | None, user_agent: str, lifetime_seconds: int
) -> Session:
    """At sign-in, as the user signing in (who is not yet the request's actor)."""
    with tenant_context(Actor.for_user(user.tenant_id, user.pk), using=[ALIAS]):
        User.objects.filter(pk=user.pk).update(last_login=TransactionNow())
        session = Session.objects.create(
            tenant_id=user.tenant_id,
            user=user,
            expires_at=TransactionNow() + dt.timedelta(seconds=lifetime_seconds),
            ip_address=ip_address,
            user_agent=user_agent[:255],
        )
        session.refresh_from_db(fields=["expires_at"])  # the value the database computed
        return session


def session_revoke(*, tenant_id: uuid.UUID, session_id: uuid.UUID | str) -> None:
    """At sign-out, in the tenant of the session (as the request's actor, if there is one)."""
    with tenant_context(tenant_id, using=[ALIAS]):
        Session.objects.filter(pk=session_id, revoked_at__isnull=True).update(
            revoked_at=TransactionNow()
        )


def event_record(*, actor: Actor, type: str, payload: dict[str, object]) -> Event:
    with tenant_context(actor, using=[ALIAS]) as ctx:
        return Event.objects.create(
            tenant_id=actor.tenant_id,
            type=type,
            payload=payload,
            correlation_id=ctx.correlation_id,
        )


def approval_grant_issue(
    *, actor: Actor, payment_id: uuid.UUID, role: str, decision: str
) -> dict[str, object]:
    """The identity plane's signed grant for the user ``actor`` to decide ``decision`` on a
    payment with ``role`` (five minutes). PostgreSQL signs only for the user of this kernel
    transaction's context, and only if that user is active in the tenant and holds the role
    (``kernel.approval_grant_issue``, kernel migration 0003); the key never leaves the database."""
    if actor.user_id is None:
        raise errors.Forbidden(errors.GRANT_NEEDS_USER)
    try:
        with (
            tenant_context(actor, using=[ALIAS]),
            connections[ALIAS].cursor() as cur,
        ):
            cur.execute(
                "SELECT kernel.approval_grant_issue(%s, %s, %s)", [payment_id, role, decision]
            )
            # Django reads jsonb back as text (JSONField decodes it itself).
            grant: dict[str, object] = json.loads(cur.fetchone()[0])
    except IntegrityError as exc:
        refusal = DatabaseRefusal.of(exc)
        raise errors.Forbidden(refusal.message, extra={"code": refusal.rule}) from exc
    return grant
