from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from aibos.actors import Actor
from aibos.commands import TenantCommand
from kernel import services
from kernel.models import Canon, Tenant, User


class Command(TenantCommand):
    help = "Issue an API credential for a Cell (--canon) or a user (--user); prints the token once."

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--name", required=True, help="What the credential is for.")
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--canon", help="Name of the Cell (kernel.canons).")
        who.add_argument("--user", help="Email of the user.")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle_tenant(self, tenant: Tenant, *, actor: Actor, **options: Any) -> None:
        canon = user = None
        if options["canon"]:
            canon = Canon.objects.filter(name=options["canon"], deleted_at__isnull=True).first()
            if canon is None:
                raise CommandError(f"No Cell named {options['canon']!r} in {tenant.slug}.")
        else:
            user = User.objects.filter(
                email__iexact=options["user"], deleted_at__isnull=True
            ).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r} in {tenant.slug}.")
        days = options["expires_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-days must be a positive number of days.")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else None
        credential, token = services.api_credential_issue(
            actor=actor,
            name=options["name"],
            user=user,
            canon=canon,
            expires_at=expires_at,
        )
        self.stdout.write(f"key id: {credential.key_id}")
        self.stdout.write(f"token (shown once, store it now): {token}")
