"""Authentication that works with RLS on.

Sign-in names the tenant (its slug) next to the email and password. The only read made before
the tenant is known is the tenant registry (kernel.tenants: slug -> id; no tenant data). The user
is then looked up *under RLS in that tenant* by the kernel runtime role, the password checked,
and every attempt recorded as a kernel.events row (itself captured in kernel.audit_events).
No role bypasses RLS anywhere on this path.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from aibos.actors import Actor
from aibos.tenancy import current_context, tenant_context
from kernel import selectors, services
from kernel.models import User

EVENT_LOGIN_SUCCEEDED = "auth.login.succeeded"
EVENT_LOGIN_FAILED = "auth.login.failed"

# Hashing a dummy password for unknown tenants/users keeps the response time of a miss close to
# that of a wrong password, so timing does not reveal which emails exist.
_DUMMY_HASH: list[str] = []


def _burn_password_check(password: str) -> None:
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password("not-a-real-password"))
    User(password=_DUMMY_HASH[0]).check_password(password)


class TenantCredentialBackend:
    """Authenticates (tenant slug, email, password); loads users only inside a tenant context."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        tenant: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if not (username and password and tenant):
            return None
        found = selectors.tenant_get_by_slug(slug=tenant)
        if found is None:
            _burn_password_check(password)
            return None
        with tenant_context(found.id, using=["kernel"]):
            user = selectors.user_get_by_email(tenant_id=found.id, email=username)
            ok = user is not None and user.is_active and user.check_password(password)
            if user is None:
                _burn_password_check(password)
            services.event_record(
                actor=(
                    Actor.for_user(found.id, user.pk)
                    if ok and user
                    else Actor.anonymous(found.id, "sign-in")
                ),
                type=EVENT_LOGIN_SUCCEEDED if ok else EVENT_LOGIN_FAILED,
                payload={
                    "email": username.strip().lower(),
                    "user_id": str(user.pk) if user else None,
                },
            )
        return user if ok else None

    def get_user(self, user_id: Any) -> User | None:
        ctx = current_context()
        if ctx is None:
            return None
        user = selectors.user_get(tenant_id=ctx.tenant_id, user_id=user_id)
        return user if user is not None and user.is_active else None

    # Permission checks are answered by the user model (roles within its tenant).
    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        return bool(getattr(user_obj, "is_active", False)) and user_obj.has_perm(perm, obj)

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return bool(getattr(user_obj, "is_active", False)) and user_obj.has_module_perms(app_label)


class TenantAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin sign-in form with the tenant's slug in front of email and password."""

    tenant = forms.SlugField(
        label="Tenant",
        max_length=63,
        widget=forms.TextInput(attrs={"autofocus": True, "autocapitalize": "none"}),
    )
    field_order = ["tenant", "username", "password"]

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = "Email"
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.order_fields(self.field_order)

    def clean(self) -> dict[str, Any]:
        from django.contrib.auth import authenticate

        tenant = self.cleaned_data.get("tenant")
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if tenant and username and password:
            self.user_cache = authenticate(
                self.request, tenant=tenant, username=username, password=password
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    def get_invalid_login_error(self) -> forms.ValidationError:
        return forms.ValidationError(
            "Please enter the correct tenant, email and password for a staff account. "
            "Note that the password is case-sensitive.",
            code="invalid_login",
        )
