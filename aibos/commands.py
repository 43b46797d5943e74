"""Base class for management commands that act on one tenant's data."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from aibos.actors import Actor
from aibos.tenancy import tenant_context
from kernel import selectors
from kernel.models import Tenant

UNKNOWN_TENANT = "No active tenant with slug {slug!r}."


class TenantCommand(BaseCommand):
    """Runs ``handle_tenant`` inside the tenant named by the required ``--tenant`` option, as
    the actor ``command:<command name>`` (passed on to the services it calls).

    There is no default and no "all tenants": a command that should touch several tenants is run
    once per tenant.
    """

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", required=True, help="The tenant's slug.")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = selectors.tenant_get_by_slug(slug=options["tenant"])
        if tenant is None:
            raise CommandError(UNKNOWN_TENANT.format(slug=options["tenant"]))
        name = type(self).__module__.rsplit(".", 1)[-1]
        actor = Actor.for_command(tenant.id, name)
        with tenant_context(actor):
            self.handle_tenant(
                tenant, actor=actor, **{k: v for k, v in options.items() if k != "tenant"}
            )

    def handle_tenant(self, tenant: Tenant, *, actor: Actor, **options: Any) -> None:
        raise NotImplementedError
