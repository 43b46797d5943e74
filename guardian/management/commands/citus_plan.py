"""``manage.py citus_plan [--database ALIAS] [--ddl] [--check] [--baseline FILE]``: the Citus
distribution plan for the live schema, every incompatibility and the DDL to fix it."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from guardian.catalog import read_catalog
from guardian.citus.plan import Plan, build_plan, render_ddl
from guardian.config import project_config

BASELINE = "citus-baseline.toml"
NEW_KEY_SHAPES = (
    "{count} key shape(s) Citus cannot distribute, not in {baseline}:\n{findings}\n"
    "Include tenant_id in the key (see the fix above each), or, if the table is not "
    "tenant-scoped, declare it in guardian.toml [global_tables]."
)
BASELINE_UNREADABLE = "cannot read {path}: {error}"


class Command(BaseCommand):
    help = (
        "Print the Citus distribution plan for the current schema (distributed by tenant_id, "
        "reference, local) and every incompatibility with its fix. Reads the catalog only; "
        "--check fails on key shapes (primary, unique, foreign keys) not in the baseline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="alias to read")
        parser.add_argument("--ddl", action="store_true", help="print the plan as one SQL script")
        parser.add_argument("--json", action="store_true", help="print the plan as JSON")
        parser.add_argument(
            "--check",
            action="store_true",
            help="exit non-zero when a key-shape incompatibility is not in the baseline",
        )
        parser.add_argument("--baseline", type=Path, default=None, help=f"default: {BASELINE}")

    def handle(self, *args: Any, **options: Any) -> None:
        governed = tuple(project_config().governed_schemas)
        catalog = read_catalog(connections[options["database"]], [*governed, "public"])
        plan = build_plan(catalog, governed=governed)
        if options["json"]:
            self.stdout.write(json.dumps(_as_dict(plan), indent=2))
        elif options["ddl"]:
            self.stdout.write(render_ddl(plan), ending="")
        else:
            self.stdout.write(_render(plan), ending="")
        if options["check"]:
            self._check(plan, options["baseline"] or Path(settings.BASE_DIR) / BASELINE)

    def _check(self, plan: Plan, path: Path) -> None:
        try:
            accepted = tomllib.loads(path.read_text()).get("accepted", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CommandError(BASELINE_UNREADABLE.format(path=path, error=exc)) from exc
        new = [f for f in plan.findings if f.key_shape and f.key not in accepted]
        if new:
            listed = "\n".join(f"  {f.key}: {f.detail}\n    fix: {f.fix}" for f in new)
            raise CommandError(
                NEW_KEY_SHAPES.format(count=len(new), baseline=path.name, findings=listed)
            )
        gone = sorted(set(accepted) - {f.key for f in plan.findings})
        for key in gone:
            self.stderr.write(f"note: {path.name} accepts {key}, which no longer occurs")
        self.stdout.write(f"citus_plan --check: no new key shapes ({len(accepted)} accepted)")


def _render(plan: Plan) -> str:
    lines = [*plan.notes, ""]
    for how in ("distributed", "reference", "local"):
        placed = plan.of(how)
        lines.append(f"{how} ({len(placed)}):")
        lines += [
            f"  {p.table}" + (f" by {p.column}" if p.column else "") + f"  -- {p.why}"
            for p in placed
        ]
        lines.append("")
    by_kind: dict[str, int] = {}
    for f in plan.findings:
        by_kind[f.kind] = by_kind.get(f.kind, 0) + 1
    summary = ", ".join(f"{k} {v}" for k, v in sorted(by_kind.items())) or "none"
    lines.append(f"incompatibilities ({len(plan.findings)}: {summary}):")
    for f in plan.findings:
        lines += [f"  [{f.kind}] {f.table} {f.name}", f"    {f.detail}", f"    fix: {f.fix}"]
    return "\n".join(lines) + "\n"


def _as_dict(plan: Plan) -> dict[str, Any]:
    return {
        "citus_installed": plan.citus_installed,
        "notes": list(plan.notes),
        "placements": [
            {"table": p.table, "how": p.how, "column": p.column, "why": p.why}
            for p in plan.placements
        ],
        "findings": [
            {
                "key": f.key,
                "kind": f.kind,
                "table": f.table,
                "name": f.name,
                "detail": f.detail,
                "fix": f.fix,
            }
            for f in plan.findings
        ],
    }
