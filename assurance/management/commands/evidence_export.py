"""Export one tenant's signed, deterministic evidence pack (ZIP) and optionally verify it.

    python manage.py evidence_export --tenant acme [--from 2026-01-01 --to 2026-12-31] \\
        --out acme-evidence.zip [--verify]
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from argparse import ArgumentParser, ArgumentTypeError
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assurance.evidence import export_pack
from assurance.evidence import verify as pack_verify
from assurance.evidence.export import COMPRESS_LEVEL
from kernel.models import Tenant


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from exc


class Command(BaseCommand):
    help = "Export a tenant's signed evidence pack (audit chain, ledger, payments, governance)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--from", dest="start", type=_date, help="First day (inclusive).")
        parser.add_argument("--to", dest="end", type=_date, help="Last day (inclusive).")
        parser.add_argument("--out", type=Path, required=True, help="ZIP file to write.")
        parser.add_argument("--verify", action="store_true", help="Run the pack's verifier after.")
        parser.add_argument(
            "--compress-level", type=int, default=COMPRESS_LEVEL, choices=range(0, 10)
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # call_command() passes options unparsed: accept strings as the command line would.
        start, end = (
            _date(v) if isinstance(v, str) else v for v in (options["start"], options["end"])
        )
        if start and end and start > end:
            raise CommandError(f"--from {start} is after --to {end}.")
        tenant = Tenant.objects.using("default").filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"Unknown tenant slug {options['tenant']!r}.")
        out = Path(options["out"])
        if out.is_dir():
            raise CommandError(f"--out {out} is a directory; name the ZIP file to write.")
        if not out.parent.is_dir():
            raise CommandError(f"{out.parent} is not a directory.")
        # Written beside, renamed when complete: a failed export leaves no partial pack.
        partial = out.with_name(f".{out.name}.partial")
        began = time.monotonic()

        def progress(name: str, rows: int) -> None:
            sys.stderr.write(f"\r  {name}: {rows} rows")
            sys.stderr.flush()

        try:
            result = export_pack(
                tenant.id,
                tenant.slug,
                partial,
                start=start,
                end=end,
                progress=progress,
                compress_level=options["compress_level"],
            )
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
        sys.stderr.write("\n")
        chain = result.manifest["chain"]
        self.stdout.write(
            f"wrote {out} ({out.stat().st_size} bytes) in {time.monotonic() - began:.1f} s: "
            f"{chain['events']} audit events (seq {chain['first_seq']}..{chain['last_seq']}), "
            f"{len(result.manifest['checkpoints'])} checkpoints, "
            f"{chain['unsealed_events_in_period']} events not yet sealed, gaps {chain['gaps']}"
        )
        if options["verify"]:
            report = pack_verify.verify(str(out))
            for line in report.failures:
                self.stdout.write(f"  FAIL {line}")
            if report.failures:
                raise CommandError(f"the pack does NOT verify: {len(report.failures)} failures")
            self.stdout.write(self.style.SUCCESS(f"verified: {len(report.passed)} checks passed"))
