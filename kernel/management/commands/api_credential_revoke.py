from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError

from aibos.actors import Actor
from aibos.commands import TenantCommand
from kernel import services
from kernel.models import ApiCredential, Tenant


class Command(TenantCommand):
    help = "Revoke an API credential by its key id."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--key-id", required=True)

    def handle_tenant(self, tenant: Tenant, *, actor: Actor, **options: Any) -> None:
        credential = ApiCredential.objects.filter(key_id=options["key_id"]).first()
        if credential is None:
            raise CommandError(
                f"No API credential with key id {options['key_id']!r} in {tenant.slug}."
            )
        services.api_credential_revoke(actor=actor, credential=credential)
        self.stdout.write(f"Revoked {credential.key_id}.")
