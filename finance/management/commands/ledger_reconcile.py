"""Check the stored balances and posting numbers against the posted lines; exit non-zero on any
difference. Reads only, as the finance runtime role."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from aibos.actors import Actor
from aibos.commands import TenantCommand
from finance import selectors
from kernel.models import Tenant

DIFFERENCES = "{n} difference(s) between stored totals and posted lines in tenant {slug}."


class Command(TenantCommand):
    help = "Reconcile account balances and posting numbers against the posted journal lines."

    def handle_tenant(self, tenant: Tenant, *, actor: Actor, **options: Any) -> None:
        balances = selectors.balance_differences(tenant_id=tenant.id)
        gaps = selectors.numbering_gaps(tenant_id=tenant.id)
        for row in balances:
            self.stderr.write(
                f"account {row['code']} ({row['account_id']}): stored debit {row['stored_debit']} "
                f"vs lines {row['lines_debit']}, stored credit {row['stored_credit']} vs lines "
                f"{row['lines_credit']}, stored lines {row['stored_lines']} vs {row['lines']}"
            )
        for row in gaps:
            self.stderr.write(
                f"company {row['company']}: {row['posted']} posted entries, "
                f"{row['distinct_numbers']} distinct numbers, highest {row['max_number']}, "
                f"counter {row['counter']}"
            )
        if balances or gaps:
            raise CommandError(DIFFERENCES.format(n=len(balances) + len(gaps), slug=tenant.slug))
        self.stdout.write(
            self.style.SUCCESS(f"{tenant.slug}: balances and posting numbers reconcile.")
        )
