"""The CFO Trust Test, one command: seed the challenge tenants, attack them as the runtime
roles, run the governance checks, report. Exits non-zero unless every attack was blocked
exactly as expected and no governance check failed."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from assurance.trust import report
from assurance.trust.dataset import dataset_seed
from assurance.trust.phases import evidence_steps, governance_checks
from assurance.trust.runner import PASS, Result, all_attacks, run_attacks

DEFAULT_DIR = Path("trust-test")
FAILED = (
    "{failed} of {total} attacks were not blocked as expected; {checks} governance checks failed."
)


class Command(BaseCommand):
    help = (
        "Seed the Trust Test tenants, run every attack as the runtime roles (each in a "
        "rolled-back transaction), record blocked attempts as security events, run the "
        "governance checks, write JSON and JUnit XML. Exit 1 if anything was not blocked."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", type=Path, default=DEFAULT_DIR / "results.json")
        parser.add_argument("--junit", type=Path, default=DEFAULT_DIR / "junit.xml")
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="PREFIX",
            help="Run only attacks whose name starts with PREFIX (repeatable).",
        )
        parser.add_argument("--list", action="store_true", help="List the attacks and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        attacks = [
            a
            for a in all_attacks()
            if not options["only"] or a.name.startswith(tuple(options["only"]))
        ]
        if options["list"]:
            for a in attacks:
                self.stdout.write(f"{a.name:<48} {a.layer:<13} {a.expect}  {','.join(a.tsc)}")
            return
        started, started_at = time.perf_counter(), dt.datetime.now(dt.UTC)
        run_id = f"trust-{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.stdout.write(f"CFO Trust Test {run_id}: seeding the challenge tenants ...")
        ds = dataset_seed()
        seeded = time.perf_counter()
        self.stdout.write(
            f"  {ds.a.tenant.slug} (attacker) and {ds.b.tenant.slug} (victim): ready in "
            f"{seeded - started:.1f}s; {len(attacks)} attacks, each in a rolled-back transaction\n"
        )
        results = run_attacks(ds, run_id=run_id, attacks=attacks, on_result=self._dot)
        self.stdout.write("")
        run = report.Run(
            run_id=run_id,
            started_at=started_at.isoformat(timespec="seconds"),
            database=str(connections["default"].settings_dict["NAME"]),
            tenants=[
                {"role": role, "slug": s.tenant.slug, "id": str(s.tenant.id)}
                for role, s in (("attacker", ds.a), ("victim", ds.b))
            ],
            results=results,
            checks=governance_checks(ds),
            evidence=evidence_steps(ds),
            seed_seconds=seeded - started,
        )
        run.seconds = time.perf_counter() - started
        for line in report.table(results):
            self.stdout.write(self._colour(line))
        self.stdout.write("")
        for line in report.summary(run):
            self.stdout.write(line)
        report.write_json(run, options["json"])
        report.write_junit(run, options["junit"])
        self.stdout.write(
            f"\nResults: {options['json']}  JUnit: {options['junit']}  "
            f"Elapsed: {run.seconds:.1f}s (seed {run.seed_seconds:.1f}s)"
        )
        if not run.ok:
            raise CommandError(
                FAILED.format(
                    failed=len(run.failed), total=len(results), checks=len(run.failed_checks)
                )
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(results)} attacks blocked as expected."))

    def _dot(self, result: Result) -> None:
        self.stdout.write("." if result.verdict == PASS else "F", ending="")
        self.stdout.flush()

    def _colour(self, line: str) -> str:
        if line.endswith("  FAIL"):
            return self.style.ERROR(line)
        return line
