"""The CFO Trust Test, one command: seed the challenge tenants, attack them as the runtime
roles, run the governance checks, report. Exits non-zero unless every attack was blocked
exactly as expected and no governance check failed."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from assurance.signing import generate_signing_key, key_path
from assurance.trust import report
from assurance.trust.dataset import dataset_seed
from assurance.trust.phases import evidence_steps, governance_checks
from assurance.trust.runner import PASS, Result, all_attacks, run_attacks

FAILED = (
    "{failed} of {total} attacks were not blocked as expected; {checks} governance checks "
    "failed; {evidence} evidence steps failed."
)
DEV_KEY = (
    "No signing key configured: created a development key at {path} (checkpoints and the "
    "evidence pack are signed with it). In production set AIBOS_SIGNING_KEY_FILE."
)


class Command(BaseCommand):
    help = (
        "Seed the Trust Test tenants, run every attack as the runtime roles (each in a "
        "rolled-back transaction), record blocked attempts as security events, run the "
        "governance checks, write JSON and JUnit XML. Exit 1 if anything was not blocked."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--json", type=Path, default=None, help="Default: AIBOS_TRUST_TEST_RESULT."
        )
        parser.add_argument("--junit", type=Path, default=None, help="Default: beside the JSON.")
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
        json_path = Path(options["json"] or settings.TRUST_TEST_RESULT)
        junit_path = Path(options["junit"] or json_path.with_name("junit.xml"))
        self._ensure_signing_key()
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
            seed_seconds=seeded - started,
        )
        # The pack carries this run's attacks and checks: write them first, then export.
        run.seconds = time.perf_counter() - started
        report.write_json(run, json_path)
        run.evidence = evidence_steps(ds, json_path)
        run.seconds = time.perf_counter() - started
        for line in report.table(results):
            self.stdout.write(self._colour(line))
        self.stdout.write("")
        for line in report.summary(run):
            self.stdout.write(line)
        report.write_json(run, json_path)
        report.write_junit(run, junit_path)
        self.stdout.write(
            f"\nResults: {json_path}  JUnit: {junit_path}  "
            f"Elapsed: {run.seconds:.1f}s (seed {run.seed_seconds:.1f}s)"
        )
        if not run.ok:
            raise CommandError(
                FAILED.format(
                    failed=len(run.failed),
                    total=len(results),
                    checks=len(run.failed_checks),
                    evidence=len(run.failed_evidence),
                )
            )
        self.stdout.write(self.style.SUCCESS(f"All {len(results)} attacks blocked as expected."))

    def _ensure_signing_key(self) -> None:
        """A fresh clone has no key: make a development one where the default path points
        (git-ignored), unless a key file was configured explicitly (then its absence is an
        error the evidence step reports)."""
        if os.environ.get("AIBOS_SIGNING_KEY_FILE") or key_path().exists():
            return
        generate_signing_key(key_path())
        self.stderr.write(DEV_KEY.format(path=key_path()))

    def _dot(self, result: Result) -> None:
        self.stdout.write("." if result.verdict == PASS else "F", ending="")
        self.stdout.flush()

    def _colour(self, line: str) -> str:
        if line.endswith("  FAIL"):
            return self.style.ERROR(line)
        return line
