"""Print the compliance mapping (SOC 2, HIPAA) with the live check behind each control.

    python manage.py compliance_report [--format md|json]

Exit status 1 when a control is failing (a control nothing evidences is reported, not failed).
"""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from assurance.compliance import FAILING, as_markdown, compliance_report


class Command(BaseCommand):
    help = "Compliance mapping generated from live checks."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--format", choices=("md", "json"), default="md")

    def handle(self, *args: Any, **options: Any) -> None:
        report = compliance_report()
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, indent=2, sort_keys=True))
        else:
            self.stdout.write(as_markdown(report))
        if report["summary"][FAILING]:
            raise CommandError(f"{report['summary'][FAILING]} controls failing")
