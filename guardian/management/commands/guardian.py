"""``manage.py guardian``: the Schema Guardian on demand (exit 1 when a finding stops)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from guardian.config import ConfigError
from guardian.enforcement import baseline_toml
from guardian.reporting import FORMATS, to_text
from guardian.runner import run_files, run_live, run_migrations


class Command(BaseCommand):
    help = (
        "Check SQL files, the unapplied migrations (the default), the whole migration history "
        "(--history) or the live database (--live) against the guardian's rules."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="*", help=".sql files or folders of them")
        what = parser.add_mutually_exclusive_group()
        what.add_argument("--live", action="store_true", help="judge the live catalog")
        what.add_argument(
            "--history", action="store_true", help="every migration, as a fresh deploy runs them"
        )
        parser.add_argument(
            "--sample",
            action="store_true",
            help="with --live: sample rows for third-normal-form hints (reads data; counts only)",
        )
        parser.add_argument("--format", choices=sorted(FORMATS), default="text")
        parser.add_argument("--database", default="default")
        parser.add_argument(
            "--env", help="environment whose levels apply (default: AIBOS_ENVIRONMENT)"
        )
        parser.add_argument(
            "--ack", action="append", default=[], metavar="FINDING_ID", help="acknowledge a warning"
        )
        parser.add_argument(
            "--show-info", action="store_true", help="text format: list info findings too"
        )
        parser.add_argument(
            "--write-baseline",
            metavar="FILE",
            help="write a baseline accepting the findings that stop now (reasons left for you to fill)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["paths"] and (opts["live"] or opts["history"]):
            raise CommandError("give .sql paths, --live or --history, not several")
        if opts["sample"] and not opts["live"]:
            raise CommandError("--sample reads live rows: use it with --live")
        common = {"acknowledged": opts["ack"], "env": opts["env"]}
        try:
            if opts["live"]:
                run = run_live(database=opts["database"], sample=opts["sample"], **common)
            elif opts["paths"]:
                run = run_files(opts["paths"], database=opts["database"], **common)
            else:
                run = run_migrations(database=opts["database"], history=opts["history"], **common)
        except ConfigError as exc:
            raise CommandError(str(exc)) from exc
        except FileNotFoundError as exc:
            raise CommandError(f"no such file: {exc.filename}") from exc
        if opts["write_baseline"]:
            with open(opts["write_baseline"], "w") as fh:
                fh.write(baseline_toml(run.verdict.stopping))
        if opts["format"] == "text":
            self.stdout.write(to_text(run, show_info=opts["show_info"]))
        else:
            self.stdout.write(FORMATS[opts["format"]](run))
        if not run.verdict.ok:
            raise SystemExit(1)
