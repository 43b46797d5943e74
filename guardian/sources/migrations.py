"""Django migrations: the SQL each operation would run (as ``sqlmigrate`` renders it), mapped
back to the migration, the operation and its line in the migration file."""

from __future__ import annotations

import ast as pyast
import contextlib
import inspect
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.migration import Migration
from django.db.migrations.state import ProjectState

from ..enforcement import ignore_from_mapping
from ..findings import Finding, Location
from ..rules import PARSE_ERROR, RENDER_ERROR
from ..sql import SqlParseError, split_statements
from . import Plan

ERR_RENDER = "could not render the SQL of {migration} operation {n} ({label}): {error}"


def operation_lines(migration: Migration) -> list[int]:
    """1-based line of each element of ``operations = [...]`` in the migration's file."""
    try:
        source = inspect.getsource(type(migration))
        start = inspect.getsourcelines(type(migration))[1]
    except (OSError, TypeError):
        return []
    for node in pyast.walk(pyast.parse(source)):
        if (
            isinstance(node, pyast.Assign)
            and any(isinstance(t, pyast.Name) and t.id == "operations" for t in node.targets)
            and isinstance(node.value, pyast.List | pyast.Tuple)
        ):
            return [start + e.lineno - 1 for e in node.value.elts]
    return []


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path(settings.BASE_DIR).resolve()))
    except ValueError:
        return path


def unapplied_plan(
    connection: BaseDatabaseWrapper, targets: list[tuple[str, str | None]] | None = None
) -> tuple[list[Migration], ProjectState]:
    """The migrations ``migrate`` would apply, and the project state before them."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    if any(backwards for _, backwards in plan):
        raise ValueError("the guardian checks forward plans only")
    state = executor._create_project_state(with_applied_migrations=True)  # type: ignore[attr-defined]
    return [m for m, _ in plan], state


def full_history(connection: BaseDatabaseWrapper) -> tuple[list[Migration], ProjectState]:
    """Every migration from an empty database (how a fresh deploy runs them)."""
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes(), clean_start=True)
    return [m for m, _ in plan], ProjectState(real_apps=set())


def plan_from_migrations(
    connection: BaseDatabaseWrapper, migrations: list[Migration], state: ProjectState
) -> Plan:
    plan = Plan()
    for migration in migrations:
        label = f"{migration.app_label}.{migration.name}"
        plan.units.append(label)
        path = _relative(inspect.getsourcefile(type(migration)) or "")
        lines = operation_lines(migration)
        base = Location("migration", path=path, migration=label)
        for entry in getattr(migration, "guardian_ignore", ()):
            plan.ignores.append(ignore_from_mapping(dict(entry), base))
        state = _render(connection, migration, state, plan, base, lines)
    return plan


def _render(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    state: ProjectState,
    plan: Plan,
    base: Location,
    lines: list[int],
) -> ProjectState:
    chunks: list[tuple[str, Location]] = []
    deferred_owner: dict[str, Location] = {}
    with connection.schema_editor(collect_sql=True, atomic=migration.atomic) as editor:
        for n, op in enumerate(migration.operations, start=1):
            loc = Location(
                "migration",
                path=base.path,
                migration=base.migration,
                operation=n,
                operation_label=op.describe(),
                line=lines[n - 1] if n <= len(lines) else 0,
            )
            new_state = state.clone()
            op.state_forwards(migration.app_label, new_state)
            if not op.reduces_to_sql:
                # RunPython changes data, not schema, and cannot be rendered without running it.
                state = new_state
                continue
            n_sql, n_deferred = len(editor.collected_sql), len(editor.deferred_sql)
            try:
                # In an atomic migration a savepoint, so that an introspection query that fails
                # does not abort the rest; a non-atomic one (CONCURRENTLY) runs outside any.
                guard = (
                    transaction.atomic(using=connection.alias)
                    if migration.atomic
                    else contextlib.nullcontext()
                )
                with guard:
                    op.database_forwards(migration.app_label, editor, state, new_state)
            except Exception as exc:
                # Rendering goes on with the next operation: one that Django cannot render
                # without the database in its earlier state must not hide the others.
                del editor.collected_sql[n_sql:]
                del editor.deferred_sql[n_deferred:]
                plan.findings.append(
                    Finding(
                        rule=RENDER_ERROR.id,
                        level=RENDER_ERROR.default,
                        message=ERR_RENDER.format(
                            migration=base.migration, n=n, label=op.describe(), error=exc
                        ),
                        object=_operation_table(op, migration.app_label, state) or base.migration,
                        location=loc,
                    )
                )
            chunks.extend((sql, loc) for sql in editor.collected_sql[n_sql:])
            for item in editor.deferred_sql[n_deferred:]:
                deferred_owner.setdefault(str(item).strip().rstrip(";"), loc)
            state = new_state
        n_before_exit = len(editor.collected_sql)
    # Deferred SQL (foreign keys, indexes, TableGovernance's grants, RLS and triggers) runs when
    # the schema editor closes; each statement belongs to the operation that deferred it.
    for sql in editor.collected_sql[n_before_exit:]:
        chunks.append((sql, deferred_owner.get(sql.strip().rstrip(";"), base)))
    for sql, loc in chunks:
        _add_sql(plan, sql, loc)
    return state


def _operation_table(op: Any, app_label: str, state: ProjectState) -> str | None:
    """``schema.table`` of the model an operation changes, when it names one."""
    name = getattr(op, "model_name", None) or getattr(op, "name", None)
    model = state.models.get((app_label, str(name).lower())) if name else None
    table = model.options.get("db_table") if model is not None else None
    if not table:
        return None
    schema, _, rel = str(table).replace('"', "").rpartition(".")
    return f"{schema or 'public'}.{rel}"


def _add_sql(plan: Plan, sql: str, loc: Location) -> None:
    if sql.lstrip().startswith("--"):
        lines = [ln for ln in sql.splitlines() if not ln.lstrip().startswith("--")]
        sql = "\n".join(lines)
        if not sql.strip():
            return
    try:
        plan.statements.extend(split_statements(sql, loc))
    except SqlParseError as exc:
        plan.findings.append(
            Finding(
                rule=PARSE_ERROR.id,
                level=PARSE_ERROR.default,
                message=str(exc),
                object=loc.migration,
                location=loc,
            )
        )
