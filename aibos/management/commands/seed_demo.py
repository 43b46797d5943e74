"""Two demo tenants with users, roles, a Cell, two companies with books and payments each.
Safe to run again."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from finance.demo import demo_ledger_seed
from finance.models import Company
from kernel import services
from kernel.models import ApiCredential, Canon, Role, Tenant, User

DEMO_PASSWORD = "fabric-demo-2026"
# .ci/run reads the token from this line of the first run: keep its format.
TOKEN_ISSUED = "{slug}: API token for payments-cell (shown once): {token}"
TOKEN_SHOWN_BEFORE = (
    "{slug}: the payments-cell API token was shown when it was issued (tokens are shown once); "
    "for a new one:\n"
    "  .venv/bin/python manage.py api_credential_issue --tenant {slug} --canon payments-cell "
    '--name "demo key 2"'
)

TENANTS: list[dict[str, Any]] = [
    {
        "slug": "acme",
        "name": "Acme Holdings",
        "users": [
            ("alice@acme.test", "Alice Admin", True, "finance.cfo"),
            ("bob@acme.test", "Bob Approver", False, "finance.approver.l1"),
            ("dave@acme.test", "Dave Approver", False, "finance.approver.l2"),
        ],
        "companies": [
            ("ACME-US", "Acme US Inc.", "USD", "EUR"),
            ("ACME-EU", "Acme Europe B.V.", "EUR", None),
        ],
        "fx": [("EUR", "USD", "1.0850"), ("USD", "EUR", "0.9217")],
    },
    {
        "slug": "globex",
        "name": "Globex Group",
        "users": [
            ("charlie@globex.test", "Charlie Controller", True, "finance.cfo"),
            ("frank@globex.test", "Frank Approver", False, "finance.approver.l1"),
        ],
        "companies": [
            ("GLOBEX-EU", "Globex Europe GmbH", "EUR", "GBP"),
            ("GLOBEX-UK", "Globex UK Ltd", "GBP", None),
        ],
        "fx": [("GBP", "EUR", "1.1720"), ("EUR", "GBP", "0.8532")],
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
                f"  tenant: globex  email: charlie@globex.test  password: {DEMO_PASSWORD}\n"
                "Approvers: bob@acme.test (L1), dave@acme.test (L2), alice@acme.test (CFO), "
                "frank@globex.test (L1), charlie@globex.test (CFO); same password."
            )
        )

    def _seed_tenant(self, tenant: Tenant, spec: dict[str, Any]) -> None:
        actor = Actor.for_command(tenant.id, "seed_demo")
        with tenant_context(actor):
            roles = {r.name: r for r in Role.objects.all()}
            for name, (description, perms) in ROLES.items():
                if name not in roles:
                    roles[name] = services.role_create(
                        actor=actor,
                        name=name,
                        description=description,
                        permissions=perms,
                    )
            approvers: list[Actor] = []
            for email, full_name, is_admin, finance_role in spec["users"]:
                user = User.objects.filter(email__iexact=email).first()
                if user is None:
                    user = services.user_create(
                        actor=actor,
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        is_staff=True,
                        is_superuser=is_admin,
                    )
                    for role_name in (
                        ("tenant.admin", finance_role) if is_admin else (finance_role,)
                    ):
                        services.user_assign_role(actor=actor, user=user, role=roles[role_name])
                approvers.append(Actor.for_user(tenant.id, user.pk))
            canon = Canon.objects.filter(name="payments-cell").first() or services.canon_register(
                actor=actor, name="payments-cell", service_url="http://127.0.0.1:9000"
            )
            if not ApiCredential.objects.filter(canon=canon, revoked_at__isnull=True).exists():
                _, token = services.api_credential_issue(
                    actor=actor, name="payments-cell demo key", canon=canon
                )
                self.stdout.write(TOKEN_ISSUED.format(slug=tenant.slug, token=token))
            else:
                self.stdout.write(TOKEN_SHOWN_BEFORE.format(slug=tenant.slug))
        # A second unit of work: the users and roles above must be committed before anyone
        # approves, because the finance approval guard checks the approver against the kernel's
        # users and roles, which it reads through another connection.
        with tenant_context(actor):
            if not Company.objects.filter(code=spec["companies"][0][0]).exists():
                # Payments are requested by the Cell and approved by people (maker-checker);
                # the first non-admin user approves.
                demo_ledger_seed(
                    actor=actor,
                    companies=spec["companies"],
                    fx=spec["fx"],
                    approvers=approvers[1:],
                    requester=Actor.for_cell(tenant.id, canon.pk),
                )
        self.stdout.write(f"{tenant.slug}: ready ({len(spec['users'])} users, {len(ROLES)} roles)")
