"""One guardian run: gather the statements (migrations, files or the live catalog), judge them
against the live database's state, and apply the configured levels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.db import connections
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from .catalog import Catalog
from .config import GuardianConfig, project_config
from .enforcement import Verdict, enforce, load_baseline
from .engine import analyse, analyse_state
from .findings import INFO, Finding
from .rules import RENDER_ERROR
from .sources import Plan
from .sources.files import plan_from_files
from .sources.live import check_catalog, live_state
from .sources.migrations import full_history, plan_from_migrations, unapplied_plan
from .sources.sampling import sample_dependencies
from .state import SchemaState


@dataclass
class Run:
    verdict: Verdict
    units: list[str]
    environment: str
    config: GuardianConfig


def environment() -> str:
    return str(settings.AIBOS_ENVIRONMENT)


def baseline_path(config: GuardianConfig) -> Path:
    path = Path(config.baseline)
    if not path.is_absolute():
        base = Path(config.path).parent if config.path else Path(settings.BASE_DIR)
        path = base / path
    return path


def judge(
    plan: Plan,
    state: SchemaState | None,
    config: GuardianConfig,
    *,
    env: str | None = None,
    acknowledged: Iterable[str] = (),
    today: dt.date | None = None,
    check_stale: bool = False,
) -> Run:
    env = env or environment()
    state = state or SchemaState()
    findings = analyse(plan.statements, state, config)
    for f in plan.findings:
        # An operation Django could not render on a table this same plan creates changes a table
        # that holds no rows yet (its other operations were rendered and judged).
        t = state.table(f.object)
        if f.rule == RENDER_ERROR.id and t is not None and t.new:
            f = f.with_level(INFO, "table created in this plan")
        findings.append(f)
    verdict = enforce(
        findings,
        config,
        env,
        baseline=load_baseline(baseline_path(config)),
        ignores=plan.ignores,
        acknowledged=acknowledged,
        today=today,
        check_stale=check_stale,
    )
    return Run(verdict=verdict, units=plan.units, environment=env, config=config)


def run_migrations(
    *,
    database: str = "default",
    migrations: tuple[list[Migration], ProjectState] | None = None,
    history: bool = False,
    acknowledged: Iterable[str] = (),
    env: str | None = None,
    config: GuardianConfig | None = None,
) -> Run:
    """The unapplied plan (what ``migrate`` would run), or the whole history from empty."""
    connection = connections[database]
    config = config or project_config()
    if migrations is None:
        migrations = full_history(connection) if history else unapplied_plan(connection)
    plan = plan_from_migrations(connection, *migrations)
    # A fresh deploy judges against an empty database; a plan against what is there now.
    state = SchemaState() if history else live_state(connection)
    return judge(plan, state, config, env=env, acknowledged=acknowledged, check_stale=history)


def run_files(
    paths: Sequence[str | Path],
    *,
    database: str | None = "default",
    acknowledged: Iterable[str] = (),
    env: str | None = None,
    config: GuardianConfig | None = None,
) -> Run:
    config = config or project_config()
    state = live_state(connections[database]) if database else SchemaState()
    return judge(plan_from_files(paths), state, config, env=env, acknowledged=acknowledged)


def run_live(
    *,
    database: str = "default",
    acknowledged: Iterable[str] = (),
    env: str | None = None,
    config: GuardianConfig | None = None,
    sample: bool = False,
) -> Run:
    """The live catalog as it stands; ``sample`` also reads rows for the 3NF hint."""
    config = config or project_config()
    env = env or environment()
    state = live_state(connections[database])
    findings = analyse_state(state, config)
    if sample:
        findings += sample_dependencies(connections[database], state, config)
    verdict = enforce(
        findings,
        config,
        env,
        baseline=load_baseline(baseline_path(config)),
        acknowledged=acknowledged,
        check_stale=False,
    )
    return Run(
        verdict=verdict,
        units=[f"database {connections[database].settings_dict['NAME']}"],
        environment=env,
        config=config,
    )


def findings_by_table(
    catalog: Catalog, environment: str = "production"
) -> dict[str, list[Finding]]:
    """The live findings the schema document lists per table, at one fixed environment's levels
    (the strictest, so the document does not change with the machine that writes it); accepted
    findings say so and why."""
    config = project_config()
    verdict = enforce(
        check_catalog(catalog, config),
        config,
        environment,
        baseline=load_baseline(baseline_path(config)),
        check_stale=False,
    )
    out: dict[str, list[Finding]] = {}
    for f in verdict.findings:
        if f.level == "info":
            continue
        table = ".".join(f.object.split(":", 1)[0].split("~", 1)[0].split(".")[:2])
        shown = replace(f, message=f"{f.message} Accepted — {f.accepted}") if f.accepted else f
        out.setdefault(table, []).append(shown)
    return out
