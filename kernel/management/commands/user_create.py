from __future__ import annotations

import getpass
import os
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from aibos.actors import Actor
from aibos.commands import TenantCommand
from kernel import errors, services
from kernel.models import Tenant

PASSWORD_ENV = "AIBOS_NEW_USER_PASSWORD"


class Command(TenantCommand):
    help = f"Create a user in a tenant. The password comes from ${PASSWORD_ENV} or a prompt."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--email", required=True)
        parser.add_argument("--full-name", default="")
        parser.add_argument("--staff", action="store_true", help="May sign in to the admin.")
        parser.add_argument(
            "--superuser", action="store_true", help="Every permission, in this tenant."
        )

    def handle_tenant(self, tenant: Tenant, *, actor: Actor, **options: Any) -> None:
        password = os.environ.get(PASSWORD_ENV) or getpass.getpass("Password: ")
        try:
            user = services.user_create(
                actor=actor,
                email=options["email"],
                password=password,
                full_name=options["full_name"],
                is_staff=options["staff"] or options["superuser"],
                is_superuser=options["superuser"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        except errors.ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created {user.email} in {tenant.slug}.")
