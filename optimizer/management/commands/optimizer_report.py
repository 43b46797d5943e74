"""``manage.py optimizer_report [--format text|json|sarif]``: the Query Optimizer's findings.

Workload sources: pg_stat_statements (through the monitor role) when the server has it, a
capture file written by the capture middleware, and/or a workload file of
``{"sql", "calls", "mean_ms"}`` JSON lines. ``--record`` stores the findings as recommendations
(the admin lists them); ``--apply`` then builds the index ones: automatically on a development
machine, and only the approved ones elsewhere.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from aibos.actors import Actor
from aibos.errors import ApplicationError
from optimizer import services
from optimizer.models import INDEX_RULE, Recommendation
from optimizer.report import RENDERERS, build_report
from optimizer.workload import (
    from_sql,
    merge,
    pgss_status,
    read_pg_stat_statements,
)

# Platform-level work has no tenant; the nil UUID stands for "the platform" in the actor.
PLATFORM = uuid.UUID(int=0)


def load_capture_file(path: Path) -> list[Any]:
    """Capture lines -> workload entries (one per line; grouped by fingerprint later)."""
    entries = []
    offsets: dict[str, list[int]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        entries.append((row["sql"], 1, float(row["ms"])))
        if row.get("offset") is not None:
            offsets.setdefault(row["sql"], []).append(int(row["offset"]))
    workload = from_sql(entries)
    by_sql = {q.sql: q for q in workload}
    for sql, depths in offsets.items():
        if sql in by_sql:
            by_sql[sql].offsets += depths
    return workload


BAD_FILE = "{path}: {error}"
BAD_LINE = "{path} line {n}: {why} (each line: a JSON object with sql, calls, mean_ms)"
BAD_ALIAS = "--alias {pair!r}: expected SCHEMA=ALIAS with ALIAS one of {known}"


def _workload_file(path: Any) -> Any:
    """A workload file, every line checked: a clear error naming the line, never a traceback."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(BAD_FILE.format(path=path, error=exc)) from exc
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows.append((str(row["sql"]), int(row["calls"]), float(row["mean_ms"])))
        except ValueError as exc:
            raise CommandError(BAD_LINE.format(path=path, n=n, why=exc)) from exc
        except (KeyError, TypeError) as exc:
            raise CommandError(
                BAD_LINE.format(path=path, n=n, why=f"missing or wrong field {exc}")
            ) from exc
    return from_sql(rows)


class Command(BaseCommand):
    help = "Report index, pagination, scan, tenant-predicate and N+1 findings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
        parser.add_argument("--workload", type=Path, help="JSON lines: sql, calls, mean_ms")
        parser.add_argument("--capture-file", type=Path, help="the capture middleware's file")
        parser.add_argument("--no-pgss", action="store_true", help="skip pg_stat_statements")
        parser.add_argument("--budget", type=float, help="search time budget, seconds")
        parser.add_argument(
            "--alias",
            action="append",
            default=[],
            metavar="SCHEMA=ALIAS",
            help="evaluate a schema outside kernel/finance/config on this alias's role",
        )
        parser.add_argument("--record", action="store_true", help="store as recommendations")
        parser.add_argument("--apply", action="store_true", help="build index recommendations")
        parser.add_argument("--check-usage", action="store_true", help="idx_scan of applied ones")

    def handle(self, *args: Any, **opts: Any) -> None:
        actor = Actor.for_command(PLATFORM, "optimizer_report")
        sources = []
        notes: list[str] = []
        if not opts["no_pgss"]:
            status = pgss_status("monitor")
            if status.loaded and status.installed:
                pgss, read_notes = read_pg_stat_statements("monitor")
                sources.append(pgss)
                notes += read_notes
            else:
                notes.append(status.message)
        if opts["capture_file"]:
            try:
                sources.append(load_capture_file(opts["capture_file"]))
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise CommandError(BAD_FILE.format(path=opts["capture_file"], error=exc)) from exc
        if opts["workload"]:
            sources.append(_workload_file(opts["workload"]))
        schema_aliases = {}
        for pair in opts["alias"]:
            schema, sep, alias = pair.partition("=")
            if not sep or not schema or alias not in connections:
                raise CommandError(
                    BAD_ALIAS.format(pair=pair, known=", ".join(sorted(connections)))
                )
            schema_aliases[schema] = alias
        report = build_report(
            workload=merge(*sources),
            notes=notes,
            budget_seconds=opts["budget"],
            schema_aliases=schema_aliases,
        )
        self.stdout.write(RENDERERS[opts["format"]](report), ending="")
        if opts["record"] or opts["apply"]:
            services.recommendations_record(findings=report.findings, actor=actor)
        if opts["apply"]:
            for rec in Recommendation.objects.using(services.ALIAS).filter(
                rule=INDEX_RULE, status__in=["open", "approved"]
            ):
                try:
                    services.recommendation_apply(recommendation=rec, actor=actor)
                    self.stderr.write(f"applied {rec.index_name}")
                except ApplicationError as exc:
                    self.stderr.write(f"not applied {rec.index_name}: {exc.message}")
        if opts["check_usage"]:
            for rec in services.recommendations_check_usage(actor=actor):
                self.stderr.write(f"unused: {rec.index_name} (removal proposed)")
