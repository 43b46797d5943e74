"""Kernel schema: tenants, identities, access control, service registry, events and audit."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower

from aibos.db.governance import (
    RLS_AUDIT_LOG,
    TableGovernance,
    TenantForeignKey,
    TenantRegistryKey,
)
from aibos.db.models import (
    GovernedModel,
    SoftDeleteMixin,
    TenantScopedManager,
    TenantScopedModel,
    VersionedMixin,
    same_tenant_fk,
)
from aibos.db.roles import CRUD, KERNEL_ROLE, READ, READONLY_ROLE

KERNEL_GRANTS = {KERNEL_ROLE: CRUD, READONLY_ROLE: READ}


def tenant_keys(prefix: str) -> list[models.BaseConstraint]:
    """The (tenant_id, id) key that composite foreign keys point at, and tenant_id -> tenants."""
    return [
        models.UniqueConstraint(fields=["tenant_id", "id"], name=f"{prefix}_tenant_key"),
        TenantRegistryKey(name=f"{prefix}_tenant_fk"),
    ]


class Tenant(GovernedModel, VersionedMixin):
    class Status(models.TextChoices):
        ACTIVE = "active"
        SUSPENDED = "suspended"
        CLOSED = "closed"

    class Plan(models.TextChoices):
        FREE = "free"
        STANDARD = "standard"
        ENTERPRISE = "enterprise"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=63, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    plan = models.CharField(max_length=16, choices=Plan.choices, default=Plan.STANDARD)

    class Meta:
        db_table = 'kernel"."tenants'
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended", "closed"]),
                name="kernel_tenant_status_valid",
            ),
            # The tenants table is the registry of tenants, not tenant data: no tenant_id and no
            # RLS (docs/data-model.md). Tenants are closed, never deleted.
            TableGovernance(
                name="kernel_tenant",
                grants={KERNEL_ROLE: ("SELECT", "INSERT", "UPDATE"), READONLY_ROLE: READ},
                rls=None,
                audit="id",
                versioned=True,
            ),
        ]

    def __str__(self) -> str:
        return self.slug


class Permission(GovernedModel):
    """The platform's permission catalogue: defined by code and migrations, the same for all
    tenants, so global (no tenant_id) and read-only at runtime."""

    code = models.CharField(max_length=150, unique=True)
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        db_table = 'kernel"."permissions'
        ordering = ["code"]
        constraints = [
            TableGovernance(
                name="kernel_permission",
                grants={KERNEL_ROLE: READ, READONLY_ROLE: READ},
                rls=None,
                audit="",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class UserManager(TenantScopedManager["User"], BaseUserManager["User"]):
    pass


class User(AbstractBaseUser, TenantScopedModel, VersionedMixin, SoftDeleteMixin):
    """A person who signs in. Email is unique per tenant, case-insensitively."""

    email = models.EmailField(max_length=254)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin.")
    is_superuser = models.BooleanField(
        default=False, help_text="Holds every permission, within this user's tenant only."
    )

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."users'
        constraints = [
            *tenant_keys("kernel_user"),
            models.UniqueConstraint(
                "tenant_id", Lower("email"), name="kernel_user_email_unique_per_tenant"
            ),
            TableGovernance(
                name="kernel_user",
                grants=KERNEL_GRANTS,
                redact=["password"],
                versioned=True,
            ),
        ]

    def __str__(self) -> str:
        return self.email

    # Permissions come from roles (kernel.user_roles -> role_permissions -> permissions). The
    # query is here rather than in kernel.selectors, which imports this module.
    def get_all_permissions(self, obj: Any = None) -> set[str]:
        if not self.is_active:
            return set()
        codes = RolePermission.objects.filter(
            tenant_id=self.tenant_id,
            role__user_links__user_id=self.pk,
            role__deleted_at__isnull=True,
        ).values_list("permission__code", flat=True)
        return set(codes)

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        if self.is_active and self.is_superuser:
            return True
        return perm in self.get_all_permissions(obj)

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        if self.is_active and self.is_superuser:
            return True
        return any(p.startswith(f"{app_label}.") for p in self.get_all_permissions())


class Role(TenantScopedModel, VersionedMixin, SoftDeleteMixin):
    name = models.CharField(max_length=150, help_text="e.g. finance.approver.l1")
    description = models.CharField(max_length=255, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."roles'
        ordering = ["name"]
        constraints = [
            *tenant_keys("kernel_role"),
            models.UniqueConstraint(fields=["tenant_id", "name"], name="kernel_role_name_unique"),
            TableGovernance(name="kernel_role", grants=KERNEL_GRANTS, versioned=True),
        ]

    def __str__(self) -> str:
        return self.name


class RolePermission(TenantScopedModel):
    role = same_tenant_fk(Role, related_name="grants")
    # The catalogue is global: a plain single-column key is right here.
    permission = models.ForeignKey(Permission, on_delete=models.PROTECT, related_name="+")

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."role_permissions'
        constraints = [
            *tenant_keys("kernel_rolepermission"),
            models.UniqueConstraint(
                fields=["tenant_id", "role", "permission"], name="kernel_rolepermission_unique"
            ),
            TenantForeignKey(
                name="kernel_rolepermission_role_fk",
                column="role_id",
                to="kernel.Role",
                on_delete="CASCADE",
            ),
            TableGovernance(name="kernel_rolepermission", grants=KERNEL_GRANTS),
        ]


class UserRole(TenantScopedModel):
    user = same_tenant_fk(User, related_name="role_links")
    role = same_tenant_fk(Role, related_name="user_links")

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."user_roles'
        constraints = [
            *tenant_keys("kernel_userrole"),
            models.UniqueConstraint(
                fields=["tenant_id", "user", "role"], name="kernel_userrole_unique"
            ),
            TenantForeignKey(
                name="kernel_userrole_user_fk",
                column="user_id",
                to="kernel.User",
                on_delete="CASCADE",
            ),
            TenantForeignKey(
                name="kernel_userrole_role_fk",
                column="role_id",
                to="kernel.Role",
                on_delete="CASCADE",
            ),
            TableGovernance(name="kernel_userrole", grants=KERNEL_GRANTS),
        ]
        indexes = [models.Index(fields=["tenant_id", "role"], name="kernel_userrole_role_idx")]


class Session(TenantScopedModel):
    """One signed-in browser session; checked on every request so it can be revoked."""

    user = same_tenant_fk(User, related_name="sessions")
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."sessions'
        constraints = [
            *tenant_keys("kernel_session"),
            TenantForeignKey(
                name="kernel_session_user_fk",
                column="user_id",
                to="kernel.User",
                on_delete="CASCADE",
            ),
            TableGovernance(name="kernel_session", grants=KERNEL_GRANTS),
        ]
        indexes = [models.Index(fields=["tenant_id", "user"], name="kernel_session_user_idx")]


class Canon(TenantScopedModel, SoftDeleteMixin):
    """A registered service (a "Cell") that calls the platform."""

    name = models.CharField(max_length=150)
    service_url = models.URLField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."canons'
        ordering = ["name"]
        constraints = [
            *tenant_keys("kernel_canon"),
            models.UniqueConstraint(fields=["tenant_id", "name"], name="kernel_canon_name_unique"),
            TableGovernance(name="kernel_canon", grants=KERNEL_GRANTS),
        ]

    def __str__(self) -> str:
        return self.name


class Route(TenantScopedModel):
    class Method(models.TextChoices):
        GET = "GET"
        POST = "POST"
        PUT = "PUT"
        PATCH = "PATCH"
        DELETE = "DELETE"

    canon = same_tenant_fk(Canon, related_name="routes")
    method = models.CharField(max_length=8, choices=Method.choices)
    path = models.CharField(max_length=500)
    is_active = models.BooleanField(default=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."routes'
        constraints = [
            *tenant_keys("kernel_route"),
            models.UniqueConstraint(
                fields=["tenant_id", "canon", "method", "path"], name="kernel_route_unique"
            ),
            TenantForeignKey(
                name="kernel_route_canon_fk",
                column="canon_id",
                to="kernel.Canon",
                on_delete="CASCADE",
            ),
            TableGovernance(name="kernel_route", grants=KERNEL_GRANTS),
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class Event(TenantScopedModel):
    """A fact published on the event bus. Facts are never edited: append-only."""

    type = models.CharField(max_length=150)
    payload = models.JSONField(default=dict)
    correlation_id = models.CharField(max_length=64, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."events'
        constraints = [
            *tenant_keys("kernel_event"),
            TableGovernance(
                name="kernel_event",
                grants={KERNEL_ROLE: ("SELECT", "INSERT"), READONLY_ROLE: READ},
                append_only=True,
                touch=False,
            ),
        ]
        indexes = [
            models.Index(fields=["tenant_id", "type", "created_at"], name="kernel_event_type_idx")
        ]


class ApiCredential(TenantScopedModel):
    """A bearer token for a Cell or a user, bound to one tenant; only its hash is stored."""

    name = models.CharField(max_length=150)
    key_id = models.CharField(max_length=32, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    user = same_tenant_fk(User, related_name="api_credentials", null=True)
    canon = same_tenant_fk(Canon, related_name="api_credentials", null=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta(TenantScopedModel.Meta):
        db_table = 'kernel"."api_credentials'
        constraints = [
            *tenant_keys("kernel_apicredential"),
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, canon__isnull=True)
                | models.Q(user__isnull=True, canon__isnull=False),
                name="kernel_apicredential_one_principal",
            ),
            TenantForeignKey(
                name="kernel_apicredential_user_fk",
                column="user_id",
                to="kernel.User",
                on_delete="CASCADE",
            ),
            TenantForeignKey(
                name="kernel_apicredential_canon_fk",
                column="canon_id",
                to="kernel.Canon",
                on_delete="CASCADE",
            ),
            TableGovernance(
                name="kernel_apicredential", grants=KERNEL_GRANTS, redact=["secret_hash"]
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_id})"


class AuditEvent(models.Model):
    """One row per changed row, written by the kernel.audit_capture() trigger in the same
    transaction as the change. Runtime roles may only read it (their tenant's rows)."""

    id = models.BigAutoField(primary_key=True)
    tenant_id = models.UUIDField(null=True, editable=False)
    occurred_at = models.DateTimeField(editable=False)
    schema_name = models.CharField(max_length=63, editable=False)
    table_name = models.CharField(max_length=63, editable=False)
    # NULL, not "", is what the trigger writes when there is no row id / no correlation id.
    row_id = models.CharField(max_length=64, null=True, editable=False)  # noqa: DJ001
    operation = models.CharField(max_length=16, editable=False)
    old_values = models.JSONField(null=True, editable=False)
    new_values = models.JSONField(null=True, editable=False)
    changed_fields = models.JSONField(null=True, editable=False)
    actor = models.CharField(max_length=200, editable=False)
    actor_user_id = models.UUIDField(null=True, editable=False)
    db_role = models.CharField(max_length=63, editable=False)
    correlation_id = models.CharField(max_length=64, null=True, editable=False)  # noqa: DJ001
    txid = models.BigIntegerField(editable=False)

    objects: ClassVar[TenantScopedManager[Any]] = TenantScopedManager()

    class Meta:
        db_table = 'kernel"."audit_events'
        base_manager_name = "objects"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["tenant_id", "id"], name="kernel_auditevent_tenant_idx"),
            models.Index(
                fields=["tenant_id", "table_name", "row_id"], name="kernel_auditevent_row_idx"
            ),
            # The admin's log, newest first, whole and by table. Keyed on the time, not the id:
            # with ORDER BY id the planner may walk the log's primary key backwards and filter
            # the tenant, which reads every newer row of every other tenant first.
            models.Index(
                fields=["tenant_id", "-occurred_at", "-id"], name="kernel_auditevent_recent_idx"
            ),
            models.Index(
                fields=["tenant_id", "table_name", "-occurred_at", "-id"],
                name="kernel_auditevent_table_idx",
            ),
            # The audit sealer's walk (assurance.chain.sealer): (txid, id) order.
            models.Index(fields=["txid", "id"], name="kernel_auditevent_seal_idx"),
        ]
        constraints = [
            TableGovernance(
                name="kernel_auditevent",
                grants={KERNEL_ROLE: READ, READONLY_ROLE: READ},
                rls=RLS_AUDIT_LOG,
                audit=None,
                touch=False,
                append_only=True,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.schema_name}.{self.table_name} {self.row_id}"
