"""Migration operations the guardian's fixes are written in: safe *and* idempotent.

Django's ``AddIndexConcurrently`` emits a bare ``CREATE INDEX CONCURRENTLY``: when a
``lock_timeout`` cancels the build it leaves an INVALID index behind, and every retry then
fails with "already exists" (PostHog/posthog#59096). These versions can run twice, and after a
failed run, without error. Renames go through expand/contract (``ExpandColumnRename`` now,
``ContractColumnRename`` a release later), which the running release survives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

DEFAULT_LOCK_TIMEOUT = "5s"


def _drop_invalid_index(schema_editor: Any, name: str) -> None:
    with schema_editor.connection.cursor() as cur:
        cur.execute(
            "SELECT n.nspname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND NOT i.indisvalid",
            [name],
        )
        row = cur.fetchone()
    if row:
        schema_editor.execute(
            f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(row[0])}."
            f"{schema_editor.quote_name(name)}"
        )


class AddIndexConcurrentlyIfNotExists(AddIndexConcurrently):
    """``CREATE INDEX CONCURRENTLY IF NOT EXISTS`` under a ``lock_timeout``, after dropping an
    INVALID leftover of the same name. Needs ``atomic = False`` on the migration."""

    def __init__(
        self, model_name: str, index: Any, lock_timeout: str = DEFAULT_LOCK_TIMEOUT
    ) -> None:
        super().__init__(model_name, index)
        self.lock_timeout = lock_timeout

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        name, args, kwargs = super().deconstruct()
        if self.lock_timeout != DEFAULT_LOCK_TIMEOUT:
            kwargs["lock_timeout"] = self.lock_timeout
        return name, args, kwargs

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        self._ensure_not_in_transaction(schema_editor)
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not schema_editor.collect_sql:
            _drop_invalid_index(schema_editor, self.index.name)
        sql = str(self.index.create_sql(model, schema_editor, concurrently=True))
        sql = sql.replace("INDEX CONCURRENTLY", "INDEX CONCURRENTLY IF NOT EXISTS", 1)
        schema_editor.execute(f"SET lock_timeout = '{self.lock_timeout}'")
        try:
            schema_editor.execute(sql)
        finally:
            schema_editor.execute("RESET lock_timeout")

    def describe(self) -> str:
        return super().describe() + " (if not exists)"


class AddConstraintNotValidIfNotExists(AddConstraintNotValid):
    """``ADD CONSTRAINT … NOT VALID`` that is a no-op when the constraint already exists;
    follow it with ``ValidateConstraint`` (which is idempotent) in a later migration."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        # AddConstraint's attributes; the stubs do not declare them.
        model_name: str = self.model_name  # type: ignore[attr-defined]
        constraint: Any = self.constraint  # type: ignore[attr-defined]
        model = from_state.apps.get_model(app_label, model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if not schema_editor.collect_sql:
            with schema_editor.connection.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s",
                    [schema_editor.quote_name(model._meta.db_table), constraint.name],
                )
                if cur.fetchone():
                    return
        super().database_forwards(app_label, schema_editor, from_state, to_state)


class _ColumnRenameStep(Operation):
    """Database-only; pair with ``SeparateDatabaseAndState`` so Django's state renames at once."""

    reduces_to_sql = True
    reversible = False

    def __init__(self, table: str, old: str, new: str) -> None:
        self.table, self.old, self.new = table, old, new

    def deconstruct(self) -> tuple[str, Sequence[Any], dict[str, Any]]:
        return (
            self.__class__.__qualname__,
            [],
            {"table": self.table, "old": self.old, "new": self.new},
        )

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        return None

    def _names(self, schema_editor: Any) -> dict[str, str]:
        schema, _, name = self.table.rpartition(".")
        q = schema_editor.quote_name
        base = f"{name}_{self.old}_{self.new}_sync"[:55]
        return {
            "table": f"{q(schema or 'public')}.{q(name)}",
            "old": q(self.old),
            "new": q(self.new),
            "function": f"{q(schema or 'public')}.{q(base + '_fn')}",
            "trigger": q(base),
        }


class ExpandColumnRename(_ColumnRenameStep):
    """Expand: add ``new`` beside ``old`` (same type), copy the values, and keep the two in step
    with a trigger, so the release still running (writing ``old``) and the new one (writing
    ``new``) both work. Every statement is idempotent."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        n = self._names(schema_editor)
        with schema_editor.connection.cursor() as cur:
            cur.execute(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attname = %s AND NOT attisdropped",
                [n["table"], self.old],
            )
            row = cur.fetchone()
        if row is None:
            raise ValueError(f"{self.table} has no column {self.old}")
        column_type = row[0]
        schema_editor.execute(
            f"ALTER TABLE {n['table']} ADD COLUMN IF NOT EXISTS {n['new']} {column_type}"
        )
        schema_editor.execute(
            f"UPDATE {n['table']} SET {n['new']} = {n['old']} WHERE {n['new']} IS DISTINCT FROM {n['old']}"
        )
        schema_editor.execute(
            f"""CREATE OR REPLACE FUNCTION {n["function"]}() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.{n["new"]} IS NULL THEN NEW.{n["new"]} := NEW.{n["old"]};
    ELSIF NEW.{n["old"]} IS NULL THEN NEW.{n["old"]} := NEW.{n["new"]};
    END IF;
  ELSIF NEW.{n["old"]} IS DISTINCT FROM OLD.{n["old"]} THEN
    NEW.{n["new"]} := NEW.{n["old"]};
  ELSIF NEW.{n["new"]} IS DISTINCT FROM OLD.{n["new"]} THEN
    NEW.{n["old"]} := NEW.{n["new"]};
  END IF;
  RETURN NEW;
END $$"""
        )
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {n['trigger']} ON {n['table']}")
        schema_editor.execute(
            f"CREATE TRIGGER {n['trigger']} BEFORE INSERT OR UPDATE ON {n['table']} "
            f"FOR EACH ROW EXECUTE FUNCTION {n['function']}()"
        )

    def describe(self) -> str:
        return f"Expand: add {self.new} beside {self.old} on {self.table}, kept in step"


class ContractColumnRename(_ColumnRenameStep):
    """Contract, in a later release once nothing reads ``old``: drop the trigger and ``old``."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        n = self._names(schema_editor)
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {n['trigger']} ON {n['table']}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {n['function']}()")
        schema_editor.execute(f"ALTER TABLE {n['table']} DROP COLUMN IF EXISTS {n['old']}")

    def describe(self) -> str:
        return f"Contract: drop {self.old} from {self.table} (renamed to {self.new})"
