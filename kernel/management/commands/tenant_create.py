from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from kernel import errors, services
from kernel.models import Tenant


class Command(BaseCommand):
    help = "Create a tenant."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--slug", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--plan", choices=Tenant.Plan.values, default=Tenant.Plan.STANDARD)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tenant = services.tenant_create(
                name=options["name"], slug=options["slug"], plan=options["plan"]
            )
        except errors.ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Created tenant {tenant.slug} ({tenant.id}).")
