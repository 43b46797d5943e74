"""Two demo tenants with users, roles, a Cell and a company each. Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from aibos.tenancy import tenant_context
from finance.models import Company
from finance.services import company_create
from kernel import services
from kernel.models import ApiCredential, Canon, Role, Tenant, User

DEMO_PASSWORD = "fabric-demo-2026"

TENANTS: list[dict[str, Any]] = [
    {
        "slug": "acme",
        "name": "Acme Holdings",
        "users": [
            ("alice@acme.test", "Alice Approver", True),
            ("bob@acme.test", "Bob Clerk", False),
        ],
        "company": ("ACME-US", "Acme US Inc.", "USD"),
    },
    {
        "slug": "globex",
        "name": "Globex Group",
        "users": [("charlie@globex.test", "Charlie Controller", True)],
        "company": ("GLOBEX-EU", "Globex Europe GmbH", "EUR"),
    },
]

ROLES = {
    "tenant.admin": (
        "Administers the tenant",
        ["kernel.view_user", "kernel.change_user", "kernel.view_role"],
    ),
    "finance.approver.l1": ("First-level payment approver", ["finance.view_company"]),
    "finance.approver.l2": ("Second-level payment approver", ["finance.view_company"]),
    "finance.cfo": ("Chief financial officer", ["finance.view_company", "finance.change_company"]),
}


class Command(BaseCommand):
    help = "Create (or complete) the demo tenants acme and globex. Idempotent."

    def handle(self, *args: Any, **options: Any) -> None:
        for spec in TENANTS:
            tenant = Tenant.objects.filter(slug=spec["slug"]).first() or services.tenant_create(
                name=spec["name"], slug=spec["slug"]
            )
            self._seed_tenant(tenant, spec)
        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo data ready. Sign in at http://127.0.0.1:8000/admin/ with\n"
                f"  tenant: acme    email: alice@acme.test      password: {DEMO_PASSWORD}\n"
                f"  tenant: globex  email: charlie@globex.test  password: {DEMO_PASSWORD}"
            )
        )

    def _seed_tenant(self, tenant: Tenant, spec: dict[str, Any]) -> None:
        with tenant_context(tenant.id, actor="seed_demo"):
            roles = {r.name: r for r in Role.objects.all()}
            for name, (description, perms) in ROLES.items():
                if name not in roles:
                    roles[name] = services.role_create(
                        tenant=tenant,
                        actor=None,
                        name=name,
                        description=description,
                        permissions=perms,
                    )
            first_user = None
            for email, full_name, is_admin in spec["users"]:
                user = User.objects.filter(email__iexact=email).first()
                if user is None:
                    user = services.user_create(
                        tenant=tenant,
                        actor=None,
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        is_staff=True,
                        is_superuser=is_admin,
                    )
                    services.user_assign_role(
                        tenant=tenant,
                        actor=None,
                        user=user,
                        role=roles["tenant.admin" if is_admin else "finance.approver.l1"],
                    )
                first_user = first_user or user
            canon = Canon.objects.filter(name="payments-cell").first() or services.canon_register(
                tenant=tenant, actor=None, name="payments-cell", service_url="http://127.0.0.1:9000"
            )
            if not ApiCredential.objects.filter(canon=canon, revoked_at__isnull=True).exists():
                _, token = services.api_credential_issue(
                    tenant=tenant, actor=None, name="payments-cell demo key", canon=canon
                )
                self.stdout.write(
                    f"{tenant.slug}: API token for payments-cell (shown once): {token}"
                )
            code, name, currency = spec["company"]
            if not Company.objects.filter(code=code).exists():
                company_create(tenant_id=tenant.id, code=code, name=name, base_currency=currency)
        self.stdout.write(f"{tenant.slug}: ready ({len(spec['users'])} users, {len(ROLES)} roles)")
